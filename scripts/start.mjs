// `npm start [-- [--port N] [folder]]`: a real VS Code (code-server 4.99.4) on 127.0.0.1 with Background
// Agent loaded from this repo, opening `folder` (default: the folder you ran npm in). Installs what is
// missing and builds first. ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL pass through to the extension.
// User data lives in .vscode-test/user-data so settings and stored secrets survive restarts; extensions in
// ~/.cache/background-agent/ (see extensionsDirFor).
// Ctrl-C stops code-server and everything it started (its whole process group).
//
// Every URL printed opens `folder` with the extension loaded, including code-server's own
// "HTTP server listening on http://127.0.0.1:PORT/" line, which people open first:
// - the freshly built extension is *installed* into code-server's --extensions-dir on each start
//   (installDevExtension below), instead of being passed as `extensionDevelopmentPath` in a URL's
//   `payload`, which only the one URL we print carried. That dir is outside the repo (see
//   extensionsDirFor): VS Code turns off every extension that lives inside an untrusted workspace
//   folder, and the repo is the folder `npm start` opens by default;
// - the folder is code-server's positional argument, and --ignore-last-opened makes `/` redirect to it
//   (by default code-server reopens the folder of the previous visit, stored in user-data/coder.json).
// Filtering code-server's output down to one URL was the alternative: fragile (it prints URLs in other
// places and versions) and a bookmarked or retyped http://127.0.0.1:PORT/ would still be wrong.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureNodeModules } from './ensure-deps.mjs';
import { cacheDir, codeServerEntry, ensureDebianPackages, ensureCodeServer, repoRoot } from './install-vscode.mjs';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 8080;

function usage(message) {
  if (message) console.error(`start: ${message}`);
  console.error('usage: npm start -- [--port N] [folder]');
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({ options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
})();
if (values.help) usage();
if (positionals.length > 1) usage('give at most one folder');
// npm runs scripts in the package folder; INIT_CWD is where the person typed `npm start`.
const callerCwd = process.env.INIT_CWD ?? process.cwd();
const folder = resolve(callerCwd, positionals[0] ?? '.');
if (!existsSync(folder) || !statSync(folder).isDirectory()) usage(`not a folder: ${folder}`);
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) usage(`not a port: ${values.port}`);

function portIsFree(candidate) {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(candidate, HOST, () => server.close(() => done(true)));
  });
}

async function choosePort() {
  if (port !== undefined) {
    if (!(await portIsFree(port))) usage(`port ${port} on ${HOST} is in use`);
    return port;
  }
  if (await portIsFree(DEFAULT_PORT)) return DEFAULT_PORT;
  // Default taken (another code-server?): any free port rather than failing.
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, HOST, () => {
      const chosen = server.address().port;
      server.close(() => done(chosen));
    });
  });
}

async function waitUntilReady(baseUrl, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('code-server did not become ready within 60 s');
}

/**
 * Where code-server keeps extensions: ~/.cache/background-agent/code-server-extensions-<hash of this repo's
 * path> (or under $XDG_CACHE_HOME). Not in .vscode-test/ like the user data: VS Code 1.99 disables any
 * extension whose folder is inside a workspace folder that is not trusted yet (extensionEnablementService:
 * `isInsideWorkspace(extension.location)`), so with the repo open (the default) Background Agent would
 * stay off in Restricted Mode, where it is meant to run with limited rights.
 */
function extensionsDirFor() {
  const xdg = process.env.XDG_CACHE_HOME;
  const cacheHome = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  const repoHash = createHash('sha256').update(repoRoot).digest('hex').slice(0, 8);
  return join(cacheHome, 'background-agent', `code-server-extensions-${repoHash}`);
}

function isInside(child, parent) {
  const path = relative(parent, child);
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}

/** What the VSIX ships (see .vscodeignore), source maps included for readable stack traces. */
const EXTENSION_FILES = ['package.json', 'dist', 'media', 'README.md', 'LICENSE', 'CHANGELOG.md'];

/**
 * Installs the built extension into `extensionsDir` the way VS Code 1.99 itself would install a VSIX,
 * so that every window of this code-server loads it. VS Code 1.99 loads only the extensions listed in
 * the dir's `extensions.json` (it scans the folders only when that file is missing, once), so:
 * - copy the shipped files to `<publisher>.<name>-<version>/` (staged in a `.`-folder, which VS Code
 *   skips, then renamed in). A copy, not a symlink to the repo: an "Uninstall" in the UI deletes the
 *   extension's folder, and through a symlink Node's require() sees the repo's real path, which VS Code
 *   may not match to the extension (it finds the extension behind a `require('vscode')` by file path);
 * - replace our entry in `extensions.json` (other entries are kept). Rewriting it on every start also
 *   changes its mtime, which is what invalidates VS Code's cached scan of the manifests, so changes to
 *   package.json show up too. `pinned` keeps VS Code from "updating" it from the marketplace;
 * - drop it from `.obsolete`, where an uninstall in the UI would have left it.
 * About 20 MB of copying, well under a second.
 */
