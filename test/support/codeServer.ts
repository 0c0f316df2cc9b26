/**
 * THE harness for every test layer that needs a real VS Code: code-server 4.99.4 (VS Code 1.99, real
 * Node extension host) driven by Debian's Chromium through playwright-core. Nothing here is mocked.
 *
 * ## What it gives you
 * - `startCodeServer(options)`: code-server on 127.0.0.1 and a free port, with a fresh user-data and
 *   extensions folder under one temp folder, the extension under development loaded from this repo (dist/),
 *   waited on until it answers. `stop()` kills its whole process group (also from a process `exit` hook,
 *   so a crashed runner leaves nothing behind) and deletes the temp folder.
 *   `env` is added to code-server's environment and so to the extension host. ANTHROPIC_* variables from
 *   your shell are NOT passed on: by default tests get ANTHROPIC_API_KEY=`test-key` and an
 *   ANTHROPIC_BASE_URL that refuses connections, so no test can ever reach the real API by accident.
 *   Point the extension at a scripted server with `env: { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: 'test-key' }`
 *   (see scriptedServer.ts), or with `settings: { 'backgroundAgent.baseUrl': server.url }`.
 * - `launchChromium()` and `openWorkbench(server, …)`: a page on the workbench; `codeAutomationLog` and
 *   `codeAutomationExit` are exposed to the page, which is how VS Code reports `extensionTestsPath` runs.
 * - `useWorkbench(options)`: the e2e fixture for mocha (below).
 *
 * ## The e2e convention (test/e2e/*.e2e.ts)
 * Each e2e file is a plain mocha BDD file that runs in Node (not in VS Code). `npm run test:e2e` bundles
 * it to out/test/e2e/*.e2e.js and test/e2e/run.ts runs every such file with mocha. A file asks for a
 * workbench in its `describe`; the fixture starts its own code-server and page before the tests and
 * stops both after them (also when they fail):
 *
 *   import * as assert from 'node:assert/strict';   // playwright-core has no `expect`: use assert + locator.waitFor()
 *   import { useWorkbench } from '../support/codeServer';
 *   describe('Chat view', function () {
 *     const wb = useWorkbench({ env: () => ({ ANTHROPIC_BASE_URL: scripted.url, ANTHROPIC_API_KEY: 'test-key' }) });
 *     it('shows the Chat view', async () => {
 *       await wb.page.locator('[aria-label^="Background Agent"]').first().click();
 *       await wb.screenshot('chat-open');       // -> test-results/e2e/<file>/<n>-chat-open.png
 *     });
 *   });
 *
 * `env`, `settings` and `workspace` may be functions, evaluated in the `before` hook (so they can use a
 * server another `before` hook started). Tests in one `describe` share one workbench and run in order.
 * The `after` hook closes the page at once; code-server's clean shutdown (a few seconds, while the
 * extension host deactivates the extension and it kills its tasks) overlaps the next file, and the
 * runner waits for all of them before it exits (`settleWorkbenches`).
 * Screenshots of each step go to test-results/ (git-ignored, cleared by the runner); a failing test adds
 * a `FAILED-…` screenshot. Integration tests (test/integration/*.test.ts) instead run *inside* the
 * extension host with the `vscode` API; see test/integration/index.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { format } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CODE_SERVER_VERSION = '4.99.4';

/** The repo root: the folder holding this project's package.json (works from src and from out/). */
export const repoRoot: string = findRepoRoot(__dirname);

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'background-agent') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the background-agent repo above ${start}`);
  }
}

export const codeServerEntry = join(repoRoot, '.vscode-test', `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** A missing VS Code or browser is always a failure, never a skip: the message says how to fix it. */
function requireInstalled(): void {
  if (!existsSync(codeServerEntry)) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed at ${codeServerEntry}. Run: node scripts/install-vscode.mjs (npm test does this)`);
  }
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is missing at ${chromiumPath}. Run: node scripts/install-vscode.mjs (installs Debian's chromium), or set CHROMIUM_PATH`);
  }
}

type Lazy<T> = T | (() => T);
const evaluate = <T>(value: Lazy<T>): T => (typeof value === 'function' ? (value as () => T)() : value);

