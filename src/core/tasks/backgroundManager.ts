// The one owner of background tasks: starts them through the process runner, follows their output (the
// processes write their log files themselves; memory holds only a bounded head + tail read back on
// demand), decides their final status, queues one notification per ended task, and
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
import { DEFAULT_MAX_LOG_BYTES, LogTrimmer } from './logTrimmer';
import { NotificationQueue } from './notificationQueue';
import { NOTIFICATION_TAIL_BYTES } from './notificationTail';
import { DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES, type HeadTailBuffer } from './outputBuffer';
import { OutputWatcher } from './outputWatcher';
import { ProcessRunner, type ProcessResult } from './processRunner';
import { TASK_MARKER_ENV } from './processTree';
import { SpawnPacer } from './spawnPacer';
import { appendStartFailure, cwdProblem, LogFolder } from './taskFiles';
import { killAllNow, killTasks, LeftoverSweeper, type KillContext } from './taskKiller';
import { readTrimmableLogSlice } from './taskLog';
import { bufferOf, refreshOutputBytes } from './taskOutput';
import { toSnapshot, type TaskRecord } from './taskRecord';
import { newTaskRecord, restoredTaskRecord } from './taskRecordBuilders';
import { HIDDEN_FROM_AGENT_TASKS, type Disposable, type OutputSlice, type StartTaskOptions, type TaskEvent, type TaskManager, type TaskSnapshot } from './types';

// Re-exported: callers import the options and the error from here (they live apart only to keep this file short).
export { UnknownTaskError, type BackgroundManagerOptions } from './backgroundManagerApi';

/** How often running tasks' logs are checked for growth: at most this many `output` events per task per second. */
const OUTPUT_EVENT_INTERVAL_MS = 250;
/**
 * Spawning time allowed per event-loop turn before further starts wait for the next turns (see SpawnPacer).
 * Matters when Node spawns (directSpawn): a turn lasts up to the budget plus one spawn; with a spawn at
 * 2.5 ms quiet and 10-16 ms on a loaded machine, 4 ms keeps a turn near 20 ms even then. A start through
 * the shell launcher costs microseconds, so a burst is never spread then.
 */
const SPAWN_BUDGET_MS = 4;

interface QueuedSpawn {
  readonly record: TaskRecord;
  /** Variables added to the inherited environment (StartTaskOptions.env). */
  readonly env: Readonly<Record<string, string>>;
  /** Inherited variables the task does not get (HIDDEN_FROM_AGENT_TASKS when the agent started it). */
  readonly unset: readonly string[];
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
  private readonly pacer = new SpawnPacer<QueuedSpawn>(SPAWN_BUDGET_MS, (queued) => {
    const { record } = queued;
    if (record.status !== 'running') return;
    this.spawn(queued);
    // Its pid is news for whoever shows it (the `started` event had none).
    if (record.pid !== undefined) this.emit({ type: 'output', task: toSnapshot(record) });
  });
  private readonly runner: ProcessRunner;
  private readonly logTrimmer: LogTrimmer;
  private readonly outputWatcher = new OutputWatcher(OUTPUT_EVENT_INTERVAL_MS, (record) => {
    this.logTrimmer.check(record);
    if (this.listeners.size > 0) this.emit({ type: 'output', task: toSnapshot(record) });
  });
  private readonly leftovers: LeftoverSweeper;
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
    this.runner = new ProcessRunner(options.spawnMode);
    this.logTrimmer = new LogTrimmer(options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
    this.leftovers = new LeftoverSweeper(this.killContext);
  }

