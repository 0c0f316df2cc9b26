// The manager's mutable state for one task, and the plain snapshot others see.
import type { HeadTailBuffer } from './outputBuffer';
import type { TaskProcess } from './processResult';
import type { CwdEntry, DroppedRange, TaskOrigin, TaskSnapshot, TaskStatus } from './types';

export interface TaskRecord {
  readonly id: string;
  readonly command: string;
  readonly description?: string;
  readonly cwd: string;
  readonly origin: TaskOrigin;
  readonly timeoutMs?: number;
  readonly logPath: string;
  readonly startedAt: number;
  /** `<instance>.<id>` in the task's environment: finds descendants that escaped the tree. */
  readonly marker: string;
  pid?: number;
  /** A tool waits on it (bash): while true its end is not notified. */
  foreground?: boolean;
  status: TaskStatus;
  exitCode: number | null;
  signal: string | null;
  endedAt?: number;
  error?: string;
  /** Size of the log file: refreshed while running (OutputWatcher), final once ended. */
  outputBytes: number;
  /** The part of the output trimmed out of the log (LogTrimmer); readers skip it. */
  dropped?: DroppedRange;
  /** Set while LogTrimmer trims the log: its newest bytes may be missing until then. */
  trimming?: Promise<void>;
  /** First and last bytes, read from the log on demand (taskOutput.bufferOf); `bufferBytes` = log size then. */
  buffer?: HeadTailBuffer;
  bufferBytes?: number;
  process?: TaskProcess;
  /** Held until the process has entered its folder (StartTaskOptions.cwdEntry); released then. */
  cwdEntry?: CwdEntry;
  /** Why we are killing it; decides the final status over the exit code. */
  killReason?: 'cancelled' | 'timed_out';
  killing?: Promise<void>;
  timeoutTimer?: NodeJS.Timeout;
  /** Called once the task has ended, its log is complete and `ended` was emitted. */
  endWaiters: Array<() => void>;
  /** True once endWaiters ran: waiting now returns at once. */
  settled?: boolean;
}

export function toSnapshot(r: TaskRecord): TaskSnapshot {
  return {
    id: r.id,
    command: r.command,
    ...(r.description !== undefined && { description: r.description }),
    cwd: r.cwd,
    ...(r.pid !== undefined && { pid: r.pid }),
    ...(r.foreground !== undefined && { foreground: r.foreground }),
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    startedAt: r.startedAt,
    ...(r.endedAt !== undefined && { endedAt: r.endedAt }),
    outputBytes: r.outputBytes,
    logPath: r.logPath,
    ...(r.dropped !== undefined && { droppedOutput: r.dropped }),
    origin: r.origin,
    ...(r.timeoutMs !== undefined && { timeoutMs: r.timeoutMs }),
    ...(r.error !== undefined && { error: r.error }),
  };
}
