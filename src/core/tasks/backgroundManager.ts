// The one owner of background tasks: starts them through the process runner, follows their logs' growth,
// ends them, queues one notification per ended task, and kills every process it started when asked or
// disposed. It decides *when* things happen to a task; the Task (task.ts) owns what it is and how it
// ended, its TaskLog the output, taskKiller.ts how trees are killed.
import { join } from 'node:path';
import { Emitter } from '../events';
import { PortWatcher } from './portWatcher';
import { DEFAULT_MAX_LOG_BYTES, LogTrimmer } from './logTrimmer';
import { MatchNotifier } from './matchNotifier';
import { PatternThread } from './patternThread';
import { NOTIFICATION_TAIL_BYTES, NotificationQueue } from './notifications';
import { DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES } from './outputBuffer';
import { AttachedProcess, ProcessRunner, SpawnPacer } from './processRunner';
import { TASK_MARKER_ENV } from './processTable';
import { cwdProblem, newInstanceId, newTaskId, Task, type OutputMemory } from './task';
import { killAllNow, killTasks, LeftoverSweeper, type KillContext } from './taskKiller';
import { exitPathOf, LogFolder, OutputWatcher } from './taskLog';
import { OwnerGuard, processId, withProcessId } from './ownerGuard';
import { checkOutputPattern } from './outputPattern';
import { waitUntilReady, type ReadyConditions, type ReadyOutcome } from './readiness';
import { TakeOver } from './takeOver';
import { HIDDEN_FROM_AGENT_TASKS, startedByModel, UnknownTaskError, type BackgroundManagerOptions, type Disposable, type OutputSlice } from './types';
import type { ProcessResult, StartTaskOptions, TaskEvent, TaskManager, TaskNotification, TaskSnapshot } from './types';

export { UnknownTaskError, type BackgroundManagerOptions } from './types';

/** How often running tasks' logs are checked for growth: at most this many `output` events per task per second. */
const OUTPUT_EVENT_INTERVAL_MS = 250;

interface QueuedSpawn {
  readonly record: Task;
  /** Variables added to the inherited environment (StartTaskOptions.env). */
  readonly env: Readonly<Record<string, string>>;
  /** Inherited variables the task does not get (HIDDEN_FROM_AGENT_TASKS when a model started it). */
  readonly unset: readonly string[];
}

export class BackgroundManager implements TaskManager {
  readonly notifications = new NotificationQueue();
  private readonly tasks = new Map<string, Task>();
  private readonly events = new Emitter<TaskEvent>();
  private readonly instanceId = newInstanceId();
  /** Aborted on dispose: stops kill loops that are still watching processes die. */
  private readonly lifetime = new AbortController();
  /** How kills reach back into the manager (see taskKiller). */
  private readonly killContext: KillContext;
  /** A burst of starts is spawned over several event-loop turns; the later ones get their pid then. */
  private readonly pacer = new SpawnPacer<QueuedSpawn>((queued) => {
    const { record } = queued;
    if (!record.running) return;
    this.spawn(queued);
    // Its pid is news for whoever shows it (the `started` event had none).
    if (record.pid !== undefined) this.emit({ type: 'output', task: record.snapshot() });
  });
  private readonly runner: ProcessRunner;
  private readonly logTrimmer: LogTrimmer;
  private readonly outputWatcher = new OutputWatcher<Task>(OUTPUT_EVENT_INTERVAL_MS, (record) => {
    record.log.trimIfOver(this.logTrimmer);
    if (this.events.hasListeners) this.emit({ type: 'output', task: record.snapshot() });
  });
  /** `notify_on` of the running tasks that have one. */
  private readonly matchNotifiers = new Map<Task, MatchNotifier>();
  /** Where output is matched against the model's patterns (wait_for, notify_on): a worker thread. */
  private readonly patterns = new PatternThread();
  /** The TCP ports running tasks listen on: once a second, faster while a tool waits for a port. */
  private readonly ports = new PortWatcher({
    roots: () => {
      const roots = new Map<string, number>();
      for (const task of this.tasks.values()) if (task.running && task.pid !== undefined) roots.set(task.id, task.pid);
      return roots;
    },
    onChange: (taskId, ports) => {
      const record = this.tasks.get(taskId);
      if (record?.running && record.setPorts(ports)) this.emit({ type: 'output', task: record.snapshot() });
    },
  });
  private readonly leftovers: LeftoverSweeper;
  private readonly tailBytes: number;
  private readonly logFolder: LogFolder;
  private readonly memory: OutputMemory;
  /** See BackgroundManagerOptions.reattachGraceMs. */
  private readonly graceMs: number;
  /** Started with the first task (or take-over): kills our tasks if this process dies (ownerGuard.ts). */
  private guard: OwnerGuard | undefined;
  private guardStarted = false;
  private takeOver: TakeOver | undefined;
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
    this.memory = { headBytes: options.headBytes ?? DEFAULT_HEAD_BYTES, tailBytes: options.tailBytes ?? DEFAULT_TAIL_BYTES };
    // The guard is told of every launcher: a subshell in its group may be about to start a task.
    this.runner = new ProcessRunner(options.spawnMode, {
      started: (pid) => {
        const launcher = processId(pid);
        if (launcher) this.guard?.launcherGroup(launcher);
      },
      gone: (pid) => this.guard?.launcherGone(pid),
    });
    this.logTrimmer = new LogTrimmer(options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
    this.leftovers = new LeftoverSweeper(this.killContext);
    this.graceMs = Math.max(0, options.reattachGraceMs ?? 0);
  }