  start(options: StartTaskOptions): TaskSnapshot {
    if (this.disposed) throw new Error('The background task manager was disposed.');
    let id = newTaskId();
    while (this.tasks.has(id)) id = newTaskId();
    const record = newTaskRecord(options, {
      id,
      logPath: join(this.options.logDir, `${id}.log`),
      marker: `${this.instanceId}.${id}`,
    });
    this.tasks.set(id, record);

    // The log folder is only made once the working directory is known to be good.
    const problem = cwdProblem(options.cwd) ?? this.logFolder.ensure();
    if (problem) {
      this.emit({ type: 'started', task: toSnapshot(record) });
      this.failBeforeSpawn(record, problem);
      return toSnapshot(record);
    }
    // The runner creates the log file (a failure ends the task as failed, with the reason).
    const queued: QueuedSpawn = { record, env: definedValues(options.env), unset: options.origin.kind === 'agent' ? HIDDEN_FROM_AGENT_TASKS : [] };
    this.pacer.submit(queued, () => this.spawn(queued));
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      record.timeoutTimer = setTimeout(() => {
        record.killReason ??= 'timed_out';
        void this.kill([record]);
      }, options.timeoutMs);
    }
    this.emit({ type: 'started', task: toSnapshot(record) });
    return toSnapshot(record);
  }

  private spawn({ record, env, unset }: QueuedSpawn): void {
    this.outputWatcher.watch(record);
    const entry = record.cwdEntry;
    record.process = this.runner.start({
      command: record.command,
      cwd: entry?.path ?? record.cwd,
      // Entered through a held folder, the shell would call that path its PWD; it is `cwd`.
      env: { ...env, ...(entry && { PWD: record.cwd }), [TASK_MARKER_ENV]: record.marker },
      unsetEnv: unset,
      logPath: record.logPath,
      onLatePid: (pid) => {
        releaseCwdEntry(record);
        record.pid = pid;
        // News for whoever shows it (the `started` event had none).
        if (record.status === 'running') this.emit({ type: 'output', task: toSnapshot(record) });
      },
      onEnd: (result) => this.onEnd(record, result),
    });
    record.pid ??= record.process.pid;
    // Node's spawn returns once the child has entered its folder and run the command.
    if (record.pid !== undefined) releaseCwdEntry(record);
  }

  get(taskId: string): TaskSnapshot | undefined {
    const record = this.tasks.get(taskId);
    if (record?.status === 'running') refreshOutputBytes(record);
    return record && toSnapshot(record);
  }

  list(): TaskSnapshot[] {
    // Reversed first: tasks started in the same millisecond keep newest-first order (the sort is stable).
    return [...this.tasks.values()].reverse().sort((a, b) => b.startedAt - a.startedAt).map(toSnapshot);
  }

  async readOutput(taskId: string, options: { offset?: number; maxBytes?: number } = {}): Promise<OutputSlice> {
    const record = this.require(taskId);
    try {
      return await readTrimmableLogSlice(record.logPath, { ...options, settled: record.status !== 'running' }, record);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', offset: 0, nextOffset: 0, totalBytes: 0 };
      throw error;
    }
  }

  outputPreview(taskId: string, maxBytes?: number): string {
    const record = this.tasks.get(taskId);
    if (!record) return '';
    if (record.status === 'running') refreshOutputBytes(record);
    return this.bufferOf(record).preview(maxBytes);
  }

  /** Changes `maxLogBytes` (see BackgroundManagerOptions) for every task from now on. */
  setMaxLogBytes(bytes: number): void {
    this.logTrimmer.setMaxBytes(bytes);
  }

  moveToBackground(taskId: string): TaskSnapshot | undefined {
    const record = this.tasks.get(taskId);
    if (!record) return undefined;
    // Ended already: the waiting tool reports the result itself, so no late notification either.
    if (record.status === 'running' && record.foreground) {
      record.foreground = false;
      refreshOutputBytes(record);
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
    // The launcher first: a task it is starting right now dies with it, or already carries its marker
    // and is found by killAllNow's search.
    this.runner.dispose();
    killAllNow(this.tasks.values());
    this.lifetime.abort();
    this.pacer.dispose();
    this.outputWatcher.dispose();
    this.logTrimmer.dispose();
    this.leftovers.dispose();
    for (const record of this.tasks.values()) {
      releaseCwdEntry(record);
      clearTimeout(record.timeoutTimer);
      if (record.status === 'running') {
        record.status = 'interrupted';
        record.endedAt = Date.now();
        record.error = 'Stopped because Background Agent shut down.';
        record.process?.detach();
      }
      settleWaiters(record);
    }
    this.listeners.clear();
    this.notifications.dispose();
  }

  private failBeforeSpawn(record: TaskRecord, problem: string): void {
    this.onEnd(record, { exitCode: null, signal: null, error: problem });
  }

  private onEnd(record: TaskRecord, result: ProcessResult): void {
    releaseCwdEntry(record);
    clearTimeout(record.timeoutTimer);
    this.outputWatcher.unwatch(record);
    record.exitCode = result.exitCode;
    record.signal = result.signal;
    // The process wrote its log itself and has exited: the file is complete now.
    refreshOutputBytes(record);
    // Not once disposed: the task list was saved as it is, and a trim would change the log behind it.
    if (!this.disposed) this.logTrimmer.check(record);
    // The end is reported once the log is in its final shape: its tail goes into the notification.
    if (record.trimming) {
      void record.trimming.then(() => {
        if (!this.disposed) this.onEnd(record, result);
      });
      return;
    }
    if (result.error !== undefined) {
      record.error = result.error;
      appendStartFailure(record, result.error, this.bufferHeadBytes, this.bufferTailBytes);
    }
    if (this.disposed) return; // dispose() already settled its status; nobody listens any more.
    record.endedAt = Date.now();
    record.status = record.killReason ?? (result.error === undefined && result.exitCode === 0 ? 'completed' : 'failed');
    this.queueNotification(record);
    this.emit({ type: 'ended', task: toSnapshot(record) });
    settleWaiters(record);
    this.leftovers.check(record);
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

/** StartTaskOptions.env as plain strings (an undefined value means "not set", as Node's spawn reads it). */
function definedValues(env: NodeJS.ProcessEnv | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) if (value !== undefined) out[name] = value;
  return out;
}

function releaseCwdEntry(record: TaskRecord): void {
  record.cwdEntry?.release();
  record.cwdEntry = undefined;
}
