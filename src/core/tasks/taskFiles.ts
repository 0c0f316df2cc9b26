// The files a task needs before and after it runs: its working folder, the log folder, and the reason
// it did not run written into its log.
// Each check returns a problem sentence (fit for the task's error and its log) instead of throwing,
// because a bad start must end as a `failed` task, not a throw.
import { appendFileSync, mkdirSync, statSync } from 'node:fs';
import { HeadTailBuffer } from './outputBuffer';
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

/**
 * Adds why the command did not (fully) run to the end of its output: in the log if it can, and in
 * memory (so the preview and the notification show it even when the log folder is the problem).
 */
export function appendStartFailure(record: TaskRecord, problem: string, headBytes: number, tailBytes: number): void {
  // With a pid the command did run: what failed was following it to its end.
  const what = record.pid === undefined ? 'Could not start the command' : 'Lost track of the command';
  const message = Buffer.from(`${what}: ${problem}\n`);
  try {
    appendFileSync(record.logPath, message);
    record.outputBytes = statSync(record.logPath).size;
  } catch {
    // The log folder itself is the problem; readOutput answers with an empty slice.
    record.buffer = new HeadTailBuffer(headBytes, tailBytes);
    record.buffer.push(message);
    record.outputBytes = message.length;
    record.bufferBytes = record.outputBytes;
  }
}
