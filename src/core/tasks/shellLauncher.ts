// Starts tasks from one long-lived /bin/sh instead of from Node. Why: Node spawns synchronously, forking
// its whole (large) process and waiting for the exec, ~2 ms per task on the main thread here (more in a
// VS Code extension host); 200 starts serialised on it took 1.4-1.6 s to all exits. The launcher is a
// small shell, forks in parallel with the tasks it starts, and Node only writes one line per task.
// Each task's output goes straight to its log file (launchLine below), so no output crosses Node either.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { protectProcessGroup } from './processTree';
import type { ProcessResult } from './types';

export type LaunchRequest = Omit<LaunchSpec, 'seq' | 'setsid'>;

export interface LaunchHandlers {
  onStarted(pid: number): void;
  onEnded(result: ProcessResult): void;
}

const LOST = 'The process launcher stopped before the command reported its end.';
/** In `subshells`: the command runs, so its subshell only waits for it and is never killed on its own. */
const STARTED = 0;

export class ShellLauncher {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, LaunchHandlers>();
  /**
   * Each task's subshell pid, from its `s` report, until its command has started (STARTED) or it ended
   * (see abandon). The `s` and `p` reports come from different processes and may arrive in either order.
   */
  private readonly subshells = new Map<number, number>();
  private nextSeq = 1;
  private partialLine = '';
  private exited = false;
  /** loseAll ran: the launcher and its subshells are gone. */
  private lost = false;
  private reapQueued: NodeJS.Immediate | undefined;
  /** Lines for tasks started in this turn, written together at its end. */
  private unsent = '';
  private readonly protection: { dispose(): void } | undefined;

  /** `onGone`: the launcher and every subshell it started are gone (called once, with its pid). */
  constructor(
    private readonly setsid: string,
    private readonly onGone: (pid: number) => void = () => undefined,
  ) {
    // Its own session: a terminal's Ctrl-C (sent to our process group) must not kill the launcher and
    // the subshells waiting for the tasks.
    this.child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    // Detached: its pid is its process group, which kills must never hit (see protectProcessGroup).
    this.protection = this.child.pid === undefined ? undefined : protectProcessGroup(this.child.pid);
    const { stdin, stdout } = this.child;
    stdin?.on('error', () => undefined); // EPIPE once it died; `close` on stdout reports that.
    stdout?.setEncoding('latin1');
    stdout?.on('data', (text: string) => this.read(text));
    // Closes once the launcher AND every waiting subshell are gone: a task whose end was not reported by then never will be.
    stdout?.once('close', () => this.loseAll());
    this.child.once('exit', () => (this.exited = true));
    this.child.once('error', () => {
      this.exited = true;
      this.loseAll();
    });
    this.updateRef();
  }

  /** The launcher shell's pid: its process group holds the subshells that start and wait for tasks. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** False once the shell exited: start a new launcher (tasks this one started still report through it). */
  get usable(): boolean {
    return !this.exited;
  }

  launch(request: LaunchRequest, handlers: LaunchHandlers): number {
    const seq = this.nextSeq++;
    this.pending.set(seq, handlers);
    if (this.pending.size === 1) this.updateRef();
    // A burst of starts in one turn becomes one write to the launcher.
    if (this.unsent === '') queueMicrotask(() => this.send());
    this.unsent += launchLine({ ...request, seq, setsid: this.setsid });
    return seq;
  }

  /** Stops listening for one task: its handlers are never called again. */
  forget(seq: number): void {
    this.subshells.delete(seq);
    if (this.pending.delete(seq) && this.pending.size === 0) this.updateRef();
  }