function installDevExtension(extensionsDir) {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const id = `${manifest.publisher}.${manifest.name}`;
  const folderName = `${id}-${manifest.version}`;
  const sameId = (other) => typeof other === 'string' && other.toLowerCase() === id.toLowerCase();
  const isOurFolder = (name) => name.toLowerCase().startsWith(`${id.toLowerCase()}-`) && /^\d/.test(name.slice(id.length + 1));

  const staging = join(extensionsDir, `.${folderName}.staging`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  for (const entry of EXTENSION_FILES) {
    const source = join(repoRoot, entry);
    if (existsSync(source)) cpSync(source, join(staging, entry), { recursive: true });
  }
  // This and any older version of it (after a version bump).
  for (const name of readdirSync(extensionsDir)) {
    if (isOurFolder(name)) rmSync(join(extensionsDir, name), { recursive: true, force: true });
  }
  const target = join(extensionsDir, folderName);
  renameSync(staging, target);

  const profile = join(extensionsDir, 'extensions.json');
  let entries = [];
  if (existsSync(profile)) {
    try {
      const parsed = JSON.parse(readFileSync(profile, 'utf8') || '[]');
      if (Array.isArray(parsed)) entries = parsed;
      else console.warn(`start: ${profile} is not a list; rewriting it with only Background Agent`);
    } catch {
      console.warn(`start: ${profile} is not valid JSON; rewriting it with only Background Agent`);
    }
  }
  entries = entries.filter((entry) => !sameId(entry?.identifier?.id));
  entries.push({
    identifier: { id },
    version: manifest.version,
    location: { $mid: 1, path: target, scheme: 'file' },
    relativeLocation: folderName,
    metadata: { installedTimestamp: Date.now(), pinned: true, source: 'vsix' },
  });
  writeFileSync(profile, JSON.stringify(entries));

  const obsolete = join(extensionsDir, '.obsolete');
  if (existsSync(obsolete)) {
    try {
      const removed = JSON.parse(readFileSync(obsolete, 'utf8'));
      const kept = Object.fromEntries(Object.entries(removed).filter(([key]) => !isOurFolder(key)));
      if (Object.keys(kept).length === 0) rmSync(obsolete);
      else writeFileSync(obsolete, JSON.stringify(kept));
    } catch {
      rmSync(obsolete);
    }
  }
  return target;
}

async function main() {
  ensureNodeModules();
  ensureDebianPackages();
  ensureCodeServer();
  const build = spawnSync(process.execPath, ['esbuild.config.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed (node esbuild.config.mjs)');

  const userDataDir = join(cacheDir, 'user-data');
  const extensionsDir = extensionsDirFor();
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  installDevExtension(extensionsDir);
  const settings = join(userDataDir, 'User', 'settings.json');
  // First start only: no welcome tab, no gallery calls. Later edits by the person are kept.
  if (!existsSync(settings)) writeFileSync(settings, JSON.stringify({ 'workbench.startupEditor': 'none', 'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false }, null, 2));

  const chosenPort = await choosePort();
  const baseUrl = `http://${HOST}:${chosenPort}`;
  const args = [
    codeServerEntry,
    '--auth', 'none',
    '--bind-addr', `${HOST}:${chosenPort}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--ignore-last-opened',
    folder,
  ];
  // Own process group: Ctrl-C here stops code-server, its extension host and whatever they started.
  const child = spawn(process.execPath, args, { cwd: folder, env: process.env, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  let stopping = false;
  const groupAlive = () => {
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  // SIGTERM to code-server alone: its extension host sees it go and deactivates Background Agent, which
  // kills the background tasks (each in its own process group). Then, after at most 10 s, the rest of the group.
  const stop = (exitCode) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping code-server…');
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    const deadline = Date.now() + 10_000;
    const poll = setInterval(() => {
      if (groupAlive() && Date.now() < deadline) return;
      clearInterval(poll);
      killGroup();
      process.exit(exitCode);
    }, 100);
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('exit', killGroup);
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`code-server exited (${code})`);
      process.exit(code ?? 1);
    }
  });

  await waitUntilReady(baseUrl, child);
  // The plain root: it opens `folder` with the extension (see the top of this file).
  const url = `${baseUrl}/`;
  const trustNote = isInside(extensionsDir, folder)
    ? `\nnote: the extension is installed in ${extensionsDir}, inside this folder, so VS Code turns it on only once you trust the folder`
    : '';
  const key = process.env.ANTHROPIC_API_KEY ? 'ANTHROPIC_API_KEY is set' : 'no ANTHROPIC_API_KEY (use "Background Agent: Set API Key")';
  console.log(`\nBackground Agent is running in VS Code (code-server) for ${folder}${trustNote}\n${key}${process.env.ANTHROPIC_BASE_URL ? `, ANTHROPIC_BASE_URL=${process.env.ANTHROPIC_BASE_URL}` : ''}\n\n  Open: ${url}\n\nCtrl-C stops it.`);
}

main().catch((error) => {
  console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