export interface CodeServerOptions {
  /** Folder to open. Default: a fresh empty folder inside the temp folder. */
  workspace?: string;
  /** Added to code-server's (and the extension host's) environment. */
  env?: Record<string, string>;
  /** Written to the fresh user settings.json (on top of quiet defaults). */
  settings?: Record<string, unknown>;
  /** Extension loaded as under development (payload). Default: this repo. `null`: none (e.g. VSIX tests). */
  extensionDevelopmentPath?: string | null;
  /** VSIX files installed into the fresh extensions folder with `--install-extension` before starting. */
  installVsix?: string[];
  /** Prefix for code-server's log lines on failure. */
  label?: string;
  /**
   * Workspace trust on, as `npm start` and a person have it (the folder then opens untrusted, with VS Code's
   * trust prompt). Off by default: tests that are not about trust should not meet the prompt.
   */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  readonly port: number;
  readonly baseUrl: string;
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly extensionDevelopmentPath: string | null;
  /** code-server's own stdout+stderr so far (also in `<temp>/code-server.log`). */
  output(): string;
  /** Workbench URL with the payload that loads the extension (and runs `extensionTestsPath` if given). */
  workbenchUrl(options?: { extensionTestsPath?: string }): string;
  /** Text of the extension host logs in the user-data folder (activation shows up here). */
  extensionHostLog(): string;
  /** Kills the whole process group and deletes the temp folder (`keepFiles`: keep it, and say where). */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

/** Quiet defaults: no welcome page, no trust prompt, no update checks, nothing that needs the network. */
const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
/** SIGTERM goes to code-server alone (see stop()); SIGKILL to its whole process group. */
function signalCodeServer(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(signal === 'SIGKILL' ? -child.pid : child.pid, signal);
  } catch {
    // Already gone.
  }
}
/**
 * Last line of defence: a runner that dies without calling stop() still stops its code-servers. An exit
 * hook cannot wait, so it asks code-server to shut down (letting the extension kill its tasks) and leaves
 * a detached reaper that kills whatever is left of the group ten seconds later.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      if (child.pid === undefined) continue;
      signalCodeServer(child, 'SIGTERM');
      spawn('sh', ['-c', `sleep 10; kill -9 -${child.pid} 2>/dev/null`], { detached: true, stdio: 'ignore' }).unref();
    }
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function runToExit(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolveRun(out) : reject(new Error(`${basename(command)} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Never leak a developer's real key or endpoint into a test's VS Code.
  for (const name of Object.keys(env)) if (name.startsWith('ANTHROPIC_')) delete env[name];
  // Port 9 (discard) on loopback refuses connections: an unscripted request fails fast and loudly.
  return { ...env, ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', ...extra };
}

async function waitUntilReady(baseUrl: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${baseUrl}/healthz within ${timeoutMs / 1000} s:\n${output()}`);
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  requireInstalled();
  installExitHook();
  const tempRoot = mkdtempSync(join(tmpdir(), 'bg-agent-code-server-'));
  const userDataDir = join(tempRoot, 'user-data');
  const extensionsDir = join(tempRoot, 'extensions');
  const workspace = resolve(options.workspace ?? join(tempRoot, 'workspace'));
  const extensionDevelopmentPath = options.extensionDevelopmentPath === undefined ? repoRoot : options.extensionDevelopmentPath;
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  const trust = options.workspaceTrust ? { 'security.workspace.trust.enabled': true } : {};
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...trust, ...options.settings }, null, 2));
  const env = childEnv(options.env);
  const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of options.installVsix ?? []) {
    await runToExit(process.execPath, [codeServerEntry, ...dirs, '--install-extension', resolve(vsix)], env);
  }

  // A free port can be taken by someone else before code-server binds it: then try another one.
  for (let attempt = 1; ; attempt += 1) {
    const server = launch(await freePort());
    try {
      await server.ready;
      return server.api;
    } catch (error) {
      const retry = server.portTaken() && attempt < 3;
      if (retry) await server.halt();
      else {
        await server.api.stop({ keepFiles: true });
        throw error;
      }
    }
  }

  function launch(port: number): { api: CodeServer; ready: Promise<void>; portTaken: () => boolean; halt: () => Promise<void> } {
    const baseUrl = `http://127.0.0.1:${port}`;
    const args = [
      codeServerEntry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      ...dirs,
      workspace,
    ];
    // Its own process group, so stop() can kill code-server, its extension host and everything they spawned.
    const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const logFile = createWriteStream(join(tempRoot, 'code-server.log'), { flags: 'a' });
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
      logFile.write(chunk);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', () => running.delete(child));

    let halting: Promise<void> | undefined;
    let stopping: Promise<void> | undefined;
    const halt = (): Promise<void> => (halting ??= haltOnce());
    const stop = ({ keepFiles = false }: { keepFiles?: boolean } = {}): Promise<void> =>
      (stopping ??= halt().then(() => {
        if (keepFiles) console.log(`[codeServer] kept ${tempRoot} (code-server.log, user-data/logs)`);
        else rmSync(tempRoot, { recursive: true, force: true, maxRetries: 3 });
      }));
    const haltOnce = async (): Promise<void> => {
      // SIGTERM to code-server alone, not its group: its extension host then sees its parent go and
      // deactivates the extension, which kills the background tasks (each in its own process group, out
      // of our reach). Signalling the whole group would kill the extension host first and orphan them.
      signalCodeServer(child, 'SIGTERM');
      await waitForGroupToEnd(child.pid, 10_000);
      // Then whatever is left in the group.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Group already empty.
        }
      }
      await exited;
      running.delete(child);
      await new Promise<void>((r) => logFile.end(() => r()));
    };

    const api: CodeServer = {
      port,
      baseUrl,
      workspace,
      userDataDir,
      extensionsDir,
      extensionDevelopmentPath,
      output: () => output,
      workbenchUrl({ extensionTestsPath } = {}) {
        const remote = (path: string): string => `vscode-remote://127.0.0.1:${port}${resolve(path)}`;
        const payload: [string, string][] = [['skipWelcome', 'true']];
        if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
        if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
        return `${baseUrl}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
      },
      extensionHostLog: () => readLogs(join(userDataDir, 'logs'), /exthost/i),
      stop,
    };
    const ready = waitUntilReady(baseUrl, child, () => `${options.label ?? 'code-server'}: ${output}`, 60_000);
    return { api, ready, portTaken: () => /EADDRINUSE/.test(output), halt };
  }
}

/** Resolves once no process is left in the process group `pgid` (or after `timeoutMs`). */
async function waitForGroupToEnd(pgid: number | undefined, timeoutMs: number): Promise<void> {
  if (pgid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return; // ESRCH: the group is empty.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Concatenates every log file under `dir` whose path matches `pattern`. */
function readLogs(dir: string, pattern: RegExp): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((relative) => join(dir, relative))
    .filter((path) => pattern.test(path) && path.endsWith('.log'))
    .map((path) => readFileSync(path, 'utf8'))
    .join('\n');
}

/** Flags for Debian's Chromium as root on a machine without internet (see notes/real-vscode-offline.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launchChromium(): Promise<Browser> {
  requireInstalled();
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
}

export interface Workbench {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Resolves with the code VS Code passes to `codeAutomationExit` (0 = `run()` passed). */
  readonly automationExit: Promise<number>;
  close(): Promise<void>;
}

