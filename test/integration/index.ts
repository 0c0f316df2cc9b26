// Entry point VS Code loads inside the real extension host (payload `extensionTestsPath`, or
// @vscode/test-electron's `extensionTestsPath`): runs every out/test/integration/**/*.test.js with mocha.
// Test files are mocha BDD files that `import * as vscode from 'vscode'`; they are bundled from
// test/integration/*.test.ts by `node esbuild.config.mjs --tests`.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { filesEndingWith, INTEGRATION_START_MARKER as START_MARKER, runMocha } from '../support/mochaRun';

export const EXTENSION_ID = 'background-agent.background-agent';

export async function run(): Promise<void> {
  // Whether activation loads the shell parser of command approval (it must not: it loads on the
  // first command), recorded right after activating, before any test can judge a command.
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  await extension?.activate();
  const parser = extension ? join(extension.extensionPath, 'dist', 'tree-sitter', 'tree-sitter.js') : '';
  process.env.BG_AGENT_PARSER_LOADED_AT_ACTIVATION = String(parser in require.cache);
  const files = filesEndingWith(__dirname, '.test.js');
  if (files.length === 0) throw new Error(`no integration test files (*.test.js) under ${__dirname}: run \`node esbuild.config.mjs --tests\``);
  // The runner hides the workbench's console chatter until this marker (see runCodeServer.ts).
  console.log(`${START_MARKER} ${files.length} test file(s)`);
  const results = await runMocha({
    files,
    timeoutMs: 60_000,
    resultsFile: process.env.BG_AGENT_RESULTS_FILE,
    grep: process.env.BG_AGENT_GREP,
  });
  console.log(`integration: ${results.passed} passed, ${results.failed} failed`);
  if (results.failed > 0) throw new Error(`${results.failed} integration test(s) failed`);
}
