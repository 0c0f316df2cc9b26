// Makes sure node_modules matches package-lock.json before anything else runs: `npm ci` when it is
// missing or older than the lock file (npm writes node_modules/.package-lock.json after every install).
// Only Node built-ins here: this runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './install-vscode.mjs';

export function ensureNodeModules() {
  const lock = join(repoRoot, 'package-lock.json');
  const installed = join(repoRoot, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return false;
  console.log(`[deps] node_modules ${existsSync(installed) ? 'is older than package-lock.json' : 'is missing'}: npm ci`);
  const started = Date.now();
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm ci failed (exit ${result.status ?? result.signal})`);
  console.log(`[deps] npm ci took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return true;
}
