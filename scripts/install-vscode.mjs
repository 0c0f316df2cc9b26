// Installs everything a real VS Code needs on this machine, offline except for npm and apt:
// the Debian packages (chromium, libkrb5-dev, ripgrep) and code-server 4.99.4 (VS Code 1.99 on Node 20)
// into the git-ignored cache .vscode-test/. Idempotent: a marker file makes later runs take milliseconds.
//
//   node scripts/install-vscode.mjs          install if needed, print where code-server is
//
// Why by hand: code-server's own postinstall downloads ripgrep and prebuilt binaries from GitHub, which
// is unreachable here. We install with --ignore-scripts and do its steps with local replacements
// (see the notes in real-vscode-offline.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, renameSync, writeFileSync, readFileSync, copyFileSync, symlinkSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.99.4';
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = join(repoRoot, '.vscode-test');
const installDir = join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
const markerPath = join(installDir, '.installed.json');
/** What the marker must say: native modules are built for one Node ABI, so a Node upgrade reinstalls. */
const expectedMarker = { codeServer: CODE_SERVER_VERSION, nodeAbi: process.versions.modules, platform: `${process.platform}-${process.arch}` };

/** Entry point of the installed code-server (run it with `node`). */
export const codeServerEntry = join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Debian package -> a file it provides, to check without dpkg. */
const DEBIAN_PACKAGES = {
  chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  'libkrb5-dev': '/usr/include/krb5.h',
  ripgrep: '/usr/bin/rg',
};
export const chromiumPath = process.env.CHROMIUM_PATH || DEBIAN_PACKAGES.chromium;
const ripgrepPath = DEBIAN_PACKAGES.ripgrep;

function log(message) {
  console.log(`[install-vscode] ${message}`);
}

function run(command, args, cwd, extraEnv = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...extraEnv } });
  if (result.status !== 0) {
    throw new Error(`\`${command} ${args.join(' ')}\` in ${cwd} failed (exit ${result.status ?? result.signal})`);
  }
  log(`  ${command} ${args.join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** Installs the missing Debian packages as root; elsewhere throws with exactly what to install. */
export function ensureDebianPackages() {
  if (process.env.CHROMIUM_PATH && !existsSync(process.env.CHROMIUM_PATH)) {
    throw new Error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist (unset it to use Debian's /usr/bin/chromium)`);
  }
  const missing = Object.entries(DEBIAN_PACKAGES)
    .filter(([, file]) => !existsSync(file))
    .map(([name]) => name);
  if (missing.length === 0) return;
  const isDebian = existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isDebian || !isRoot) {
    const how = isDebian
      ? `sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`
      : `install these with your package manager: ${missing.join(', ')} (Chromium/Chrome, MIT Kerberos headers, ripgrep); ` +
        'set CHROMIUM_PATH if your Chromium is not /usr/bin/chromium';
    throw new Error(`missing system packages: ${missing.join(', ')}.\n  Run: ${how}`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  // The lock timeout waits for another apt run instead of failing on its lock.
  const apt = ['-o', 'DPkg::Lock::Timeout=600'];
  run('apt-get', [...apt, 'update'], '/');
  run('apt-get', [...apt, 'install', '-y', '--no-install-recommends', ...missing], '/', { DEBIAN_FRONTEND: 'noninteractive' });
}

function markerMatches() {
  try {
    const marker = JSON.parse(readFileSync(markerPath, 'utf8'));
    return Object.entries(expectedMarker).every(([key, value]) => marker[key] === value) && existsSync(codeServerEntry);
  } catch {
    return false;
  }
}

/** Installs code-server into the cache unless the marker says it is there already. */
export function ensureCodeServer() {
  if (markerMatches()) return codeServerEntry;
  const started = Date.now();
  log(`installing code-server ${CODE_SERVER_VERSION} into ${installDir} (first run only, a few minutes)`);
  // Build in a side folder and rename at the end: an interrupted install never looks finished.
  const partial = `${installDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, 'package.json'), JSON.stringify({ name: 'code-server-cache', private: true }) + '\n');
  const npm = 'npm';
  const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
  run(npm, ['install', `code-server@${CODE_SERVER_VERSION}`, '--ignore-scripts', ...quiet], partial);

  const codeServerDir = join(partial, 'node_modules', 'code-server');
  const vscodeDir = join(codeServerDir, 'lib', 'vscode');
  run(npm, ['install', '--omit=dev', '--ignore-scripts', ...quiet], vscodeDir);
  // @vscode/ripgrep's postinstall would download rg from GitHub: use Debian's.
  const rgTarget = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  mkdirSync(dirname(rgTarget), { recursive: true });
  copyFileSync(ripgrepPath, rgTarget);
  chmodSync(rgTarget, 0o755);
  // node-pty's install runs `npx node-gyp`, which would stop to ask without npm_config_yes.
  run(npm, ['rebuild', 'kerberos', '@vscode/spdlog', 'node-pty', 'native-watchdog', '@vscode/deviceid', ...quiet], vscodeDir, { npm_config_yes: 'true' });
  // VS Code loads its node_modules through the .asar path name; code-server's postinstall links it the same way.
  const asarLink = join(vscodeDir, 'node_modules.asar');
  if (!existsSync(asarLink)) symlinkSync('node_modules', asarLink);
  run(npm, ['install', '--omit=dev', '--ignore-scripts', ...quiet], join(vscodeDir, 'extensions'));
  // Without --build-from-source node-pre-gyp tries to fetch a prebuilt argon2 from GitHub.
  run(npm, ['rebuild', 'argon2', '--build-from-source', ...quiet], partial);

  writeFileSync(join(partial, '.installed.json'), JSON.stringify({ ...expectedMarker, installedAt: new Date().toISOString() }, null, 2) + '\n');
  rmSync(installDir, { recursive: true, force: true });
  renameSync(partial, installDir);
  log(`code-server ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return codeServerEntry;
}

/** Everything a real VS Code layer needs: system packages, then code-server. Returns the paths. */
export function ensureVscode() {
  ensureDebianPackages();
  ensureCodeServer();
  return { codeServerEntry, chromiumPath };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const paths = ensureVscode();
    log(`code-server: ${paths.codeServerEntry}`);
    log(`chromium:    ${paths.chromiumPath}`);
  } catch (error) {
    console.error(`[install-vscode] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
