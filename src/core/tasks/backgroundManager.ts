// The one owner of background tasks: starts them through the process runner, keeps their output (log
// file + bounded memory), decides their final status, queues one notification per ended task, and
// kills every process it started when asked or disposed.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newInstanceId, newTaskId } from './ids';
import { callListeners } from './listeners';
import { NotificationQueue } from './notificationQueue';
import { notificationTail, NOTIFICATION_TAIL_BYTES } from './notificationTail';
import { HeadTailBuffer, DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES } from './outputBuffer';
import { RunningProcess, killTreesNow, terminateTrees, type KillTarget, type ProcessResult } from './processRunner';
import { TASK_MARKER_ENV } from './processTree';
import { SpawnPacer } from './spawnPacer';
import { readLogEdgesSync, readLogSlice, TaskLogWriter } from './taskLog';
import { toSnapshot, type TaskRecord } from './taskRecord';
import type { Disposable, OutputSlice, StartTaskOptions, TaskEvent, TaskManager, TaskSnapshot } from './types';

export interface BackgroundManagerOptions {
  /** Folder for the tasks' log files (created if missing). */
  logDir: string;
  /** Time between SIGTERM and SIGKILL when cancelling. Default 2000 ms. */
  killGraceMs?: number;
  /** Size of the output tail a notification carries. Default 3 KiB (and at most 40 lines). */
  notificationTailBytes?: number;
  /** In-memory output kept per task: first bytes and last bytes. Defaults 16 KiB and 64 KiB. */
  headBytes?: number;
  tailBytes?: number;
}

/** Thrown for a task id the manager does not know; the message is fit to show to the model. */
export class UnknownTaskError extends Error {
  constructor(readonly taskId: string) {
    super(`No background task with id "${taskId}". Call check_background without task_id to list tasks.`);
    this.name = 'UnknownTaskError';
  }
}

/** At most this many `output` events per task per second (UIs re-render on each). */
const OUTPUT_EVENT_INTERVAL_MS = 250;
/** After the tree is gone, how long the shell's exit event may take before we stop waiting for it. */
const END_AFTER_KILL_MS = 1000;
/**
 * Spawning time allowed per event-loop turn before further starts wait for the next turns (see SpawnPacer).
 * A turn lasts up to the budget plus one spawn (the last one may overrun it): with a spawn at 2.5 ms quiet
 * and 10-16 ms on a loaded machine, 4 ms keeps a turn near 20 ms even then; 8 ms measured p99 20-38 ms.
 */
const SPAWN_BUDGET_MS = 4;

interface QueuedSpawn {
  readonly record: TaskRecord;
  /** Variables added to the inherited environment (StartTaskOptions.env). */
  readonly env: NodeJS.ProcessEnv | undefined;
}

export class BackgroundManager implements TaskManager {
  readonly notifications = new NotificationQueue();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly listeners = new Set<(event: TaskEvent) => void>();
  private readonly instanceId = newInstanceId();
  /** Aborted on dispose: stops kill loops that are still watching processes die. */
  private readonly lifetime = new AbortController();
  private readonly killGraceMs: number;
  /** A burst of starts is spawned over several event-loop turns; the later ones get their pid then. */
  private readonly pacer = new SpawnPacer<QueuedSpawn>(SPAWN_BUDGET_MS, ({ record, env }) => {
    if (record.status !== 'running') return;
    const logProblem = this.openLog(record);
    if (logProblem) return this.failBeforeSpawn(record, logProblem);
    this.spawn(record, env);
    // Its pid is news for whoever shows it (the `started` event had none).
    this.emit({ type: 'output', task: toSnapshot(record) });
  });
  private readonly tailBytes: number;
  private logDirReady = false;
  private disposed = false;

  constructor(private readonly options: BackgroundManagerOptions) {
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.tailBytes = options.notificationTailBytes ?? NOTIFICATION_TAIL_BYTES;
  }

  start(options: StartTaskOptions): TaskSnapshot {
    if (this.disposed) throw new Error('The background task manager was disposed.');
    let id = newTaskId();
    while (this.tasks.has(id)) id = newTaskId();
    const record: TaskRecord = {
      id,
      command: options.command,
      ...(options.description !== undefined && { description: options.description }),
      cwd: options.cwd,
      origin: options.origin,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.foreground !== undefined && { foreground: options.foreground }),
      logPath: join(this.options.logDir, `${id}.log`),
      startedAt: Date.now(),
      marker: `${this.instanceId}.${id}`,
      status: 'running',
      exitCode: null,
      signal: null,
      buffer: new HeadTailBuffer(this.options.headBytes ?? DEFAULT_HEAD_BYTES, this.options.tailBytes ?? DEFAULT_TAIL_BYTES),
      endWaiters: [],
    };
    this.tasks.set(id, record);

