// Runs the built CLI (dist/cli.js) as a real child process against a scripted server, collecting its output.
// Every child is killed in the end, also when a test fails half-way.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The bundle under test; TEST_CLI_PATH points at another build (e.g. a private copy while others rebuild dist/). */
export const CLI_PATH = path.resolve(process.env.TEST_CLI_PATH ?? path.join('dist', 'cli.js'));

export interface CliRun {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number style name when killed by a signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stderr contains `pattern`. */
  waitForStderr(pattern: RegExp, deadlineMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

export function runCli(
  args: string[],
  options: { baseURL?: string; apiKey?: string | null; cwd: string; stdin?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv; /** Run as this user (needs root). */ user?: { uid: number; gid: number } },
): CliRun {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first.`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('ANTHROPIC_') || key === 'BACKGROUND_AGENT_MODEL') delete env[key];
  if (options.apiKey !== null) env.ANTHROPIC_API_KEY = options.apiKey ?? 'test-key';
  if (options.baseURL) env.ANTHROPIC_BASE_URL = options.baseURL;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: options.cwd, env, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'], ...options.user });
  running.add(child);
  let out = '';
  let err = '';
  const errWaiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const waiter of [...errWaiters]) waiter();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(pattern, deadlineMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          errWaiters.delete(check);
          reject(new Error(`stderr never matched ${pattern}; it was:\n${err}`));
        }, deadlineMs);
        const check = (): void => {
          if (!pattern.test(err)) return;
          clearTimeout(timer);
          errWaiters.delete(check);
          resolve();
        };
        errWaiters.add(check);
        check();
      });
    },
  };
}

/** Kills any CLI a failed test left behind (SIGKILL: the test already failed, speed matters more). */
export function killLeftoverClis(): void {
  for (const child of running) child.kill('SIGKILL');
}