  start(options: StartTaskOptions): TaskSnapshot {
    if (this.disposed) throw new Error('The background task manager was disposed.');
    let id = newTaskId();
    while (this.tasks.has(id)) id = newTaskId();
    const record = Task.starting(options, { id, logPath: join(this.options.logDir, `${id}.log`), marker: `${this.instanceId}.${id}` }, this.memory);
    this.tasks.set(id, record);

    // The log folder is only made once the working directory is known to be good.
    const problem = cwdProblem(options.cwd) ?? this.logFolder.ensure();
    if (!problem) this.startGuard();
    if (problem) {
      this.emit({ type: 'started', task: record.snapshot() });
      this.onEnd(record, { exitCode: null, signal: null, error: problem });
      return record.snapshot();
    }
    // The runner creates the log file (a failure ends the task as failed, with the reason).
    const queued: QueuedSpawn = { record, env: definedValues(options.env), unset: startedByModel(options.origin) ? HIDDEN_FROM_AGENT_TASKS : [] };
    this.pacer.submit(queued, () => this.spawn(queued));
    record.armTimeout(() => void this.kill([record]));
    this.followMatches(record, 0);
    this.emit({ type: 'started', task: record.snapshot() });
    return record.snapshot();
  }

  private spawn({ record, env, unset }: QueuedSpawn): void {
    this.outputWatcher.watch(record);
    const entry = record.entryPath;
    record.spawned(this.runner.start({
      command: record.command,
      cwd: entry ?? record.cwd,
      // Entered through a held folder, the shell would call that path its PWD; it is `cwd`.
      env: { ...env, ...(entry !== undefined && { PWD: record.cwd }), [TASK_MARKER_ENV]: record.marker },
      unsetEnv: unset,
      logPath: record.log.path,
      // Only read by a later window, which only a manager that lets its tasks outlive it can have.
      ...(this.graceMs > 0 && { exitPath: record.log.exitPath }),
      onLatePid: (pid) => {
        this.pidKnown(record, pid);
        // News for whoever shows it (the `started` event had none).
        if (record.running) this.emit({ type: 'output', task: record.snapshot() });
      },
      onEnd: (result) => this.onEnd(record, result),
    }));
    if (record.process?.pid !== undefined) this.pidKnown(record, record.process.pid);
  }

  /** Its start time names it for good; the guard stops it and its descendants even if they lose the marker. */
  private pidKnown(record: Task, pid: number): void {
    record.pidKnown(pid);
    let later = false;
    withProcessId(pid, (id) => {
      if (!id) return;
      record.pidKnown(pid, id.startTicks);
      if (!record.running) return;
      this.guard?.track(id);
      // Read from `ps` a moment after the start: the snapshot saved for a reload needs it (taskPersistence).
      if (later) this.emit({ type: 'output', task: record.snapshot() });
    });
    later = true;
    this.ports.refresh();
  }

