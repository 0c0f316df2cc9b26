// The background-task contract shared by the engine, the tools, the CLI and the VS Code views.
// Plain data only: snapshots are safe to post to a webview or persist to storage.
import type { Disposable } from '../events';
import type { ListeningPort } from './listeningPorts';
import type { MatchReport } from './matchNotifier';
import type { ReadyConditions, ReadyOutcome } from './readiness';

export type { ListeningPort } from './listeningPorts';
export type { MatchReport } from './matchNotifier';
export type { ReadyConditions, ReadyOutcome } from './readiness';

export type TaskStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'interrupted';

export const FINISHED_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled', 'timed_out', 'interrupted'];

/** Who started a task, and which conversation (if any) hears about its end. */
export type TaskOrigin =
  | { kind: 'agent'; conversationId: string }
  /** Started by the person (command palette, tree title). `conversationId` set = report to that chat. */
  | { kind: 'user'; conversationId?: string }
  /**
   * Started by another extension's agent (Copilot's agent mode, …) through the tools we contribute to VS Code
   * (src/vscode/lmTools). No conversation of ours hears of its end: the result waits in check_background and
   * the tree.
   */
  | { kind: 'externalAgent'; conversationId?: undefined };

/**
 * Not given to any task a model started, ours or another agent's (also when the person restarts one): the
 * person's API key must never reach a model, and `env` or a test's debug output would show it.
 */
export const HIDDEN_FROM_AGENT_TASKS: readonly string[] = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'];

/** True for every task a model asked for (ours or another agent's), false only for the person's own. */
export function startedByModel(origin: TaskOrigin): boolean {
  return origin.kind !== 'user';
}

export interface TaskSnapshot {
  readonly id: string;
  readonly command: string;
  readonly description?: string;
  readonly cwd: string;
  readonly pid?: number;
  readonly status: TaskStatus;
  /** Exit code once ended normally; null while running or when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly endedAt?: number;
  /** Total bytes the task has printed so far (stdout + stderr). */
  readonly outputBytes: number;
  /** The interleaved output on disk: all of it, except a `droppedOutput` range. */
  readonly logPath: string;
  /**
   * Bytes `from`–`to` of the output that were dropped from the log to keep a flooding task from filling the
   * disk (see `BackgroundManagerOptions.maxLogBytes`). The log keeps everything before and after them.
   */
  readonly droppedOutput?: DroppedRange;
  readonly origin: TaskOrigin;
  /** Wall-clock limit after which the task is killed with status `timed_out`. */
  readonly timeoutMs?: number;
  /** Spawn error or similar, in one sentence. */
  readonly error?: string;
  /** True while a tool waits on it in the foreground (bash): its end is not notified. See `TaskManager.moveToBackground`. */
  readonly foreground?: boolean;
  /**
   * While it runs: how a later window of this folder finds its processes again after a reload (see
   * takeOver.ts): the marker its processes carry and when its shell started (ticks since boot).
   */
  readonly reattach?: ReattachInfo;
  /** `notify_on`: output lines matching it are told to the conversation while it runs (matchNotifier.ts). */
  readonly notifyOn?: string;
  /** While it runs: the TCP ports its process tree listens on (listeningPorts.ts), lowest first. */
  readonly ports?: readonly ListeningPort[];
  /** While a tool waits until it is ready (`wait_for`, `wait_for_port`). */
  readonly waitingUntilReady?: boolean;
}

export interface ReattachInfo {
  readonly marker: string;
  readonly startTicks: number;
}

export type TaskEvent =
  | { readonly type: 'started'; readonly task: TaskSnapshot }
  /** Throttled progress (a few per second at most per task), never per chunk. */
  | { readonly type: 'output'; readonly task: TaskSnapshot }
  | { readonly type: 'ended'; readonly task: TaskSnapshot }
  | { readonly type: 'removed'; readonly taskId: string };

export interface StartTaskOptions {
  command: string;
  cwd: string;
  description?: string;
  timeoutMs?: number;
  origin: TaskOrigin;
  env?: NodeJS.ProcessEnv;
  /**
   * A tool waits for this task (bash): if it ends while still foreground, no notification is queued (the tool
   * result already carries its output). `moveToBackground` turns it into an ordinary, notified task.
   */
  foreground?: boolean;
  /** A way into `cwd` that was checked and is held open (see CwdEntry); the process starts through it. */
  cwdEntry?: CwdEntry;
  /** A regular expression (checked: outputPattern.ts); matching output lines are told to the conversation. */
  notifyOn?: string;
}

