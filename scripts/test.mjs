// THE test command (`npm test`, README's and CI's): installs what is missing (npm packages, Debian
// packages, code-server), then runs typecheck, lint, build, unit, integration and e2e in that order,
// stops at the first failing layer, and ends with one summary line: "N passed, N failed".
//
//   node scripts/test.mjs                    every layer
//   node scripts/test.mjs unit integration   only these test layers (after the build)
//   BG_AGENT_GREP=<regex>                    only mocha tests whose title matches (integration, e2e)
//
// With CI=true a missing browser or VS Code fails the run; elsewhere it is reported and the layers
// that need it are skipped loudly.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNodeModules } from './ensure-deps.mjs';
import { ensureVscode, repoRoot } from './install-vscode.mjs';

const ALL = ['typecheck', 'lint', 'build', 'unit', 'integration', 'e2e'];
const TEST_LAYERS = ['unit', 'integration', 'e2e'];
const NEEDS_VSCODE = ['integration', 'e2e'];
const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');

const requested = process.argv.slice(2).filter((arg) => arg !== '--');
for (const name of requested) {
  if (!ALL.includes(name)) fail(`unknown layer "${name}" (layers: ${ALL.join(', ')})`);
}
// Asking for test layers still builds first: they run the bundles.
const layers = requested.length === 0 ? ALL : ALL.filter((name) => name === 'build' || requested.includes(name));

const totals = { passed: 0, failed: 0, skipped: 0 };
const timings = [];
const temp = mkdtempSync(join(tmpdir(), 'bg-agent-test-'));
const startedAll = Date.now();

/** Stops the run. A step that fails without failing tests (install, typecheck, lint, build) counts as one failure, so the summary never reads "0 failed" for a red run. */
function fail(message) {
  if (totals.failed === 0) totals.failed = 1;
  console.error(`\n✗ ${message}`);
  process.exitCode = 1;
  finish();
}

function finish() {
  rmSync(temp, { recursive: true, force: true });
  const seconds = ((Date.now() - startedAll) / 1000).toFixed(0);
  console.log(`\n${timings.join(' · ')}${timings.length ? ' · ' : ''}total ${seconds} s${totals.skipped ? ` · ${totals.skipped} skipped` : ''}`);
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  process.exit(process.exitCode ?? 0);
}

function step(name, fn) {
  console.log(`\n━━ ${name} ━━`);
  const started = Date.now();
  fn();
  timings.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function run(name, command, args, env = {}) {
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function addCounts(layer, counts, status) {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  console.log(`${layer}: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
  if (status !== 0 || counts.failed > 0) fail(`${layer} tests failed: stopping here`);
}

/** node:test's TAP summary ends with "# pass N", "# fail N", … */
function parseTap(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo'), found: text.length > 0 };
}

function readResults(file, status, layer) {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  // The runner died before mocha finished: that is one failure, not zero tests.
  console.error(`${layer}: no results were written (the runner failed before or while running the tests)`);
  return { passed: 0, failed: status === 0 ? 0 : 1, skipped: 0 };
}

/**
 * A test file that was deleted or renamed must not keep running from an old bundle. Removing out/ before
 * building would do it too, but would pull the bundles from under anyone running tests in the same tree.
 */
function removeStaleTestBundles() {
  const outTest = join(repoRoot, 'out', 'test');
  if (!existsSync(outTest)) return;
  for (const relative of readdirSync(outTest, { recursive: true, encoding: 'utf8' })) {
    const match = /^(.*)\.js(\.map)?$/.exec(relative);
    if (match && !existsSync(join(repoRoot, 'test', `${match[1]}.ts`))) rmSync(join(outTest, relative), { force: true });
  }
}

const layerSteps = {
  typecheck: () => run('typecheck', process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', '.']) === 0 || fail('typecheck failed (tsc --noEmit)'),
  lint: () => run('lint', process.execPath, [join(repoRoot, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']) === 0 || fail('lint failed (eslint .)'),
  build: () => {
    if (run('build', process.execPath, ['esbuild.config.mjs', '--tests']) !== 0) fail('build failed (node esbuild.config.mjs --tests)');
    removeStaleTestBundles();
  },
  unit: () => {
    const dir = join(repoRoot, 'out', 'test', 'unit');
    const files = existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(dir, f)) : [];
    if (files.length === 0) {
      console.log('unit: no test files');
      return;
    }
    const tap = join(temp, 'unit.tap');
    const status = run('unit', process.execPath, ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files]);
    const counts = parseTap(tap);
    if (!counts.found && status !== 0) counts.failed += 1;
    addCounts('unit', counts, status);
  },
  integration: () => {
    const results = join(temp, 'integration.json');
    const status = run('integration', process.execPath, [join(repoRoot, 'out', 'test', 'integration', 'runCodeServer.js')], { BG_AGENT_RESULTS_FILE: results });
    addCounts('integration', readResults(results, status, 'integration'), status);
  },
  e2e: () => {
    const results = join(temp, 'e2e.json');
    const status = run('e2e', process.execPath, [join(repoRoot, 'out', 'test', 'e2e', 'run.js')], { BG_AGENT_RESULTS_FILE: results });
    addCounts('e2e', readResults(results, status, 'e2e'), status);
  },
};

try {
  step('install', () => {
    ensureNodeModules();
    if (!layers.some((name) => NEEDS_VSCODE.includes(name))) return;
    try {
      ensureVscode();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (ci) fail(`CI: a real VS Code and browser are required.\n${message}`);
      console.warn(`\n⚠ ${message}\n⚠ SKIPPING the integration and e2e layers (they need code-server and Chromium). With CI=true this fails.`);
      for (const name of NEEDS_VSCODE) if (layers.includes(name)) layers.splice(layers.indexOf(name), 1);
    }
  });
  for (const name of layers) step(name, layerSteps[name]);
  if (!layers.some((name) => TEST_LAYERS.includes(name))) console.log('(no test layers ran)');
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
finish();