  /** Starts telling the conversation of output lines that match the task's `notify_on`, from byte `from`. */
  private followMatches(record: Task, from: number): void {
    if (record.notifyOn === undefined || record.origin.conversationId === undefined) return;
    // Checked by the tool; checked again for one restored from disk (a reload, a restart from the view).
    const checked = checkOutputPattern('notify_on', record.notifyOn);
    if (!checked.ok) return;
    const base = { id: record.id, log: record.log, notificationBase: () => record.matchNotificationBase() };
    const push = (n: TaskNotification): void => this.notifications.push(n);
    this.matchNotifiers.set(record, new MatchNotifier(base, checked.regex, this.patterns, push, { from, batchMs: this.options.matchBatchMs }));
  }

  get(taskId: string): TaskSnapshot | undefined {
    const record = this.tasks.get(taskId);
    if (record?.running) record.log.refreshSize();
    return record?.snapshot();
  }

  list(): TaskSnapshot[] {
    // Reversed first: tasks started in the same millisecond keep newest-first order (the sort is stable).
    return [...this.tasks.values()].reverse().sort((a, b) => b.startedAt - a.startedAt).map((task) => task.snapshot());
  }

  runningCount(conversationId: string): number {
    let count = 0;
    for (const record of this.tasks.values()) if (record.running && record.origin.conversationId === conversationId) count++;
    return count;
  }

  async readOutput(taskId: string, options: { offset?: number; maxBytes?: number } = {}): Promise<OutputSlice> {
    const record = this.require(taskId);
    return record.log.read({ ...options, settled: !record.running });
  }

  outputPreview(taskId: string, maxBytes?: number): string {
    const record = this.tasks.get(taskId);
    if (!record) return '';
    if (record.running) record.log.refreshSize();
    return record.log.edges().preview(maxBytes);
  }

  /** Changes `maxLogBytes` (see BackgroundManagerOptions) for every task from now on. */
  setMaxLogBytes(bytes: number): void {
    this.logTrimmer.setMaxBytes(bytes);
  }

  moveToBackground(taskId: string): TaskSnapshot | undefined {
    const record = this.tasks.get(taskId);
    if (!record) return undefined;
    // Ended already: the waiting tool reports the result itself, so no late notification either.
    if (record.moveToBackground()) {
      record.log.refreshSize();
      this.emit({ type: 'output', task: record.snapshot() });
    }
    return record.snapshot();
  }

  async cancel(taskId: string): Promise<TaskSnapshot> {
    const record = this.require(taskId);
    if (record.running) {
      record.killFor('cancelled');
      await this.kill([record]);
    }
    await record.whenSettled();
    return record.snapshot();
  }

  async cancelAll(): Promise<void> {
    const running = [...this.tasks.values()].filter((r) => r.running);
    for (const record of running) record.killFor('cancelled');
    await this.kill(running);
    await Promise.all(running.map((r) => r.whenSettled()));
  }

  waitForEnd(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
    return this.require(taskId).waitForEnd(signal);
  }

  get portsSupported(): boolean {
    return this.ports.supported;
  }

  async waitUntilReady(taskId: string, conditions: ReadyConditions, signal?: AbortSignal): Promise<ReadyOutcome> {
    const record = this.require(taskId);
    if (!record.running) return { kind: 'ended' };
    const hurry = conditions.port === undefined ? undefined : this.ports.hurry();
    record.readyWait(1);
    this.emit({ type: 'output', task: record.snapshot() });
    try {
      return await waitUntilReady(record, conditions, { portsOf: (id) => this.ports.portsOf(id), patterns: this.patterns }, signal);
    } finally {
      hurry?.dispose();
      record.readyWait(-1);
      if (!this.disposed) this.emit({ type: 'output', task: record.snapshot() });
    }
  }

  remove(taskId: string): void {
    const record = this.tasks.get(taskId);
    if (!record) return;
    if (record.running) throw new Error(`Task ${taskId} is still running; cancel it before removing it.`);
    this.tasks.delete(taskId);
    void record.log.remove();
    this.emit({ type: 'removed', taskId });
  }

  onEvent(listener: (event: TaskEvent) => void): Disposable {
    return this.events.event(listener);
  }

