// The complete output of one task on disk, written as it arrives, read back in byte slices.
//
// Writes are synchronous on purpose. Measured here (2 busy cores, 512 MiB flood): a WriteStream with
// pause/resume backpressure took 2-5x the time of `| cat >/dev/null`, writeSync 0.75-2.4x. A blocking
// write is backpressure by itself (the child's pipe is not read until the chunk is in the page cache),
// costs no thread-pool round trip per chunk, and lets each pipe read collect up to 64 KiB; the event loop
// stays responsive because each write is one chunk of at most 64 KiB.
import { openSync, readSync, writeSync, closeSync, fstatSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { OutputSlice } from './types';
import { decodeSlice } from './utf8Edges';

export const DEFAULT_READ_BYTES = 32 * 1024;

export class TaskLogWriter {
  private fd: number | undefined;
  private failure: Error | undefined;

  /** Throws if the file cannot be created (the caller reports it as a failed start). */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  /** The first write error, if any: the task keeps running, later output lives only in memory. */
  get error(): Error | undefined {
    return this.failure;
  }

  write(chunk: Uint8Array): void {
    if (this.fd === undefined || this.failure) return;
    try {
      for (let done = 0; done < chunk.length; ) done += writeSync(this.fd, chunk, done);
    } catch (error) {
      // Disk full or similar: stop logging rather than fail the task.
      this.failure = error as Error;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Nothing left to do for a descriptor that cannot be closed.
    }
  }
}

/**
 * Reads at most `maxBytes` from `offset` (default: the last `maxBytes` of the file), moving both cuts
 * to UTF-8 character boundaries. `settled` = the file will not grow any more (the task has ended).
 */
export async function readLogSlice(path: string, options: { offset?: number; maxBytes?: number; settled: boolean }): Promise<OutputSlice> {
  // 4 bytes at least, so one whole character always fits and a read always makes progress.
  const maxBytes = Math.max(4, Math.floor(options.maxBytes ?? DEFAULT_READ_BYTES));
  const file = await open(path, 'r');
  try {
    const totalBytes = (await file.stat()).size;
    const start = Math.min(totalBytes, Math.max(0, Math.floor(options.offset ?? totalBytes - maxBytes)));
    const length = Math.min(maxBytes, totalBytes - start);
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await file.read(buf, 0, length, start);
    const bytes = buf.subarray(0, bytesRead);
    const reachesEnd = start + bytesRead >= totalBytes;
    // A split character at the start belongs to the previous slice; one at the end is kept for the
    // next read, unless the file is complete (then it is really broken and shown as U+FFFD).
    const { text, start: skip, end } = decodeSlice(bytes, { trimStart: start > 0, trimEnd: !(reachesEnd && options.settled) });
    return { text, offset: start + skip, nextOffset: start + end, totalBytes };
  } finally {
    await file.close();
  }
}

/** Reads the first and last bytes of a log synchronously: the preview of a task restored from disk. */
export function readLogEdgesSync(path: string, headBytes: number, tailBytes: number): { head: Buffer; tail: Buffer; totalBytes: number } {
  const fd = openSync(path, 'r');
  try {
    const totalBytes = fstatSync(fd).size;
    const head = Buffer.allocUnsafe(Math.min(headBytes, totalBytes));
    readSync(fd, head, 0, head.length, 0);
    const tailLength = Math.min(tailBytes, totalBytes - head.length);
    const tail = Buffer.allocUnsafe(tailLength);
    readSync(fd, tail, 0, tailLength, totalBytes - tailLength);
    return { head, tail, totalBytes };
  } finally {
    closeSync(fd);
  }
}
