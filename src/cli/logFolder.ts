// The CLI's task logs live in a temporary folder removed at the end. On Windows a process that escaped its
// task (or one still exiting) can hold a log open, and then the folder cannot be removed (EBUSY, EPERM):
// that must never turn a clean end into a crash, nor throw inside the exit hook, so it is told and left.
import { rmSync } from 'node:fs';

/** Removes `dir` synchronously; on failure says once, on `report`, which folder was left and why. */
export function removeLogFolder(dir: string, report: (line: string) => void = (line) => process.stderr.write(line), remove: typeof rmSync = rmSync): void {
  try {
    // Retries cover the moment a just-killed process on Windows still holds its log.
    remove(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    report(`background-agent: the task log folder ${dir} was left in place (${code}: a process may still have a log in it open); delete it once that process has ended.\n`);
  }
}
