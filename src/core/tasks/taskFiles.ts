// The files a task needs before and after it runs: its working folder, the log folder, its log file, and
// its in-memory output rebuilt from the log. Each check returns a problem sentence (fit for the task's
// error and its log) instead of throwing, because a bad start must end as a `failed` task, not a throw.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { HeadTailBuffer } from './outputBuffer';
import { readLogEdgesSync, TaskLogWriter } from './taskLog';
import type { TaskRecord } from './taskRecord';

/** The problem with `cwd` as a working directory, if any. */
export function cwdProblem(cwd: string): string | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return `The working directory is not a folder: ${cwd}`;
  } catch {
    return `The working directory does not exist: ${cwd}`;
  }
  return undefined;
}

/** The folder of the tasks' logs, created on first need (once it exists, later starts skip the mkdir). */
export class LogFolder {
  private ready = false;

  constructor(readonly path: string) {}

  /** Creates the folder if not done yet; returns the problem if it cannot. */
  ensure(): string | undefined {
    if (this.ready) return undefined;
    try {
      mkdirSync(this.path, { recursive: true });
      this.ready = true;
      return undefined;
    } catch (error) {
      return `Could not create the task log folder ${this.path}: ${(error as Error).message}`;
    }
  }
}

/** Creates the task's log file; returns the problem if it cannot. */
export function openLog(record: TaskRecord): string | undefined {
  try {
    record.log = new TaskLogWriter(record.logPath);
    return undefined;
  } catch (error) {
    return `Could not create the output log ${record.logPath}: ${(error as Error).message}`;
  }
}

/** Puts why the task never ran where its output would be: in memory and (if it can) in its log. */
export function recordStartFailure(record: TaskRecord, problem: string): void {
  const message = Buffer.from(`Could not start the command: ${problem}\n`);
  record.buffer?.push(message);
  try {
    writeFileSync(record.logPath, message);
  } catch {
    // The log folder itself is the problem; readOutput answers with an empty slice.
  }
}

/** The record's in-memory output; a restored task's is loaded from its log on first use (empty if unreadable). */
export function bufferOf(record: TaskRecord, headBytes: number, tailBytes: number): HeadTailBuffer {
  if (!record.buffer) {
    try {
      const edges = readLogEdgesSync(record.logPath, headBytes, tailBytes);
      record.buffer = HeadTailBuffer.fromEdges(edges.head, edges.tail, edges.totalBytes, headBytes, tailBytes);
    } catch {
      record.buffer = new HeadTailBuffer(headBytes, tailBytes);
    }
  }
  return record.buffer;
}
