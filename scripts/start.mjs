// `npm start [-- [--port N] [folder]]`: a real VS Code (code-server 4.99.4) on 127.0.0.1 with Background
// Agent loaded from this repo, opening `folder` (default: the folder you ran npm in). Installs what is
// missing and builds first. ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL pass through to the extension.
// User data lives in .vscode-test/user-data so settings and stored secrets survive restarts.
// Ctrl-C stops code-server and everything it started (its whole process group).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
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

async function main() {
  ensureNodeModules();
  ensureDebianPackages();
  ensureCodeServer();
  const build = spawnSync(process.execPath, ['esbuild.config.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed (node esbuild.config.mjs)');

  const userDataDir = join(cacheDir, 'user-data');
  const extensionsDir = join(cacheDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
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
  const remote = (path) => `vscode-remote://${HOST}:${chosenPort}${path}`;
  const payload = [['extensionDevelopmentPath', remote(repoRoot)]];
  const url = `${baseUrl}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const key = process.env.ANTHROPIC_API_KEY ? 'ANTHROPIC_API_KEY is set' : 'no ANTHROPIC_API_KEY (use "Background Agent: Set API Key")';
  console.log(`\nBackground Agent is running in VS Code (code-server) for ${folder}\n${key}${process.env.ANTHROPIC_BASE_URL ? `, ANTHROPIC_BASE_URL=${process.env.ANTHROPIC_BASE_URL}` : ''}\n\n  Open: ${url}\n\nCtrl-C stops it.`);
}

main().catch((error) => {
  console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
