// What BackgroundManager's callers see besides the TaskManager contract: its options and the error for an
// unknown task id. Apart from the manager so its file holds only behaviour; backgroundManager.ts re-exports
// both, which is where callers import them from.
import type { SpawnMode } from './processRunner';

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
   * Most bytes a task's log keeps on disk (at least 4 MiB; not on Windows). Past it the log is trimmed in
   * place (LogTrimmer): its first and newest MiB stay. Default 256 MiB. Infinity keeps every byte.
   */
  maxLogBytes?: number;
}

/** Thrown for a task id the manager does not know; the message is fit to show to the model. */
export class UnknownTaskError extends Error {
  constructor(readonly taskId: string) {
    super(`No background task with id "${taskId}". Call check_background without task_id to list tasks.`);
    this.name = 'UnknownTaskError';
  }
}
