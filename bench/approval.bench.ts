// The cost of command approval (issue 9, "Measure"): the shell parser's load in a fresh process (it loads
// on the first command, never on activation), the time to judge one command over the test table
// (p50/p99, parser warm), the memory it takes, and what it adds to what ships: the approval code in the
// production bundles (esbuild's metafile) and the parser's files in dist/tree-sitter (raw and deflated,
// as the VSIX zips them).
//   node out/bench/approval.bench.js   (or `npm run bench -- approval`)
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { ApprovalPolicy } from '../src/core/approval/approvalPolicy';
import { findParserDir, loadShellParser } from '../src/core/approval/shellParser';
import { COMMAND_TABLE } from '../test/support/commandTable';
import { percentile, runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const ROUNDS = 200;
const TARGET_LOAD_MS = 200;
const TARGET_P99_MS = 2;
const KiB = 1024;

const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** Bytes the approval code (and the diff library it uses) takes in a minified production bundle. */
async function bundleShare(entry: string): Promise<{ total: number; approval: number }> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    minify: true,
    write: false,
    metafile: true,
    mainFields: ['module', 'main'],
    // As esbuild.config.mjs: the owner guard's shell script is bundled as text.
    loader: { '.sh': 'text' },
    logLevel: 'silent',
  });
  const [output] = Object.values(result.metafile.outputs);
  let approval = 0;
  for (const [path, input] of Object.entries(output.inputs)) {
    if (/src\/core\/approval\/|node_modules\/diff\/|src\/vscode\/approval\/|src\/vscode\/chat\/(chatApprovals|approvalIndicators|proposedChanges)\.ts|src\/cli\/cliApprover\.ts/.test(path)) approval += input.bytesInOutput;
  }
  return { total: output.bytes, approval };
}

async function run(): Promise<BenchResult> {
  const dir = findParserDir(join(__dirname, '..', '..', 'dist'));
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const parser = await loadShellParser(dir);
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  parser.parse('git status && npm test').dispose();
  const firstParseMs = performance.now() - t1;
  const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;

  const policy = new ApprovalPolicy({ mode: 'ask', allowCommands: ['echo'], denyCommands: ['git push'], trusted: true }, { parser: () => Promise.resolve(parser), shell: 'bash' });
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const entry of COMMAND_TABLE) {
      const start = performance.now();
      await policy.judgeCommand(entry.command);
      times.push(performance.now() - start);
    }
  }
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);

  const extension = await bundleShare('src/extension.ts');
  const cli = await bundleShare('src/cli/main.ts');
  const files = ['tree-sitter.js', 'tree-sitter.wasm', 'tree-sitter-bash.wasm'].map((f) => join(dir, f));
  const raw = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const deflated = files.reduce((sum, f) => sum + deflateRawSync(readFileSync(f), { level: 9 }).length, 0);

  return {
    'parser load (fresh process) ms': loadMs,
    [`  target < ${TARGET_LOAD_MS} ms`]: verdict(loadMs < TARGET_LOAD_MS),
    'first parse ms': firstParseMs,
    'RSS after load, growth MiB': rssGrowthMiB,
    'commands judged': times.length,
    'judge p50 ms': p50,
    'judge p99 ms': p99,
    [`  target p99 < ${TARGET_P99_MS} ms`]: verdict(p99 < TARGET_P99_MS),
    'extension.js (prod) KiB': extension.total / KiB,
    '  of it approval code KiB': extension.approval / KiB,
    'cli.js (prod) KiB': cli.total / KiB,
    '  of it approval code KiB ': cli.approval / KiB,
    'dist/tree-sitter raw KiB (loaded on first command)': raw / KiB,
    'dist/tree-sitter deflated KiB (in the VSIX)': deflated / KiB,
  };
}

export const approvalBench: BenchModule = { name: 'command approval', run };

if (require.main === module) runAsScript(approvalBench);
