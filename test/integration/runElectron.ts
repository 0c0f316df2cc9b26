// Runs the same integration suite in a desktop VS Code with @vscode/test-electron (the ecosystem's
// standard runner), for machines that have one: `npm run test:electron`. It downloads VS Code unless
// VSCODE_EXECUTABLE_PATH points at an installed one; offline machines use runCodeServer.ts instead.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { repoRoot } from '../support/codeServer';

async function main(): Promise<number> {
  const temp = mkdtempSync(join(tmpdir(), 'bg-agent-electron-'));
  try {
    const workspace = join(temp, 'workspace');
    mkdirSync(workspace);
    const extensionTestsEnv: Record<string, string> = { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' };
    if (process.env.BG_AGENT_RESULTS_FILE) extensionTestsEnv.BG_AGENT_RESULTS_FILE = process.env.BG_AGENT_RESULTS_FILE;
    if (process.env.BG_AGENT_GREP) extensionTestsEnv.BG_AGENT_GREP = process.env.BG_AGENT_GREP;
    return await runTests({
      version: '1.99.3',
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE_PATH || undefined,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(repoRoot, 'out', 'test', 'integration', 'index.js'),
      extensionTestsEnv,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', join(temp, 'user-data'), '--extensions-dir', join(temp, 'extensions')],
    });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test:electron: ${error instanceof Error ? error.message : String(error)}`);
    if (!process.env.VSCODE_EXECUTABLE_PATH) {
      console.error('test:electron: it downloads VS Code unless VSCODE_EXECUTABLE_PATH names an installed one; offline, use `npm run test:integration` (code-server).');
    }
    process.exit(1);
  },
);