export interface OpenWorkbenchOptions {
  extensionTestsPath?: string;
  /** Receives the test extension host's console output (`codeAutomationLog`). Default: print it. */
  onLog?: (type: string, args: unknown[]) => void;
}

/** Opens the workbench in a fresh browser context and waits until the workbench is on screen. */
export async function openWorkbench(browser: Browser, server: CodeServer, options: OpenWorkbenchOptions = {}): Promise<Workbench> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const onLog = options.onLog ?? ((type: string, args: unknown[]) => printAutomationLog(type, args));
  let exitWith: (code: number) => void = () => undefined;
  const automationExit = new Promise<number>((r) => (exitWith = r));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => onLog(type, Array.isArray(args) ? args : [args]));
  await page.exposeFunction('codeAutomationExit', (code: number) => exitWith(Number(code)));
  await page.goto(server.workbenchUrl({ extensionTestsPath: options.extensionTestsPath }));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return { page, context, automationExit, close: () => context.close() };
}

/** Prints what `codeAutomationLog` receives (console output of the workbench and the test extension host). */
export function printAutomationLog(type: string, args: unknown[]): void {
  const text = format(...args);
  if (type === 'error') process.stderr.write(`${text}\n`);
  else process.stdout.write(`${text}\n`);
}

/** Where screenshots go: test-results/ is git-ignored and cleared by the runners. */
export const resultsDir = join(repoRoot, 'test-results');

