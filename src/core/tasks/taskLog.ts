// The complete output of one task on disk, read back in byte slices. The task's process writes it
// itself (its stdout and stderr are the file), so it is complete the moment the process has exited.
import { constants, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { hexPreview, looksBinary } from './outputText';
import type { DroppedRange, OutputSlice } from './types';
import { completeLength, decodeSlice } from './utf8Edges';

export const DEFAULT_READ_BYTES = 32 * 1024;
/**
 * Non-blocking: for a regular file it changes nothing, but if something put a FIFO where a log should be,
 * opening it to read would otherwise wait for a writer forever (on the main thread, for the sync reads).
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Reads at most `maxBytes` from `offset` (default: the last `maxBytes` of the file), moving both cuts
 * to UTF-8 character boundaries. `settled` = the file will not grow any more (the task has ended).
 * `dropped` = the range trimmed out of the log (LogTrimmer): a read stops where it begins, and one that
 * would start inside it starts where it ends.
 */
export async function readLogSlice(
  path: string,
  options: { offset?: number; maxBytes?: number; settled: boolean; dropped?: DroppedRange },
): Promise<OutputSlice> {
  // 4 bytes at least, so one whole character always fits and a read always makes progress.
  const maxBytes = Math.max(4, Math.floor(options.maxBytes ?? DEFAULT_READ_BYTES));
  const file = await open(path, READ_FLAGS);
  try {
    const totalBytes = (await file.stat()).size;
    let start = Math.min(totalBytes, Math.max(0, Math.floor(options.offset ?? totalBytes - maxBytes)));
    let end = Math.min(totalBytes, start + maxBytes);
    const { dropped } = options;
    const meetsDropped = dropped !== undefined && start < dropped.to && end > dropped.from;
    if (meetsDropped && start >= dropped.from) {
      start = Math.min(totalBytes, dropped.to);
      end = Math.min(totalBytes, start + maxBytes);
    } else if (meetsDropped) {
      end = dropped.from;
    }
    const buf = Buffer.allocUnsafe(end - start);
    const { bytesRead } = await file.read(buf, 0, buf.length, start);
    const reachesEnd = start + bytesRead >= totalBytes;
    const lostAt = dropped?.lostAt;
    // Only a read that begins with a zero past lostAt can begin inside its run: two one-byte reads tell.
    const startsWithZero = lostAt !== undefined && start > lostAt && bytesRead > 0 && buf[0] === 0;
    const inRun = startsWithZero && (await isZeroAt(file, lostAt)) && (await isZeroAt(file, start - 1));
    const { bytes, toFileOffset } = withoutLostZeros(buf.subarray(0, bytesRead), start, lostAt, inRun);
    // A split character at the start belongs to the previous slice; one at the end is kept for the
    // next read, unless the file is complete (then it is really broken and shown as U+FFFD). The edges
    // of a dropped range cut characters too: those halves are gone for good, so they are left out.
    const { text, start: skip, end: cut } = decodeSlice(bytes, { trimStart: start > 0, trimEnd: !(reachesEnd && options.settled) });
    const nextOffset = meetsDropped && end === dropped.from ? dropped.to : toFileOffset(cut);
    const slice = { text, offset: toFileOffset(skip), nextOffset, totalBytes, ...(meetsDropped && { dropped }) };
    const decoded = bytes.subarray(skip, cut);
    return looksBinary(decoded) ? { ...slice, text: '', binary: { hex: hexPreview(decoded, slice.offset) } } : slice;
  } finally {
    await file.close();
  }
}

/** What readTrimmableLogSlice needs of a task: LogTrimmer changes both while the task runs. */
export interface TrimState {
  readonly dropped?: DroppedRange;
  readonly trimming?: Promise<void>;
}

/**
 * readLogSlice for a log that LogTrimmer may trim meanwhile. It waits for a trim under way; and a trim
 * may start between this read's awaits (the watcher's timer), so a read that went on with the old
 * dropped range could return the zeros of the new hole: then it is done again.
 */
export async function readTrimmableLogSlice(
  path: string,
  options: { offset?: number; maxBytes?: number; settled: boolean },
  log: TrimState,
): Promise<OutputSlice> {
  for (;;) {
    await log.trimming;
    const dropped = log.dropped;
    const slice = await readLogSlice(path, { ...options, dropped });
    if (log.trimming === undefined && log.dropped === dropped) return slice;
  }
}

/** Reads the first and last bytes of a log synchronously: the preview of a task restored from disk. */
export function readLogEdgesSync(path: string, headBytes: number, tailBytes: number, lostAt?: number): { head: Buffer; tail: Buffer; totalBytes: number } {
  const fd = openSync(path, READ_FLAGS);
  try {
    const totalBytes = fstatSync(fd).size;
    const head = Buffer.allocUnsafe(Math.min(headBytes, totalBytes));
    readSync(fd, head, 0, head.length, 0);
    const tailLength = Math.min(tailBytes, totalBytes - head.length);
    const tail = Buffer.allocUnsafe(tailLength);
    const at = totalBytes - tailLength;
    readSync(fd, tail, 0, tailLength, at);
    const oneByte = Buffer.alloc(1);
    const zeroAt = (position: number) => readSync(fd, oneByte, 0, 1, position) === 1 && oneByte[0] === 0;
    const inRun = lostAt !== undefined && at > lostAt && tailLength > 0 && tail[0] === 0 && zeroAt(lostAt) && zeroAt(at - 1);
    return { head, tail: withoutLostZeros(tail, at, lostAt, inRun).bytes, totalBytes };
  } finally {
    closeSync(fd);
  }
}

async function isZeroAt(file: FileHandle, position: number): Promise<boolean> {
  const { bytesRead, buffer } = await file.read(Buffer.alloc(1), 0, 1, position);
  return bytesRead === 1 && buffer[0] === 0;
}

/**
 * Leaves out the zeros a trim left at `lostAt` (see LogTrimmer) from bytes read at file offset `at`: the
 * run of zero bytes beginning at `lostAt`, or at the buffer's start when `inRun` (the log holds zeros at
 * `lostAt` and just before `at`: the read starts inside that run, which can be megabytes long). A
 * character cut at `lostAt` lost its rest in that run, so its first bytes are left out too: kept, they
 * would hold back every read that ends in the run (never making progress). `toFileOffset` maps an index
 * in the returned bytes back to a file offset.
 */
function withoutLostZeros(
  buf: Buffer,
  at: number,
  lostAt: number | undefined,
  inRun: boolean,
): { bytes: Buffer; toFileOffset: (index: number) => number } {
  const plain = { bytes: buf, toFileOffset: (index: number) => at + index };
  if (lostAt === undefined || lostAt - at >= buf.length || (at > lostAt && !inRun)) return plain;
  const zerosStart = Math.max(lostAt, at) - at;
  let runEnd = zerosStart;
  while (runEnd < buf.length && buf[runEnd] === 0) runEnd++;
  if (runEnd === zerosStart) return plain;
  const runStart = completeLength(buf.subarray(0, zerosStart));
  const removed = runEnd - runStart;
  const bytes = Buffer.concat([buf.subarray(0, runStart), buf.subarray(runEnd)]);
  return { bytes, toFileOffset: (index) => at + index + (index >= runStart ? removed : 0) };
}
