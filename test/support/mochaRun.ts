// Runs a set of compiled mocha test files and writes a small results file, so `npm test` can sum the
// layers into one "N passed, N failed" line. Used inside the extension host (integration) and in Node (e2e).
import Mocha from 'mocha';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** First line the integration suite prints inside the extension host; the runner shows output from here on. */
export const INTEGRATION_START_MARKER = '[integration] running';

export interface LayerResults {
  passed: number;
  failed: number;
  skipped: number;
  failures: { title: string; error: string }[];
}

/** Every file under `dir` (recursively) whose name ends with `suffix`, sorted for a stable order. */
export function filesEndingWith(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((relative) => relative.endsWith(suffix))
    .map((relative) => join(dir, relative))
    .sort();
}

export interface RunMochaOptions {
  files: string[];
  /** Per-test timeout. */
  timeoutMs: number;
  /** Where to write LayerResults as JSON (npm test passes BG_AGENT_RESULTS_FILE). */
  resultsFile?: string;
  /** Only tests whose full title matches (BG_AGENT_GREP). */
  grep?: string;
  color?: boolean;
}

/** Resolves with the results; never rejects for failing tests (the caller decides the exit code). */
export function runMocha(options: RunMochaOptions): Promise<LayerResults> {
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', timeout: options.timeoutMs, color: options.color ?? false });
  if (options.grep) mocha.grep(options.grep);
  for (const file of options.files) mocha.addFile(file);
  const results: LayerResults = { passed: 0, failed: 0, skipped: 0, failures: [] };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run(() => {
        if (options.resultsFile) {
          mkdirSync(dirname(options.resultsFile), { recursive: true });
          writeFileSync(options.resultsFile, JSON.stringify(results, null, 2));
        }
        resolve(results);
      });
      runner.on('pass', () => (results.passed += 1));
      runner.on('pending', () => (results.skipped += 1));
      // 'fail' also fires for failing hooks: each counts, so a broken before() is never a silent pass.
      runner.on('fail', (test, error: unknown) => {
        results.failed += 1;
        results.failures.push({ title: test.fullTitle(), error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      });
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
