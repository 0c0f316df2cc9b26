// Runs the integration suite inside a real VS Code extension host served by code-server, the runner
// used here and in CI (no desktop VS Code, no download). Chromium opens the workbench with the payload
// `extensionTestsPath`; VS Code calls our exposed `codeAutomationExit(code)` when index.ts's run() settles.
//   node out/test/integration/runCodeServer.js        (npm run test:integration builds first)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openWorkbench, printAutomationLog, repoRoot, resultsDir, startCodeServer, type CodeServer, type Workbench } from '../support/codeServer';
import { INTEGRATION_START_MARKER as START_MARKER } from '../support/mochaRun';

const TIMEOUT_MS = 10 * 60_000;

async function main(): Promise<number> {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workbench: Workbench | undefined;
  let passed = false;
  try {
    const env: Record<string, string> = {};
    for (const name of ['BG_AGENT_RESULTS_FILE', 'BG_AGENT_GREP']) if (process.env[name]) env[name] = process.env[name];
    server = await startCodeServer({ env, label: 'integration' });
    browser = await launchChromium();
    // Until index.ts prints its start marker, console output is the workbench's own chatter
    // (connection logs, the unreachable extension gallery): keep it, show it only if the run fails.
    const chatter: [string, unknown[]][] = [];
    let started = false;
    const onLog = (type: string, args: unknown[]): void => {
      if (!started && typeof args[0] === 'string' && args[0].startsWith(START_MARKER)) started = true;
      if (started) printAutomationLog(type, args);
      else chatter.push([type, args]);
    };
    workbench = await openWorkbench(browser, server, { extensionTestsPath: join(repoRoot, 'out', 'test', 'integration', 'index.js'), onLog });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), TIMEOUT_MS)));
    const code = await Promise.race([workbench.automationExit, timedOut]);
    clearTimeout(timer);
    if (code === -1) {
      console.error(`integration: the extension host did not finish within ${TIMEOUT_MS / 60_000} min. Extension host log:\n${server.extensionHostLog().slice(-5000)}`);
    }
    passed = code === 0;
    if (!passed && !started) {
      console.error('integration: the tests never started. Workbench console:');
      for (const [type, args] of chatter) printAutomationLog(type, args);
    }
    if (!passed) {
      const dir = join(resultsDir, 'integration');
      mkdirSync(dir, { recursive: true });
      await workbench.page.screenshot({ path: join(dir, 'FAILED-workbench.png') }).catch(() => undefined);
    }
    return passed ? 0 : 1;
  } finally {
    await workbench?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop({ keepFiles: !passed });
  }
}

// Ctrl-C: exit through 'exit' hooks, which kill the code-server process group.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`integration: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
