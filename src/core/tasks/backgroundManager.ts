// The one owner of background tasks: starts them through the process runner, keeps their output (log
// file + bounded memory), decides their final status, queues one notification per ended task, and
// kills every process it started when asked or disposed. It decides *when* things happen to a task; how a
// record is built (taskRecordBuilders), its files made (taskFiles), its trees killed (taskKiller), its end awaited
// (endWaiters) and its notification worded (endNotification) live in their own modules.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UnknownTaskError, type BackgroundManagerOptions } from './backgroundManagerApi';
import { endNotification } from './endNotification';
import { settledOf, settleWaiters, waitForSettled } from './endWaiters';
import { newInstanceId, newTaskId } from './ids';
import { callListeners } from './listeners';
import { NotificationQueue } from './notificationQueue';
import { NOTIFICATION_TAIL_BYTES } from './notificationTail';
import { DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES, type HeadTailBuffer } from './outputBuffer';
import { RunningProcess, type ProcessResult } from './processRunner';
import { TASK_MARKER_ENV } from './processTree';
import { SpawnPacer } from './spawnPacer';
import { bufferOf, cwdProblem, LogFolder, openLog, recordStartFailure } from './taskFiles';
import { killAllNow, killLeftovers, killTasks, type KillContext } from './taskKiller';
import { readLogSlice } from './taskLog';
import { toSnapshot, type TaskRecord } from './taskRecord';
import { newTaskRecord, restoredTaskRecord } from './taskRecordBuilders';
import type { Disposable, OutputSlice, StartTaskOptions, TaskEvent, TaskManager, TaskSnapshot } from './types';

// Re-exported: callers import the options and the error from here (they live apart only to keep this file short).
export { UnknownTaskError, type BackgroundManagerOptions } from './backgroundManagerApi';

/** At most this many `output` events per task per second (UIs re-render on each). */
const OUTPUT_EVENT_INTERVAL_MS = 250;
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
  /** How kills reach back into the manager (see taskKiller). */
  private readonly killContext: KillContext;
  /** A burst of starts is spawned over several event-loop turns; the later ones get their pid then. */
  private readonly pacer = new SpawnPacer<QueuedSpawn>(SPAWN_BUDGET_MS, ({ record, env }) => {
    if (record.status !== 'running') return;
    const logProblem = openLog(record);
    if (logProblem) return this.failBeforeSpawn(record, logProblem);
    this.spawn(record, env);
    // Its pid is news for whoever shows it (the `started` event had none).
    this.emit({ type: 'output', task: toSnapshot(record) });
  });
  private readonly tailBytes: number;
  private readonly logFolder: LogFolder;
  private readonly bufferHeadBytes: number;
  private readonly bufferTailBytes: number;
  private disposed = false;

  constructor(private readonly options: BackgroundManagerOptions) {
    this.killContext = {
      killGraceMs: options.killGraceMs ?? 2000,
      lifetime: this.lifetime.signal,
      endQueued: (queued) => {
        this.pacer.drop((q) => queued.has(q.record));
        for (const record of queued) this.onEnd(record, { exitCode: null, signal: null });
      },
    };
    this.tailBytes = options.notificationTailBytes ?? NOTIFICATION_TAIL_BYTES;
    this.logFolder = new LogFolder(options.logDir);
    this.bufferHeadBytes = options.headBytes ?? DEFAULT_HEAD_BYTES;
    this.bufferTailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
  }

  start(options: StartTaskOptions): TaskSnapshot {
    if (this.disposed) throw new Error('The background task manager was disposed.');
    let id = newTaskId();
    while (this.tasks.has(id)) id = newTaskId();
    const record = newTaskRecord(options, {
      id,
      logPath: join(this.options.logDir, `${id}.log`),
      marker: `${this.instanceId}.${id}`,
      headBytes: this.bufferHeadBytes,
      tailBytes: this.bufferTailBytes,
    });
    this.tasks.set(id, record);

    // The log folder is only made once the working directory is known to be good.
    const problem = cwdProblem(options.cwd) ?? this.logFolder.ensure();
    if (problem) {
      this.emit({ type: 'started', task: toSnapshot(record) });
      this.failBeforeSpawn(record, problem);
      return toSnapshot(record);
    }
    // Queued in a burst: its log and environment are made when it is spawned, so a burst's starts stay cheap.
    let logProblem: string | undefined;
    this.pacer.submit({ record, env: options.env }, () => {
      logProblem = openLog(record);
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
    return waitForSettled(this.require(taskId), signal);
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
      if (!this.tasks.has(snapshot.id)) this.tasks.set(snapshot.id, restoredTaskRecord(snapshot));
    }
  }

  /** Kills every task's whole tree at once (SIGKILL, synchronous), so none outlives this process. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    killAllNow(this.tasks.values());
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

  private failBeforeSpawn(record: TaskRecord, problem: string): void {
    recordStartFailure(record, problem);
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
    killLeftovers(record, result, this.killContext);
  }

  private queueNotification(record: TaskRecord): void {
    const notification = endNotification(record, () => this.bufferOf(record), this.tailBytes);
    if (notification) this.notifications.push(notification);
  }

  /** Kills the trees and resolves once every process is gone and each task has ended. */
  private kill(records: readonly TaskRecord[]): Promise<void> {
    return killTasks(records, this.killContext);
  }

  private bufferOf(record: TaskRecord): HeadTailBuffer {
    return bufferOf(record, this.bufferHeadBytes, this.bufferTailBytes);
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
