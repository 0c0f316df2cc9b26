// Starts tasks from one long-lived /bin/sh instead of from Node. Why: Node spawns synchronously, forking
// its whole (large) process and waiting for the exec, ~2 ms per task on the main thread here (more in a
// VS Code extension host); 200 starts serialised on it took 1.4-1.6 s to all exits. The launcher is a
// small shell, forks in parallel with the tasks it starts, and Node only writes one line per task.
// Each task's output goes straight to its log file (launchScript.ts), so no output crosses Node either.
import { spawn, type ChildProcess } from 'node:child_process';
import { exitOfStatus, launchLine, parseReport, REAP_LINE, type LaunchSpec, type LauncherReport } from './launchScript';
import { protectProcessGroup } from './processKill';
import type { ProcessResult } from './processResult';

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
  private reapQueued: NodeJS.Immediate | undefined;
  /** Lines for tasks started in this turn, written together at its end. */
  private unsent = '';
  private readonly protection: { dispose(): void } | undefined;

  constructor(private readonly setsid: string) {
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
