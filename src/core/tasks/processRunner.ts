// The one place that spawns and kills task processes.
// Spawn: the user's shell, its own process group, stdin at EOF, stdout and stderr on one pipe so the
// log keeps their true order. Kill: SIGTERM to every group and process of the tree, SIGKILL after a
// grace period, done only when /proc shows none of them alive.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { hasProcFs, readProcessTable, findTaskProcesses, readProcess, type ProcessInfo } from './processTree';

const isWindows = process.platform === 'win32';

/** How long to keep reading after the shell exited, waiting for EOF on its pipe (a descendant may hold it). */
const EXIT_DRAIN_MS = 50;
/** How often to look whether killed processes are gone. */
const KILL_POLL_MS = 10;
/** After SIGKILL, how long to wait for processes to vanish before giving up (uninterruptible sleep). */
const KILL_GIVE_UP_MS = 3000;

export interface ProcessResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started. */
  readonly error?: string;
  /** The shell exited but something still held its output pipe open: a descendant outlived it. */
  readonly pipeHeldOpen?: boolean;
}

export interface RunOptions {
  readonly command: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Called per chunk in arrival order. Reading waits while it runs: a slow consumer slows the child. */
  readonly onData: (chunk: Buffer) => void;
  /** Called exactly once, when the shell has exited and its output was read (or the spawn failed). */
  readonly onEnd: (result: ProcessResult) => void;
}

/** The user's shell for `-c`. Its stderr is joined to stdout before it starts (see spawnArgs). */
export function userShell(): string {
  return process.env.SHELL || '/bin/sh';
}

/**
 * Shells that run a `-c` script one line at a time: `exec 2>&1` on the first line takes effect before the
 * command's own line is even parsed, so its syntax errors land in the output too. (zsh and fish parse
 * the whole script first: an error would go to the discarded stderr.)
 */
const LINE_BY_LINE_SHELLS = new Set(['sh', 'bash', 'dash']);

function spawnArgs(command: string): { file: string; args: string[] } {
  if (isWindows) return { file: process.env.ComSpec || 'cmd.exe', args: ['/d', '/s', '/c', `"${command} 2>&1"`] };
  const shell = userShell();
  // One pipe for stdout and stderr, so they interleave exactly as written. Node cannot hand one pipe to
  // both descriptors, so the shell joins them itself before the command runs. The user's own shell does
  // it when it can (one exec per task: measured ~15% less spawn time and CPU than the wrapper below).
  if (LINE_BY_LINE_SHELLS.has(basename(shell))) return { file: shell, args: ['-c', `exec 2>&1\n${command}`] };
  // Any other shell: /bin/sh joins them and `exec`s it (same pid, same group).
  return { file: '/bin/sh', args: ['-c', 'exec "$0" -c "$1" 2>&1', shell, command] };
}

export class RunningProcess {
  private readonly child: ChildProcess | undefined;
  private readonly streams: Readable[] = [];
  private openStreams = 0;
  private exit: ProcessResult | undefined;
  private ended = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private drainImmediate: NodeJS.Immediate | undefined;

  constructor(private readonly options: RunOptions) {
    const { file, args } = spawnArgs(options.command);
    try {
      this.child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env,
        // POSIX: the wrapper already sent stderr into the stdout pipe (its own errors too), so one pipe
        // is enough and one fewer is created per task.
        stdio: ['ignore', 'pipe', isWindows ? 'pipe' : 'ignore'],
        detached: !isWindows,
        windowsHide: true,
        windowsVerbatimArguments: isWindows,
      });
    } catch (error) {
      // Invalid arguments (e.g. a NUL byte in the command) throw synchronously; report like any spawn error.
      queueMicrotask(() => this.finish({ exitCode: null, signal: null, error: describeError(error) }));
      return;
    }
    const child = this.child;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      this.streams.push(stream);
      this.openStreams++;
      stream.on('data', (chunk: Buffer) => {
        if (!this.ended) options.onData(chunk);
      });
      stream.once('close', () => {
        this.openStreams--;
        this.maybeFinish();
      });
      stream.on('error', () => undefined);
    }
    child.on('error', (error) => {
      // Without a pid the process never started; otherwise it is a failed kill, which /proc polling covers.
      if (child.pid === undefined) this.finish({ exitCode: null, signal: null, error: describeError(error) });
    });
    // 'exit', not 'close': a descendant holding the pipe must not keep the task alive.
    child.once('exit', (exitCode, signal) => {
      this.exit = { exitCode, signal };
      if (this.openStreams === 0) return this.finishAfterExit();
      // Output the shell wrote before exiting is already in the pipe; the timer fires after at least one
      // poll phase, and setImmediate runs after the next one, so that output is read before we stop.
      this.drainTimer = setTimeout(() => {
        this.drainImmediate = setImmediate(() => this.finishAfterExit());
      }, EXIT_DRAIN_MS);
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops reading and forgets the process without killing it (the caller kills). */
  detach(): void {
    this.finishAfterExit();
  }

  private maybeFinish(): void {
    if (this.exit && this.openStreams === 0) this.finishAfterExit();
  }

  private finishAfterExit(): void {
    this.finish({ ...(this.exit ?? { exitCode: null, signal: null }), pipeHeldOpen: this.openStreams > 0 });
  }

  private finish(result: ProcessResult): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.drainTimer);
    if (this.drainImmediate) clearImmediate(this.drainImmediate);
    // Stop reading: whatever a lingering descendant writes now is not this task's output any more.
    for (const stream of this.streams) stream.destroy();
    this.options.onEnd(result);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What to kill: a live task's shell pid (its group and descendants) and/or its environment marker. */
export interface KillTarget {
  readonly pid?: number;
  readonly marker: string;
}

function sendSignal(pidOrGroup: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pidOrGroup, signal);
  } catch {
    // ESRCH: already gone. EPERM: not ours to kill.
  }
}

