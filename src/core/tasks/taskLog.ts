// The complete output of one task on disk, read back in byte slices. The task's process writes it
// itself (its stdout and stderr are the file), so it is complete the moment the process has exited.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { OutputSlice } from './types';
import { decodeSlice } from './utf8Edges';

export const DEFAULT_READ_BYTES = 32 * 1024;

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