export interface WorkbenchFixture {
  readonly page: Page;
  readonly server: CodeServer;
  readonly browser: Browser;
  /** Saves a numbered screenshot of the whole page for this file and returns its path. */
  screenshot(name: string): Promise<string>;
}

export interface UseWorkbenchOptions {
  env?: Lazy<Record<string, string>>;
  settings?: Lazy<Record<string, unknown>>;
  workspace?: Lazy<string | undefined>;
  extensionDevelopmentPath?: string | null;
  installVsix?: Lazy<string[]>;
  /** See CodeServerOptions.workspaceTrust. */
  workspaceTrust?: boolean;
  /** Folder name under test-results/e2e/ (default: the calling file's name). */
  name?: string;
}

/**
 * The e2e fixture: call it inside a mocha `describe`. Starts code-server and a page in `before`,
 * screenshots a failing test in `afterEach`, stops everything in `after` (also after failures).
 */
export function useWorkbench(options: UseWorkbenchOptions = {}): WorkbenchFixture {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workbench: Workbench | undefined;
  let step = 0;
  let failed = false;
  const name = options.name ?? basename(callerFile() ?? 'e2e').replace(/\.(e2e\.)?[jt]s$/, '');
  const shotsDir = join(resultsDir, 'e2e', name);
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useWorkbench: ${what} is not ready (use it inside it()/hooks of the same describe)`);
    return value;
  };

  const fixture: WorkbenchFixture = {
    get page() {
      return need(workbench, 'the page').page;
    },
    get server() {
      return need(server, 'code-server');
    },
    get browser() {
      return need(browser, 'the browser');
    },
    async screenshot(label: string) {
      mkdirSync(shotsDir, { recursive: true });
      step += 1;
      const file = join(shotsDir, `${String(step).padStart(2, '0')}-${label.replace(/[^\w.-]+/g, '-')}.png`);
      await need(workbench, 'the page').page.screenshot({ path: file });
      return file;
    },
  };

  before(async function () {
    this.timeout(180_000);
    server = await startCodeServer({
      env: evaluate(options.env ?? {}),
      settings: evaluate(options.settings ?? {}),
      workspace: evaluate(options.workspace),
      extensionDevelopmentPath: options.extensionDevelopmentPath,
      installVsix: evaluate(options.installVsix ?? []),
      workspaceTrust: options.workspaceTrust,
      label: name,
    });
    browser = await launchChromium();
    workbench = await openWorkbench(browser, server);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && workbench) {
      failed = true;
      await fixture.screenshot(`FAILED-${this.currentTest.title}`).catch(() => undefined);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await workbench?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    // code-server takes a few seconds to shut down cleanly (its extension host deactivates the
    // extension, which kills its tasks). The next file need not wait for that: the e2e runner awaits
    // every pending stop before it exits (settleWorkbenches), and the exit hook covers other runners.
    if (server) pendingStops.add(server.stop({ keepFiles: failed }));
  });

  return fixture;
}

// On globalThis: esbuild gives each e2e file its own copy of this module, and the runner's copy must
// see the stops that the test files' copies started.
const globalStops = globalThis as { [key: symbol]: Set<Promise<void>> | undefined };
const pendingStops: Set<Promise<void>> = (globalStops[Symbol.for('background-agent.pendingStops')] ??= new Set());

/** Waits until every code-server a `useWorkbench` fixture started has stopped (call before exiting). */
export async function settleWorkbenches(): Promise<void> {
  await Promise.allSettled([...pendingStops]);
}

/** The test file that called useWorkbench, from the stack (for its screenshot folder). */
function callerFile(): string | undefined {
  const lines = (new Error().stack ?? '').split('\n');
  const file = lines.map((line) => /\(?([^\s()]+?\.e2e\.[jt]s)/.exec(line)?.[1]).find(Boolean);
  return file;
}
