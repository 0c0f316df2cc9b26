// Where a worker thread's own bundle is (esbuild.config.mjs builds each beside the extension's).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `name` beside the running bundle (dist/), or, for tests and benchmarks bundled to out/, in the dist/ of
 * the package above them (the build makes dist/ first).
 */
export function workerBundlePath(name: string): string {
  const beside = join(__dirname, name);
  if (existsSync(beside)) return beside;
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'dist', name);
    if (existsSync(candidate)) return candidate;
  }
  return beside;
}