    const problem = this.prepare(options.cwd);
    if (problem) {
      this.emit({ type: 'started', task: toSnapshot(record) });
      this.failBeforeSpawn(record, problem);
      return toSnapshot(record);
    }
    // Queued in a burst: its log and environment are made when it is spawned, so a burst's starts stay cheap.
    let logProblem: string | undefined;
    this.pacer.submit({ record, env: options.env }, () => {
      logProblem = this.openLog(record);
      if (!logProblem) this.spawn(record, options.env);
    });
    if (logProblem) {
      this.emit({ type: 'started', task: toSnapshot(record) });
      this.failBeforeSpawn(record, logProblem);
      return toSnapshot(record);
    }
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      record.timeoutTimer = setTimeout(() => {
        record.killReason ??= 'timed_out';
        void this.kill([record]);
      }, options.timeoutMs);
    }
    this.emit({ type: 'started', task: toSnapshot(record) });
    return toSnapshot(record);
  }

  private spawn(record: TaskRecord, extraEnv: NodeJS.ProcessEnv | undefined): void {
    record.process = new RunningProcess({
      command: record.command,
      cwd: record.cwd,
      env: { ...process.env, ...extraEnv, [TASK_MARKER_ENV]: record.marker },
      onData: (chunk) => this.onData(record, chunk),
      onEnd: (result) => this.onEnd(record, result),
    });
    record.pid = record.process.pid;
  }

  /** Creates the task's log file; returns the problem if it cannot. */
  private openLog(record: TaskRecord): string | undefined {
    try {
      record.log = new TaskLogWriter(record.logPath);
      return undefined;
    } catch (error) {
      return `Could not create the output log ${record.logPath}: ${(error as Error).message}`;
    }
  }

  get(taskId: string): TaskSnapshot | undefined {
    const record = this.tasks.get(taskId);
    return record && toSnapshot(record);
  }

  list(): TaskSnapshot[] {
    // Reversed first: tasks started in the same millisecond keep newest-first order (the sort is stable).
    return [...this.tasks.values()].reverse().sort((a, b) => b.startedAt - a.startedAt).map(toSnapshot);
  }

  async readOutput(taskId: string, options: { offset?: number; maxBytes?: number } = {}): Promise<OutputSlice> {
    const record = this.require(taskId);
    try {
      return await readLogSlice(record.logPath, { ...options, settled: record.status !== 'running' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', offset: 0, nextOffset: 0, totalBytes: 0 };
      throw error;
    }
  }

  outputPreview(taskId: string, maxBytes?: number): string {
    const record = this.tasks.get(taskId);
    if (!record) return '';
    return this.bufferOf(record).preview(maxBytes);
  }

  moveToBackground(taskId: string): TaskSnapshot | undefined {
    const record = this.tasks.get(taskId);
    if (!record) return undefined;
    // Ended already: the waiting tool reports the result itself, so no late notification either.
    if (record.status === 'running' && record.foreground) {
      record.foreground = false;
      this.emit({ type: 'output', task: toSnapshot(record) });
    }
    return toSnapshot(record);
  }

  async cancel(taskId: string): Promise<TaskSnapshot> {
    const record = this.require(taskId);
    if (record.status === 'running') {
      record.killReason ??= 'cancelled';
      await this.kill([record]);
    }
    await settledOf(record);
    return toSnapshot(record);
  }

  async cancelAll(): Promise<void> {
    const running = [...this.tasks.values()].filter((r) => r.status === 'running');
    for (const record of running) record.killReason ??= 'cancelled';
    await this.kill(running);
    await Promise.all(running.map(settledOf));
  }

  waitForEnd(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
    const record = this.require(taskId);
    if (record.settled) return Promise.resolve(toSnapshot(record));
    return new Promise<TaskSnapshot>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = () => {
        record.endWaiters = record.endWaiters.filter((w) => w !== waiter);
        reject(abortError(signal as AbortSignal));
      };
      const waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(toSnapshot(record));
      };
      record.endWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  remove(taskId: string): void {
    const record = this.tasks.get(taskId);
    if (!record) return;
    if (record.status === 'running') throw new Error(`Task ${taskId} is still running; cancel it before removing it.`);
    this.tasks.delete(taskId);
    void rm(record.logPath, { force: true }).catch(() => undefined);
    this.emit({ type: 'removed', taskId });
  }

  onEvent(listener: (event: TaskEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  restore(previous: readonly TaskSnapshot[]): void {
    for (const snapshot of previous) {
      if (this.tasks.has(snapshot.id)) continue;
      const wasRunning = snapshot.status === 'running';
      this.tasks.set(snapshot.id, {
        id: snapshot.id,
        command: snapshot.command,
        ...(snapshot.description !== undefined && { description: snapshot.description }),
        cwd: snapshot.cwd,
        origin: snapshot.origin,
        ...(snapshot.timeoutMs !== undefined && { timeoutMs: snapshot.timeoutMs }),
        logPath: snapshot.logPath,
        startedAt: snapshot.startedAt,
        marker: '',
        ...(snapshot.pid !== undefined && { pid: snapshot.pid }),
        status: wasRunning ? 'interrupted' : snapshot.status,
        exitCode: snapshot.exitCode,
        signal: snapshot.signal,
        ...(snapshot.endedAt !== undefined && { endedAt: snapshot.endedAt }),
        error: wasRunning ? 'The window closed or reloaded while this task ran.' : snapshot.error,
        restoredBytes: snapshot.outputBytes,
        endWaiters: [],
        settled: true,
      });
    }
  }

  /** Kills every task's whole tree at once (SIGKILL, synchronous), so none outlives this process. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const targets: KillTarget[] = [];
    for (const record of this.tasks.values()) {
      if (!record.marker) continue; // restored: not ours
      // A finished task's pid may belong to someone else by now; its marker still finds escaped descendants.
      targets.push(record.status === 'running' && record.pid !== undefined ? { pid: record.pid, marker: record.marker } : { marker: record.marker });
    }
    killTreesNow(targets);
    this.lifetime.abort();
    this.pacer.dispose();
    for (const record of this.tasks.values()) {
      clearTimeout(record.timeoutTimer);
      clearTimeout(record.outputTimer);
      if (record.status === 'running') {
        record.status = 'interrupted';
        record.endedAt = Date.now();
        record.error = 'Stopped because Background Agent shut down.';
        record.process?.detach();
      }
      settleWaiters(record);
      record.log?.close();
    }
    this.listeners.clear();
    this.notifications.dispose();
  }

  private prepare(cwd: string): string | undefined {
    try {
      if (!statSync(cwd).isDirectory()) return `The working directory is not a folder: ${cwd}`;
    } catch {
      return `The working directory does not exist: ${cwd}`;
    }
    if (!this.logDirReady) {
      try {
        mkdirSync(this.options.logDir, { recursive: true });
        this.logDirReady = true;
      } catch (error) {
        return `Could not create the task log folder ${this.options.logDir}: ${(error as Error).message}`;
      }
    }
    return undefined;
  }

  private failBeforeSpawn(record: TaskRecord, problem: string): void {
    const message = Buffer.from(`Could not start the command: ${problem}\n`);
    record.buffer?.push(message);
    try {
      writeFileSync(record.logPath, message);
    } catch {
      // The log folder itself is the problem; readOutput answers with an empty slice.
    }
    this.onEnd(record, { exitCode: null, signal: null, error: problem });
  }

  private onData(record: TaskRecord, chunk: Buffer): void {
    record.buffer?.push(chunk);
    if (record.outputTimer === undefined && this.listeners.size > 0) {
      record.outputTimer = setTimeout(() => {
        record.outputTimer = undefined;
        if (record.status === 'running') this.emit({ type: 'output', task: toSnapshot(record) });
      }, OUTPUT_EVENT_INTERVAL_MS);
    }
    record.log?.write(chunk);
  }

  private onEnd(record: TaskRecord, result: ProcessResult): void {
    clearTimeout(record.timeoutTimer);
    clearTimeout(record.outputTimer);
    record.outputTimer = undefined;
    record.exitCode = result.exitCode;
    record.signal = result.signal;
    if (result.error !== undefined) {
      record.error = result.error;
      if (record.log) {
        const message = Buffer.from(`Could not start the command: ${result.error}\n`);
        record.buffer?.push(message);
        record.log.write(message);
      }
    }
    if (record.log) {
      record.log.close();
      if (record.log.error) record.error ??= `Writing the output log failed: ${record.log.error.message}`;
    }
    if (this.disposed) return; // dispose() already settled its status; nobody listens any more.
    record.endedAt = Date.now();
    record.status = record.killReason ?? (result.error === undefined && result.exitCode === 0 ? 'completed' : 'failed');
    // The log is complete (written synchronously), so whoever opens it after `ended` reads every byte.
    this.queueNotification(record);
    this.emit({ type: 'ended', task: toSnapshot(record) });
    settleWaiters(record);
    // The shell exited on its own but left processes behind (`cmd &` stays in its group; a `setsid` one
    // shows itself by holding the pipe): they must not outlive the task. Checked cheaply first, because
    // hundreds of tasks may end at once and a full search reads all of /proc.
    if (!record.killReason && record.pid !== undefined && (result.pipeHeldOpen || groupExists(record.pid))) {
      void terminateTrees([{ pid: record.pid, marker: record.marker }], this.killGraceMs, this.lifetime.signal);
    }
  }

  private queueNotification(record: TaskRecord): void {
    const conversationId = record.origin.conversationId;
    // A foreground task's result goes back through the tool that waited for it.
    if (conversationId === undefined || record.foreground) return;
    const buffer = this.bufferOf(record);
    this.notifications.push({
      taskId: record.id,
      conversationId,
      status: record.status,
      exitCode: record.exitCode,
      durationMs: (record.endedAt ?? Date.now()) - record.startedAt,
      command: record.command,
      ...(record.description !== undefined && { description: record.description }),
      outputTail: notificationTail(buffer, record.id, this.tailBytes),
      outputBytes: buffer.totalBytes,
      queuedAt: Date.now(),
    });
  }

  /** Kills the trees and resolves once every process is gone and each task has ended. */
  private async kill(records: readonly TaskRecord[]): Promise<void> {
    // Not spawned yet: there is nothing to kill, it simply ends.
    const queued = new Set(records.filter((r) => r.status === 'running' && r.process === undefined));
    if (queued.size > 0) {
      this.pacer.drop((q) => queued.has(q.record));
      for (const record of queued) this.onEnd(record, { exitCode: null, signal: null });
    }
    const fresh = records.filter((r) => r.status === 'running' && !r.killing);
    if (fresh.length > 0) {
      const killing = terminateTrees(
        fresh.flatMap((r) => (r.pid === undefined ? [] : [{ pid: r.pid, marker: r.marker }])),
        this.killGraceMs,
        this.lifetime.signal,
      );
      for (const record of fresh) record.killing = killing;
    }
    await Promise.all(records.map(async (record) => {
      await record.killing;
      if (record.settled) return;
      // The tree is gone; the shell's exit event is normally already on its way.
      const ended = settledOf(record);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_AFTER_KILL_MS)));
      await Promise.race([ended, late]);
      clearTimeout(timer);
      if (record.status === 'running') record.process?.detach();
    }));
  }

  private bufferOf(record: TaskRecord): HeadTailBuffer {
    if (!record.buffer) {
      const headBytes = this.options.headBytes ?? DEFAULT_HEAD_BYTES;
      const tailBytes = this.options.tailBytes ?? DEFAULT_TAIL_BYTES;
      try {
        const edges = readLogEdgesSync(record.logPath, headBytes, tailBytes);
        record.buffer = HeadTailBuffer.fromEdges(edges.head, edges.tail, edges.totalBytes, headBytes, tailBytes);
      } catch {
        record.buffer = new HeadTailBuffer(headBytes, tailBytes);
      }
    }
    return record.buffer;
  }

  private require(taskId: string): TaskRecord {
    const record = this.tasks.get(taskId);
    if (!record) throw new UnknownTaskError(taskId);
    return record;
  }

  private emit(event: TaskEvent): void {
    callListeners(this.listeners, event);
  }
}

function settleWaiters(record: TaskRecord): void {
  record.settled = true;
  const waiters = record.endWaiters;
  record.endWaiters = [];
  for (const waiter of waiters) waiter();
}

/** Resolves once the task has ended and everyone was told (log complete, `ended` emitted). */
function settledOf(record: TaskRecord): Promise<void> {
  if (record.settled) return Promise.resolve();
  return new Promise((resolve) => record.endWaiters.push(resolve));
}

function groupExists(pgid: number): boolean {
  if (process.platform === 'win32') return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The wait was aborted.', 'AbortError');
}