  /**
   * Gives up on a task: forgets it, and if it has not started yet (its subshell is stuck creating the log
   * or entering the folder, as in a hung network mount), kills the subshell so the command never runs
   * later. The subshell is killed by pid: its process group is the launcher's.
   */
  abandon(seq: number): void {
    const subshell = this.subshells.get(seq);
    this.forget(seq);
    if (subshell === undefined || subshell === STARTED) return;
    try {
      process.kill(subshell, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }

  /**
   * Lets go without ending anything: the shell exits at the end of its input, and each subshell still
   * waits for its task and writes the task's exit file (the window after a reload reads it). Nothing is
   * reported here any more.
   */
  release(): void {
    this.pending.clear();
    this.subshells.clear();
    if (this.reapQueued) clearImmediate(this.reapQueued);
    // Starts not sent yet never happen: a task that starts after its owner let go could not be followed.
    this.unsent = '';
    this.child.stdin?.end();
    this.child.stdout?.destroy();
    this.protection?.dispose();
    this.updateRef();
  }

  /** Ends the launcher and the subshells still waiting (the tasks themselves run in their own sessions). */
  dispose(): void {
    this.pending.clear();
    this.subshells.clear();
    if (this.reapQueued) clearImmediate(this.reapQueued);
    this.child.stdin?.end();
    if (this.child.pid !== undefined && !this.exited) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.child.stdout?.destroy();
    this.protection?.dispose();
  }

  private send(): void {
    const text = this.unsent;
    this.unsent = '';
    if (text !== '' && !this.exited) this.child.stdin?.write(text);
  }

  private read(text: string): void {
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) {
      const report = parseReport(line);
      if (report) this.handle(report);
    }
  }

  private handle(report: LauncherReport): void {
    const handlers = this.pending.get(report.seq);
    if (!handlers) return;
    if (report.kind === 'forked') {
      if (!this.subshells.has(report.seq)) this.subshells.set(report.seq, report.pid);
      return;
    }
    if (report.kind === 'started') {
      this.subshells.set(report.seq, STARTED);
      return handlers.onStarted(report.pid);
    }
    this.subshells.delete(report.seq);
    this.forget(report.seq);
    if (report.kind === 'no-folder') {
      handlers.onEnded({ exitCode: null, signal: null, error: 'The working directory could not be entered.' });
    } else if (report.kind === 'no-log') {
      handlers.onEnded({ exitCode: null, signal: null, error: 'The output log file could not be created.' });
    } else {
      handlers.onEnded(exitOfStatus(report.status));
      this.queueReap();
    }
  }

  /** One `jobs` for a batch of ends (see REAP_LINE). */
  private queueReap(): void {
    this.reapQueued ??= setImmediate(() => {
      this.reapQueued = undefined;
      if (!this.exited) this.child.stdin?.write(REAP_LINE);
    });
  }

  private loseAll(): void {
    // Launcher and waiting subshells are all gone: the group no longer exists. Unusable from now on, even
    // if Node reports the shell's exit only later: a task started from a lost task's end event (called
    // below) would otherwise be written to the dead shell and never end.
    if (!this.lost && this.child.pid !== undefined) this.onGone(this.child.pid);
    this.lost = true;
    this.exited = true;
    this.protection?.dispose();
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.subshells.clear();
    this.unsent = '';
    this.updateRef();
    for (const handlers of lost) handlers.onEnded({ exitCode: null, signal: null, error: LOST });
  }

  /** The launcher keeps Node alive only while a task it started runs (a CLI must exit when all is done). */
  private updateRef(): void {
    const busy = this.pending.size > 0;
    for (const handle of [this.child, this.child.stdin, this.child.stdout]) {
      // The pipes are sockets; the stream types do not say so.
      const refable = handle as Partial<{ ref(): void; unref(): void }> | null;
      if (busy) refable?.ref?.();
      else refable?.unref?.();
    }
  }
}

// ---- The text the launcher reads and writes: one line of /bin/sh per task going in, one short status
// line per event coming out. Pure functions, so the quoting is tested without processes.

export interface LaunchSpec {
  /** The launcher's number for this task (only digits reach the shell and come back). */
  readonly seq: number;
  readonly shell: string;
  readonly command: string;
  readonly cwd: string;
  readonly logPath: string;
  /** Where the exit status is written once the command ends, for a later window that took the task over. */
  readonly exitPath?: string;
  /** Variables added to the task's environment; names must pass `isShellName`. */
  readonly env: Readonly<Record<string, string>>;
  /** Inherited variables the task does not get; names must pass `isShellName`. */
  readonly unsetEnv?: readonly string[];
  /** Absolute path of `setsid`: the task gets its own session and process group, like Node's `detached`. */
  readonly setsid: string;
}

/** Quotes any text (without NUL) as one /bin/sh word: single quotes, each `'` written as `'\''`. */
export function quoteForSh(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** A name /bin/sh accepts in a `NAME=value command` assignment. */
export function isShellName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * One task for the launcher. A background subshell (so the launcher itself never waits) changes folder,
 * starts the command through `setsid` with stdout and stderr on the log file and stdin at EOF, reports
 * the pid, waits for it and reports its status. The output never passes through Node.
 *   s <seq> <pid>      the subshell (killed if the task is given up before it started)
 *   p <seq> <pid>      started       e <seq> <status>   exited (128+n: killed by signal n; also
 *                                    written to the exit file, if any)
 *   l <seq>            the log file could not be created    c <seq>   the folder could not be entered
 * (after `l` or `c` nothing ran)
 */
export function launchLine(spec: LaunchSpec): string {
  const q = quoteForSh;
  const assignments = Object.entries(spec.env).map(([name, value]) => `${name}=${q(value)} `).join('');
  // The log is created here, off Node's main thread (a create is ~75 µs there, 15 ms for a burst of 200),
  // then opened without O_TRUNC (`1<>`): truncating an existing file makes ext4 flush it early
  // (auto_da_alloc), which measured 1.6x slower for a 1 GiB flood.
  const log = `: >${q(spec.logPath)} 2>/dev/null || { echo "l ${spec.seq}"; exit; }`;
  const run = `${assignments}${q(spec.setsid)} ${q(spec.shell)} -c ${q(spec.command)} 1<>${q(spec.logPath)} 2>&1 </dev/null &`;
  const cd = `cd ${q(spec.cwd)} 2>/dev/null || { echo "c ${spec.seq}"; exit; }`;
  // In the subshell only: the launcher and the next tasks keep them.
  const unset = spec.unsetEnv?.length ? `unset ${spec.unsetEnv.join(' ')}; ` : '';
  // The status goes to the exit file first: the pipe to Node may be gone by then (a reload), and the
  // window after it learns the task's end from that file.
  const exit = spec.exitPath === undefined ? '' : ` echo $s >${q(spec.exitPath)} 2>/dev/null;`;
  return `(${log}; ${cd}; ${unset}${run} echo "p ${spec.seq} $!"; wait $!; s=$?;${exit} echo "e ${spec.seq} $s") </dev/null & echo "s ${spec.seq} $!"\n`;
}

/**
 * Makes the launcher collect the subshells that have finished. A non-interactive dash never reaps
 * background jobs on its own (they would pile up as zombies); `jobs` does.
 */
export const REAP_LINE = 'jobs >/dev/null\n';

export type LauncherReport =
  | { readonly kind: 'forked'; readonly seq: number; readonly pid: number }
  | { readonly kind: 'started'; readonly seq: number; readonly pid: number }
  | { readonly kind: 'exited'; readonly seq: number; readonly status: number }
  | { readonly kind: 'no-folder'; readonly seq: number }
  | { readonly kind: 'no-log'; readonly seq: number };

export function parseReport(line: string): LauncherReport | undefined {
  const [kind, seqText, value] = line.split(' ');
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq)) return undefined;
  if (kind === 's' && /^\d+$/.test(value ?? '')) return { kind: 'forked', seq, pid: Number(value) };
  if (kind === 'p' && /^\d+$/.test(value ?? '')) return { kind: 'started', seq, pid: Number(value) };
  if (kind === 'e' && /^\d+$/.test(value ?? '')) return { kind: 'exited', seq, status: Number(value) };
  if (kind === 'c') return { kind: 'no-folder', seq };
  if (kind === 'l') return { kind: 'no-log', seq };
  return undefined;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/**
 * A shell's wait status as Node reports an exit: 128+n means killed by signal n. (A command that itself
 * ran `exit 130` reads as SIGINT too; shells cannot tell them apart either.)
 */
export function exitOfStatus(status: number): { exitCode: number | null; signal: NodeJS.Signals | null } {
  const signal = status > 128 ? signalNames.get(status - 128) : undefined;
  return signal ? { exitCode: null, signal } : { exitCode: status, signal: null };
}