let ownGroup: number | undefined;
function ownProcessGroup(): number {
  ownGroup ??= readProcess(process.pid)?.pgid ?? process.pid;
  return ownGroup;
}

/** Signals every process and every process group found, never our own group, pid 1 or ourselves. */
function signalAll(found: readonly ProcessInfo[], roots: readonly number[], signal: NodeJS.Signals): void {
  const groups = new Set<number>(roots);
  for (const info of found) groups.add(info.pgid);
  groups.delete(ownProcessGroup());
  for (const group of groups) if (group > 1) sendSignal(-group, signal);
  for (const info of found) sendSignal(info.pid, signal);
}

function rootsOf(targets: readonly KillTarget[]): number[] {
  return targets.flatMap((t) => (t.pid === undefined ? [] : [t.pid]));
}

/** SIGKILLs every tree at once, synchronously: for deactivation and CLI exit, when there is no time to wait. */
export function killTreesNow(targets: readonly KillTarget[]): void {
  if (targets.length === 0) return;
  const roots = rootsOf(targets);
  if (isWindows) {
    for (const pid of roots) spawnSync('taskkill', ['/T', '/F', '/PID', String(pid)], { windowsHide: true });
    return;
  }
  const found = hasProcFs ? findTaskProcesses(readProcessTable(), roots, new Set(targets.map((t) => t.marker)), true) : [];
  signalAll(found, roots, 'SIGKILL');
}

/**
 * SIGTERM to the whole tree of every target, SIGKILL to whatever is left after `graceMs`; resolves once
 * none of their processes is alive (zombies count as gone: they cannot run any more).
 */
export async function terminateTrees(targets: readonly KillTarget[], graceMs: number, signal?: AbortSignal): Promise<void> {
  if (targets.length === 0) return;
  const roots = rootsOf(targets);
  if (isWindows) {
    await Promise.all(roots.map((pid) => new Promise<void>((resolve) => {
      const killer = spawn('taskkill', ['/T', '/F', '/PID', String(pid)], { windowsHide: true, stdio: 'ignore' });
      killer.once('exit', () => resolve());
      killer.once('error', () => resolve());
    })));
    return;
  }
  if (!hasProcFs) {
    // No /proc (macOS): groups are all we can reach.
    for (const pid of roots) sendSignal(-pid, 'SIGTERM');
    await delay(graceMs, signal);
    for (const pid of roots) sendSignal(-pid, 'SIGKILL');
    return;
  }
  const markers = new Set(targets.map((t) => t.marker));
  // Known members stay known even after their parent dies and they are re-parented.
  const known = new Set<number>(roots);
  const scan = (scanMarkers: boolean): ProcessInfo[] => {
    const found = findTaskProcesses(readProcessTable(), known, markers, scanMarkers);
    for (const info of found) known.add(info.pid);
    return found;
  };
  let alive = scan(true);
  signalAll(alive, roots, 'SIGTERM');
  const killAt = Date.now() + graceMs;
  let killed = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  // `signal` = the owner is shutting down and has already SIGKILLed everything: stop watching.
  while (alive.length > 0 && Date.now() < giveUpAt && !signal?.aborted) {
    await delay(KILL_POLL_MS, signal);
    if (!killed && Date.now() >= killAt) {
      killed = true;
      giveUpAt = Date.now() + KILL_GIVE_UP_MS;
      alive = scan(true);
      signalAll(alive, roots, 'SIGKILL');
      continue;
    }
    const before = known.size;
    alive = scan(false);
    // Something forked while dying: it gets the same signal.
    if (known.size > before) signalAll(alive, [], killed ? 'SIGKILL' : 'SIGTERM');
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
