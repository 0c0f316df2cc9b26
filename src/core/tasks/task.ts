// One background task: what was asked, where it stands, how it ended, and its log. The Task owns that
// state and its end; the manager decides *when* things happen to it (start, kill, end) and calls it.
import { statSync } from 'node:fs';
import { customAlphabet } from 'nanoid';
import type { ListeningPort } from './listeningPorts';
import { notificationTail } from './notifications';
import { TaskLog } from './taskLog';
import type { CwdEntry, ProcessResult, ReattachInfo, StartTaskOptions, TaskNotification, TaskOrigin, TaskProcess, TaskSnapshot, TaskStatus } from './types';

// Task ids: short enough for a person to read aloud or type into `check_background`, random enough that
// ids never collide across windows that share a log folder. No look-alike characters (0/o, 1/l/i).
const ID_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
/** 8 characters of 31: about 8.5e11 ids, so a collision needs ~1M ids in one folder. */
export const newTaskId = customAlphabet(ID_ALPHABET, 8);
/** Identifies one manager instance in the marker env var, so a window never kills another window's tasks. */
export const newInstanceId = customAlphabet(ID_ALPHABET, 6);

/** How much of a task's output memory holds (first and last bytes), read from its log on demand. */
export interface OutputMemory {
  readonly headBytes: number;
  readonly tailBytes: number;
}

export type KillReason = 'cancelled' | 'timed_out';

export class Task {
  readonly id: string;
  readonly command: string;
  readonly description?: string;
  readonly cwd: string;
  readonly origin: TaskOrigin;
  readonly timeoutMs?: number;
  readonly startedAt: number;
  /** `<instance>.<id>` in the task's environment: finds descendants that escaped the tree. '' = not ours. */
  readonly marker: string;
  readonly log: TaskLog;
  /** `notify_on`: lines of output that matter to the conversation (matchNotifier.ts). */
  readonly notifyOn?: string;
  private state: TaskStatus;
  private pidValue: number | undefined;
  /** When its shell started (ticks since boot): with the pid, how a later window finds it again. */
  private startTicks: number | undefined;
  private inForeground: boolean | undefined;
  private exit: { code: number | null; signal: string | null } = { code: null, signal: null };
  private endedAtValue: number | undefined;
  private errorText: string | undefined;
  private processValue: TaskProcess | undefined;
  /** Held until the process has entered its folder (StartTaskOptions.cwdEntry); released then. */
  private cwdEntry: CwdEntry | undefined;
  private reason: KillReason | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  /** Called once the task has ended, its log is complete and `ended` was emitted. */
  private endWaiters: Array<() => void> = [];
  private isSettled = false;
  /** TCP ports its tree listens on, as last seen (PortWatcher). */
  private portsValue: readonly ListeningPort[] = [];
  /** Tools waiting until it is ready (readiness.ts). */
  private readyWaits = 0;

  private constructor(fields: Omit<TaskSnapshot, 'outputBytes' | 'droppedOutput' | 'logPath' | 'reattach' | 'ports' | 'waitingUntilReady'>, marker: string, log: TaskLog) {
    this.id = fields.id;
    this.notifyOn = fields.notifyOn;
    this.command = fields.command;
    this.description = fields.description;
    this.cwd = fields.cwd;
    this.origin = fields.origin;
    this.timeoutMs = fields.timeoutMs;
    this.startedAt = fields.startedAt;
    this.marker = marker;
    this.log = log;
    this.state = fields.status;
    this.pidValue = fields.pid;
    this.inForeground = fields.foreground;
    this.exit = { code: fields.exitCode, signal: fields.signal };
    this.endedAtValue = fields.endedAt;
    this.errorText = fields.error;
  }

  /** A task about to be spawned: running, no pid yet, no output. */
  static starting(options: StartTaskOptions, parts: { id: string; logPath: string; marker: string }, memory: OutputMemory): Task {
    const fields = {
      id: parts.id,
      command: options.command,
      description: options.description,
      cwd: options.cwd,
      origin: options.origin,
      timeoutMs: options.timeoutMs,
      foreground: options.foreground,
      notifyOn: options.notifyOn,
      startedAt: Date.now(),
      status: 'running' as const,
      exitCode: null,
      signal: null,
    };
    const task = new Task(fields, parts.marker, new TaskLog(parts.logPath, memory));
    task.cwdEntry = options.cwdEntry;
    return task;
  }

  /**
   * A task of an earlier window. It is settled already (nothing of it runs under us), has no marker (its
   * processes are not ours to kill), and its output is read from its log on first use. One that was still
   * running (and is not taken over) is `interrupted`, for the reason given.
   */
  static restored(snapshot: TaskSnapshot, memory: OutputMemory, interruptedBecause = 'The window closed or reloaded while this task ran.'): Task {
    const wasRunning = snapshot.status === 'running';
    const fields = {
      ...withoutLiveFields(snapshot),
      foreground: undefined,
      status: wasRunning ? ('interrupted' as const) : snapshot.status,
      error: wasRunning ? interruptedBecause : snapshot.error,
    };
    const task = new Task(fields, '', new TaskLog(snapshot.logPath, memory, { bytes: snapshot.outputBytes, dropped: snapshot.droppedOutput }));
    task.isSettled = true;
    return task;
  }