  restore(previous: readonly TaskSnapshot[]): void {
    const takeOver = new TakeOver(this.options.logDir, this.instanceId, () => this.startGuard());
    for (const snapshot of previous) {
      if (this.tasks.has(snapshot.id)) continue;
      const decision = snapshot.status === 'running' ? takeOver.decide(snapshot, exitPathOf(snapshot.logPath)) : undefined;
      if (decision && 'follow' in decision && snapshot.reattach) {
        const id = decision.follow;
        const task = Task.takenOver(snapshot, snapshot.reattach, this.memory, (t) => new AttachedProcess(id, t.log.exitPath, (result) => this.onEnd(t, result)));
        this.tasks.set(snapshot.id, task);
        this.outputWatcher.watch(task);
        task.armTimeout(() => void this.kill([task]));
        // What was matched before the reload was told then; from here on, what is new.
        this.followMatches(task, snapshot.outputBytes);
      } else {
        this.tasks.set(snapshot.id, Task.restored(snapshot, this.memory, decision && 'interrupted' in decision ? decision.interrupted : undefined));
      }
    }
    this.takeOver?.dispose();
    this.takeOver = takeOver;
    takeOver.complete(this.killContext.killGraceMs);
    this.ports.refresh();
  }

  /**
   * Kills every task's whole tree at once (SIGKILL, synchronous), so none outlives this process; or,
   * with a reattach grace, lets go of the running ones (their guard ends them unless a later manager of
   * this log folder takes them over in time).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const keep = this.graceMs > 0 && this.guard !== undefined;
    // The launcher first: a task it is starting right now dies with it, or already carries its marker
    // and is found by killAllNow's search.
    if (keep) this.runner.release();
    else this.runner.dispose();
    killAllNow([...this.tasks.values()].filter((task) => !keep || !task.running));
    if (keep) this.guard?.release();
    else this.guard?.dispose();
    this.takeOver?.dispose();
    this.lifetime.abort();
    this.pacer.dispose();
    this.outputWatcher.dispose();
    this.ports.dispose();
    for (const notifier of this.matchNotifiers.values()) notifier.dispose();
    this.matchNotifiers.clear();
    this.patterns.dispose();
    this.logTrimmer.dispose();
    this.leftovers.dispose();
    for (const record of this.tasks.values()) {
      if (keep) record.release();
      else record.interrupt('Stopped because Background Agent shut down.');
      record.settle();
    }
    this.events.dispose();
    this.notifications.dispose();
  }

  private startGuard(): OwnerGuard | undefined {
    if (!this.guardStarted) this.guard = OwnerGuard.start(this.options.logDir, this.instanceId, this.graceMs);
    this.guardStarted = true;
    return this.guard;
  }

  private onEnd(record: Task, result: ProcessResult): void {
    const { pid, pidStartTicks } = record;
    if (pid !== undefined && pidStartTicks !== undefined && !this.disposed) this.guard?.untrack({ pid, startTicks: pidStartTicks });
    record.stopHolding();
    this.outputWatcher.unwatch(record);
    // The process wrote its log itself and has exited: the file is complete now.
    record.log.refreshSize();
    // Not once disposed: the task list was saved as it is, and a trim would change the log behind it.
    if (this.disposed) return; // dispose() already settled its status; nobody listens any more.
    record.log.trimIfOver(this.logTrimmer);
    // The end is reported once the log is in its final shape: its tail goes into the notification.
    if (record.log.isTrimming) {
      void record.log.trimDone.then(() => this.onEnd(record, result));
      return;
    }
    // Lines that matched `notify_on` near the end are told before the end is.
    const matches = this.matchNotifiers.get(record);
    if (matches) {
      this.matchNotifiers.delete(record);
      void matches.finish().then(() => this.onEnd(record, result));
      return;
    }
    record.finish(result);
    this.ports.refresh();
    const notification = record.notification(this.tailBytes);
    if (notification) this.notifications.push(notification);
    this.emit({ type: 'ended', task: record.snapshot() });
    record.settle();
    this.leftovers.check(record);
  }

  /** Kills the trees and resolves once every process is gone and each task has ended. */
  private kill(records: readonly Task[]): Promise<void> {
    return killTasks(records, this.killContext);
  }

  private require(taskId: string): Task {
    const record = this.tasks.get(taskId);
    if (!record) throw new UnknownTaskError(taskId);
    return record;
  }

  private emit(event: TaskEvent): void {
    this.events.fire(event);
  }
}

/** StartTaskOptions.env as plain strings (an undefined value means "not set", as Node's spawn reads it). */
function definedValues(env: NodeJS.ProcessEnv | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) if (value !== undefined) out[name] = value;
  return out;
}
