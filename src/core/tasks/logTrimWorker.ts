// The worker thread that trims a flooding task's log (see logTrimmer.ts for why and how). Its own bundle
// (dist/logTrimWorker.js, esbuild.config.mjs): the steps run back to back, synchronously, so the bytes a
// flood writes between the tail read and the truncate are microseconds' worth, and the truncate (up to
// ~47 ms of kernel time for a few hundred MB of page cache) never blocks the main thread.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { TrimJob, TrimResult } from './logTrimmer';

type Message = (TrimJob & { readonly id: number }) | { readonly exit: true };

/** Where the run of zeros a previous trim lost at `lostAt` ends in `tail` (read at `at`), or 0 without one. */
function lostRunEnd(fd: number, tail: Buffer, length: number, at: number, lostAt: number | undefined): number {
  if (lostAt === undefined || lostAt >= at + length || tail[Math.max(0, lostAt - at)] !== 0) return 0;
  if (lostAt < at) {
    const one = Buffer.alloc(1);
    if (readSync(fd, one, 0, 1, lostAt) !== 1 || one[0] !== 0) return 0;
  }
  let end = Math.max(0, lostAt - at);
  while (end < length && tail[end] === 0) end++;
  return end;
}

function trim(job: TrimJob): TrimResult {
  let fd: number | undefined;
  let readStart = 0;
  let bytesRead = 0;
  let skip = 0;
  let truncated = false;
  try {
    fd = openSync(job.path, 'r+');
    const size = fstatSync(fd).size;
    readStart = Math.max(job.from, size - job.tailKeep);
    const tail = Buffer.allocUnsafe(size - readStart);
    bytesRead = readSync(fd, tail, 0, tail.length, readStart);
    skip = lostRunEnd(fd, tail, bytesRead, readStart, job.lostAt);
    ftruncateSync(fd, job.from);
    truncated = true;
    writeSync(fd, tail, skip, bytesRead - skip, readStart + skip);
    return { readStart, bytesRead, skip };
  } catch (error) {
    return { readStart, bytesRead, skip, truncated, error: String(error) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const port = parentPort;
port?.on('message', (message: Message) => {
  if ('exit' in message) return port.close();
  const { id, ...job } = message;
  port.postMessage({ id, ...trim(job) });
});