/**
 * A folder held open after it was checked to be inside the workspace, so that a task starts in that very
 * folder even if its path is swapped for a symlink in between. `path` enters it (on Linux
 * /proc/<pid>/fd/<n>, which the kernel resolves to the open folder, not by name); the manager calls
 * `release` once the process is in it or will never start, and the task still shows and gets `cwd` as PWD.
 */
export interface CwdEntry {
  readonly path: string;
  release(): void;
}

/** What the model is told when a task ends. One per ended task, for `origin.conversationId`. */
export interface TaskNotification {
  readonly taskId: string;
  readonly conversationId: string;
  readonly status: TaskStatus;
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly command: string;
  readonly description?: string;
  /** Bounded tail of the output (already cut to size, with a marker where it was cut). */
  readonly outputTail: string;
  readonly outputBytes: number;
  /** Epoch ms when queued. */
  readonly queuedAt: number;
  /** Set for a `notify_on` entry (the task still runs): the lines that matched. Unset: the task ended. */
  readonly match?: MatchReport;
}

/** A byte range of a task's output that is no longer in its log: `from` inclusive, `to` exclusive. */
export interface DroppedRange {
  readonly from: number;
  readonly to: number;
  /**
   * Where the output the task wrote during the last trim's race would have been (a median 16 KB of a 1 GB/s
   * flood): the log holds zeros there instead (see LogTrimmer), which readers leave out.
   */
  readonly lostAt?: number;
}

export interface OutputSlice {
  readonly text: string;
  /** Byte offset in the full log where `text` starts. */
  readonly offset: number;
  /** Offset to pass next time to continue reading. */
  readonly nextOffset: number;
  readonly totalBytes: number;
  /**
   * Set when this read met the dropped part of the log: it stopped where that part begins (the next read
   * continues after it), or it was asked to start inside it and starts where it ends.
   */
  readonly dropped?: DroppedRange;
  /**
   * Set when the bytes read are mostly not text (outputText.ts): `text` is then empty, and this holds a
   * hex dump of their start, for a person (the model is only told that binary output was not shown).
   */
  readonly binary?: { readonly hex: string };
}

export type { Disposable } from '../events';

