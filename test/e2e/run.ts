// Runs every out/test/e2e/**/*.e2e.js with mocha in plain Node. Each e2e file brings its own workbench
// through `useWorkbench()` (test/support/codeServer.ts documents the convention).
//   node out/test/e2e/run.js            (npm run test:e2e builds first; BG_AGENT_GREP filters by title)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir, settleWorkbenches } from '../support/codeServer';
import { filesEndingWith, runMocha } from '../support/mochaRun';

async function main(): Promise<number> {
  const files = filesEndingWith(__dirname, '.e2e.js');
  if (files.length === 0) throw new Error(`no e2e test files (*.e2e.js) under ${__dirname}: run \`node esbuild.config.mjs --tests\``);
  // Screenshots are per run: old ones would mislead.
  rmSync(join(resultsDir, 'e2e'), { recursive: true, force: true });
  const results = await runMocha({
    files,
    timeoutMs: 120_000,
    resultsFile: process.env.BG_AGENT_RESULTS_FILE,
    grep: process.env.BG_AGENT_GREP,
    color: process.stdout.isTTY,
  });
  await settleWorkbenches();
  console.log(`e2e: ${results.passed} passed, ${results.failed} failed (screenshots in ${join(resultsDir, 'e2e')})`);
  return results.failed > 0 ? 1 : 0;
}

// Ctrl-C: exit through 'exit' hooks, which kill every code-server the fixtures started.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`e2e: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