  /**
   * A running task of an earlier window, taken over (takeOver.ts): ours to follow and kill from now on.
   * `process` (an AttachedProcess) reports its end, also one that happened meanwhile.
   */
  static takenOver(snapshot: TaskSnapshot, reattach: ReattachInfo, memory: OutputMemory, process: (task: Task) => TaskProcess): Task {
    const log = new TaskLog(snapshot.logPath, memory, { bytes: snapshot.outputBytes, dropped: snapshot.droppedOutput });
    const task = new Task({ ...withoutLiveFields(snapshot), foreground: undefined }, reattach.marker, log);
    task.startTicks = reattach.startTicks;
    task.processValue = process(task);
    return task;
  }

  get status(): TaskStatus {
    return this.state;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  get pid(): number | undefined {
    return this.pidValue;
  }

  /** When its shell started (in the process table's encoding), where known: with the pid, it names that process for good. */
  get pidStartTicks(): number | undefined {
    return this.startTicks;
  }

  /** When it ended (ms since the epoch), once it has. */
  get endedAt(): number | undefined {
    return this.endedAtValue;
  }

  get process(): TaskProcess | undefined {
    return this.processValue;
  }

  get killReason(): KillReason | undefined {
    return this.reason;
  }

  /** True once the task has ended and everyone was told: waiting returns at once. */
  get settled(): boolean {
    return this.isSettled;
  }

  snapshot(): TaskSnapshot {
    return {
      id: this.id,
      command: this.command,
      ...(this.description !== undefined && { description: this.description }),
      cwd: this.cwd,
      ...(this.pidValue !== undefined && { pid: this.pidValue }),
      ...(this.inForeground !== undefined && { foreground: this.inForeground }),
      status: this.state,
      exitCode: this.exit.code,
      signal: this.exit.signal,
      startedAt: this.startedAt,
      ...(this.endedAtValue !== undefined && { endedAt: this.endedAtValue }),
      outputBytes: this.log.outputBytes,
      logPath: this.log.path,
      ...(this.log.dropped !== undefined && { droppedOutput: this.log.dropped }),
      origin: this.origin,
      ...(this.timeoutMs !== undefined && { timeoutMs: this.timeoutMs }),
      ...(this.errorText !== undefined && { error: this.errorText }),
      ...(this.running && this.marker !== '' && this.startTicks !== undefined && { reattach: { marker: this.marker, startTicks: this.startTicks } }),
      ...(this.notifyOn !== undefined && { notifyOn: this.notifyOn }),
      ...(this.running && this.portsValue.length > 0 && { ports: this.portsValue }),
      ...(this.running && this.readyWaits > 0 && { waitingUntilReady: true }),
    };
  }

  get ports(): readonly ListeningPort[] {
    return this.portsValue;
  }

  /** The ports its tree listens on now; false if they are the ones it had. */
  setPorts(ports: readonly ListeningPort[]): boolean {
    const same = ports.length === this.portsValue.length && ports.every((p, i) => p.port === this.portsValue[i].port && p.address === this.portsValue[i].address);
    if (same) return false;
    this.portsValue = ports;
    return true;
  }

  /** A tool starts (+1) or stops (-1) waiting until it is ready: shown as "waiting until ready". */
  readyWait(change: 1 | -1): void {
    this.readyWaits = Math.max(0, this.readyWaits + change);
  }

  /** The process was started (its pid may come later: pidKnown). */
  /** Its process was started; the pid, when known at once, is reported by pidKnown. */
  spawned(process: TaskProcess): void {
    this.processValue = process;
  }

  /** `startTicks`: when it started (ProcessId), where that can be read. */
  pidKnown(pid: number, startTicks?: number): void {
    this.pidValue ??= pid;
    if (this.pidValue === pid) this.startTicks ??= startTicks;
    this.releaseCwdEntry();
  }

  /** The folder the process starts through (StartTaskOptions.cwdEntry), while it is still held. */
  get entryPath(): string | undefined {
    return this.cwdEntry?.path;
  }

  /** Kills it (through `onTimeout`) once its wall-clock limit, counted from its start, has passed. */
  armTimeout(onTimeout: () => void): void {
    if (this.timeoutMs === undefined || this.timeoutMs <= 0) return;
    // A task taken over after a reload has already used part of it.
    const left = Math.max(0, this.timeoutMs - (Date.now() - this.startedAt));
    this.timeoutTimer = setTimeout(() => {
      this.killFor('timed_out');
      onTimeout();
    }, left);
  }

  /** Why it is being killed; decides the final status over the exit code. The first reason stays. */
  killFor(reason: KillReason): void {
    this.reason ??= reason;
  }

  /** A tool stopped waiting for it: from now on its end is notified. False if nothing changed. */
  moveToBackground(): boolean {
    if (!this.running || !this.inForeground) return false;
    this.inForeground = false;
    return true;
  }

  /** Its process ended (or never started: `result.error`); the log is complete. Decides the status. */
  finish(result: ProcessResult): void {
    this.stopHolding();
    this.exit = { code: result.exitCode, signal: result.signal };
    if (result.error !== undefined) {
      this.errorText = result.error;
      // With a pid the command did run: what failed was following it to its end.
      this.log.appendLine(`${this.pidValue === undefined ? 'Could not start the command' : 'Lost track of the command'}: ${result.error}`);
    }
    this.endedAtValue = Date.now();
    this.state = this.reason ?? (result.error === undefined && result.exitCode === 0 ? 'completed' : 'failed');
  }

  /** Its owner shuts down while it runs: it ends as `interrupted`, whatever its process does next. */
  interrupt(why: string): void {
    this.stopHolding();
    if (!this.running) return;
    this.state = 'interrupted';
    this.endedAtValue = Date.now();
    this.errorText = why;
    this.processValue?.detach();
  }

  /** Its owner shuts down but lets it run on (a reload): it stays `running`, nobody follows it here any more. */
  release(): void {
    this.stopHolding();
    this.processValue?.detach();
  }

  /** Releases what it holds (the folder, the timer) without ending it. */
  stopHolding(): void {
    this.releaseCwdEntry();
    clearTimeout(this.timeoutTimer);
  }

  /**
   * What the model is told of its end, or undefined when nobody should hear of it: no conversation to
   * tell, or a foreground task (its result goes back through the tool that waited for it).
   */
  notification(tailBytes: number): TaskNotification | undefined {
    const conversationId = this.origin.conversationId;
    if (conversationId === undefined || this.inForeground) return undefined;
    const buffer = this.log.edges();
    return {
      taskId: this.id,
      conversationId,
      status: this.state,
      exitCode: this.exit.code,
      durationMs: (this.endedAtValue ?? Date.now()) - this.startedAt,
      command: this.command,
      ...(this.description !== undefined && { description: this.description }),
      outputTail: notificationTail(buffer, this.id, tailBytes),
      outputBytes: buffer.totalBytes,
      queuedAt: Date.now(),
    };
  }

  /** What a `notify_on` entry says of the task (matchNotifier.ts), or undefined with no conversation to tell. */
  matchNotificationBase(): Omit<TaskNotification, 'match'> | undefined {
    const conversationId = this.origin.conversationId;
    if (conversationId === undefined) return undefined;
    return {
      taskId: this.id,
      conversationId,
      status: this.state,
      exitCode: this.exit.code,
      durationMs: Date.now() - this.startedAt,
      command: this.command,
      ...(this.description !== undefined && { description: this.description }),
      outputTail: '',
      outputBytes: this.log.outputBytes,
      queuedAt: Date.now(),
    };
  }

  /** Marks it settled and runs (then forgets) everyone waiting for it. */
  settle(): void {
    this.isSettled = true;
    const waiters = this.endWaiters;
    this.endWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Resolves once it has ended and everyone was told (log complete, `ended` emitted). */
  whenSettled(): Promise<void> {
    if (this.isSettled) return Promise.resolve();
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /**
   * The final snapshot once settled; rejects when `signal` aborts first. The aborted waiter is taken off,
   * so a long-running task does not collect dead waiters from tools that gave up.
   */
  waitForEnd(signal?: AbortSignal): Promise<TaskSnapshot> {
    if (this.isSettled) return Promise.resolve(this.snapshot());
    return new Promise<TaskSnapshot>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = (): void => {
        this.endWaiters = this.endWaiters.filter((w) => w !== waiter);
        reject(abortError(signal as AbortSignal));
      };
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.snapshot());
      };
      this.endWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaseCwdEntry(): void {
    this.cwdEntry?.release();
    this.cwdEntry = undefined;
  }
}

/** What a snapshot says of a moment that has passed: the ports and waits are looked at again. */
function withoutLiveFields(snapshot: TaskSnapshot): Omit<TaskSnapshot, 'ports' | 'waitingUntilReady'> {
  const rest: { -readonly [K in keyof TaskSnapshot]?: TaskSnapshot[K] } = { ...snapshot };
  delete rest.ports;
  delete rest.waitingUntilReady;
  return rest as Omit<TaskSnapshot, 'ports' | 'waitingUntilReady'>;
}

/** The problem with `cwd` as a working directory, if any (a bad start ends as a `failed` task, never a throw). */
export function cwdProblem(cwd: string): string | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return `The working directory is not a folder: ${cwd}`;
  } catch {
    return `The working directory does not exist: ${cwd}`;
  }
  return undefined;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The wait was aborted.', 'AbortError');
}