/** The one owner of background processes. Implemented by `BackgroundManager` in backgroundManager.ts. */
export interface TaskManager extends Disposable {
  /**
   * Starts at once and returns the running snapshot (a spawn error yields a `failed` snapshot, never a throw).
   * The snapshot may have no `pid` yet (the process is being started off the main thread, or, when Node
   * spawns, later in a burst); an `output` event carries it once known.
   */
  start(options: StartTaskOptions): TaskSnapshot;
  get(taskId: string): TaskSnapshot | undefined;
  /** Newest first. */
  list(): TaskSnapshot[];
  /** How many tasks of this conversation (started by its agent or for it) still run; cheap: no snapshots. */
  runningCount(conversationId: string): number;
  /** Reads the log from `offset` (default: the last `maxBytes`), at most `maxBytes` bytes. */
  readOutput(taskId: string, options?: { offset?: number; maxBytes?: number }): Promise<OutputSlice>;
  /** Bounded head+tail text with a cut marker; synchronous, reads at most head + tail bytes of the log. */
  outputPreview(taskId: string, maxBytes?: number): string;
  /** Kills the whole process tree; resolves with the final snapshot once every process is gone. */
  cancel(taskId: string): Promise<TaskSnapshot>;
  cancelAll(): Promise<void>;
  /** Resolves when the task has ended (at once if it already has). */
  waitForEnd(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot>;
  /**
   * Waits until a line of its output matches `pattern` and/or its tree listens on `port` (readiness.ts),
   * it ends, the time runs out or `signal` aborts; the task runs on whatever the outcome. While it waits
   * the task shows `waitingUntilReady`.
   */
  waitUntilReady(taskId: string, conditions: ReadyConditions, signal?: AbortSignal): Promise<ReadyOutcome>;
  /**
   * A foreground task outlived its tool's wait: from now on it is a background task whose end is notified.
   * Emits an `output` event with the updated snapshot. Returns undefined for an unknown id.
   */
  moveToBackground(taskId: string): TaskSnapshot | undefined;
  /** Forgets a finished task (its log file is deleted). */
  remove(taskId: string): void;
  onEvent(listener: (event: TaskEvent) => void): Disposable;
  /**
   * Re-adds tasks persisted by an earlier window. Running ones are taken over where their processes still
   * run under a guard of that window (ownerGuard.ts, takeOver.ts), or report how they ended meanwhile; the others
   * become `interrupted`.
   */
  restore(previous: readonly TaskSnapshot[]): void;
  /** Ended-task notifications, per conversation. */
  readonly notifications: NotificationSource;
  /** False where the ports tasks listen on cannot be seen (no /proc, no lsof): `wait_for_port` cannot work. */
  readonly portsSupported: boolean;
}

export interface NotificationSource {
  /** Removes and returns every queued notification for the conversation, oldest first. */
  drain(conversationId: string): TaskNotification[];
  pendingCount(conversationId: string): number;
  /** When the oldest and the newest queued notification were queued (epoch ms); undefined when none is. */
  queuedSpan(conversationId: string): { readonly first: number; readonly last: number } | undefined;
  /** Fires after a notification is queued (used for auto-resume). */
  onQueued(listener: (notification: TaskNotification) => void): Disposable;
}

// ---- What BackgroundManager takes besides the TaskManager contract.

/** `auto`: the launcher where it can run; `direct`: always spawn from Node (the fallback, also for tests). */
export type SpawnMode = 'auto' | 'direct';

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
  /**
   * `auto` (default): on Linux with `setsid`, tasks are started by one long-lived /bin/sh (cheap starts,
   * off the main thread); `direct`: Node spawns each one (what other platforms always do).
   */
  spawnMode?: SpawnMode;
  /**
   * How long tasks outlive this manager's process: 0 (default, the CLI) kills them with it, however it
   * ends (SIGKILL included; see ownerGuard.ts); more lets a later manager of the same `logDir` (the
   * window after a reload) take them over within that time, and dispose() then leaves them running.
   */
  reattachGraceMs?: number;
  /**
   * Most bytes a task's log keeps on disk (at least 4 MiB; not on Windows). Past it the log is trimmed in
   * place (LogTrimmer): its first and newest MiB stay. Default 256 MiB. Infinity keeps every byte.
   */
  maxLogBytes?: number;
  /** `notify_on`: the least time between two entries of one task. Default 5000 ms (MATCH_BATCH_MS). */
  matchBatchMs?: number;
}

/** Thrown for a task id the manager does not know; the message is fit to show to the model. */
export class UnknownTaskError extends Error {
  constructor(readonly taskId: string) {
    super(`No background task with id "${taskId}". Call check_background without task_id to list tasks.`);
    this.name = 'UnknownTaskError';
  }
}

// ---- Inside the engine: one task's process, however it was started (the shell launcher, directSpawn,
// or taken over from an earlier window), and how it ended.

export interface ProcessResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the command could not be started (or its end could not be learned). */
  readonly error?: string;
}

/** One started task's process, however it was started. */
export interface TaskProcess {
  /** Known at once for a direct spawn, a moment later through the launcher. */
  readonly pid: number | undefined;
  /** Resolves once the pid is known, or with undefined if the process never started. */
  readonly started: Promise<number | undefined>;
  /** Stops waiting for the process (the caller kills it) and ends the task now with what is known. */
  detach(): void;
}

export interface StartProcessOptions {
  readonly command: string;
  readonly cwd: string;
  /** Variables added to the inherited environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Inherited variables removed from it. */
  readonly unsetEnv?: readonly string[];
  /** Created (empty) by the runner; receives stdout and stderr in the order they are written. */
  readonly logPath: string;
  /** Receives the exit status when the command ends (the launcher's subshell or directSpawn's wrapper; not on Windows). */
  readonly exitPath?: string;
  /** The pid became known after start() returned (the launcher reports it a moment later). */
  readonly onLatePid: (pid: number) => void;
  /** Called exactly once: the shell exited, the start failed, or detach() was called. */
  readonly onEnd: (result: ProcessResult) => void;
}
