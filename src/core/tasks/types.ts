// The background-task contract shared by the engine, the tools, the CLI and the VS Code views.
// Plain data only: snapshots are safe to post to a webview or persist to storage.

export type TaskStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'interrupted';

export const FINISHED_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled', 'timed_out', 'interrupted'];

/** Who started a task, and which conversation (if any) hears about its end. */
export type TaskOrigin =
  | { kind: 'agent'; conversationId: string }
  /** Started by the person (command palette, tree title). `conversationId` set = report to that chat. */
  | { kind: 'user'; conversationId?: string };

/**
 * Not given to any task whose origin is the agent (also when the person restarts one): the person's API key
 * must never reach the model, and `env` or a test's debug output would show it.
 */
export const HIDDEN_FROM_AGENT_TASKS: readonly string[] = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'];

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

export interface Disposable {
  dispose(): void;
}

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
   * A foreground task outlived its tool's wait: from now on it is a background task whose end is notified.
   * Emits an `output` event with the updated snapshot. Returns undefined for an unknown id.
   */
  moveToBackground(taskId: string): TaskSnapshot | undefined;
  /** Forgets a finished task (its log file is deleted). */
  remove(taskId: string): void;
  onEvent(listener: (event: TaskEvent) => void): Disposable;
  /** Re-adds tasks persisted by an earlier window; any that were `running` become `interrupted`. */
  restore(previous: readonly TaskSnapshot[]): void;
  /** Ended-task notifications, per conversation. */
  readonly notifications: NotificationSource;
}

export interface NotificationSource {
  /** Removes and returns every queued notification for the conversation, oldest first. */
  drain(conversationId: string): TaskNotification[];
  pendingCount(conversationId: string): number;
  /** Fires after a notification is queued (used for auto-resume). */
  onQueued(listener: (notification: TaskNotification) => void): Disposable;
}
