// Task output as text a model (or a person) can use. A task may print anything: binary data, NUL bytes,
// invalid UTF-8, terminal escapes, progress bars redrawn with \r. Pasted raw, that costs tokens and
// means nothing (hundreds of U+FFFD, control characters). So:
//   - output that is mostly not text is described instead ("binary output, N bytes, not shown");
//   - bytes that are not UTF-8 are written as \xNN (a long run is summarized), never as U+FFFD;
//   - terminal escapes are removed, a line redrawn with \r keeps what a terminal would finally show,
//     and the control characters left are escaped.
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { DroppedRange, OutputSlice } from './types';

/** More than this share of suspicious bytes (NUL, control characters, invalid UTF-8) makes output binary. */
const BINARY_SHARE = 0.1;
/** ...and at least this many: a stray byte in a few bytes of text is not binary data. */
const BINARY_MIN_BYTES = 4;
/** Looked at to decide: the first and the last half of this many bytes. */
const SAMPLE_BYTES = 64 * 1024;
/** Invalid bytes in a row written out one by one; a longer run shows its first ones and its length. */
const ESCAPED_RUN = 8;

export function binaryNote(totalBytes: number): string {
  return `[binary output, ${totalBytes} bytes, not shown]`;
}

/** True when the bytes are mostly not text: NUL bytes, control characters or invalid UTF-8. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  const sample = bytes.length <= SAMPLE_BYTES ? [bytes] : [bytes.subarray(0, SAMPLE_BYTES / 2), bytes.subarray(bytes.length - SAMPLE_BYTES / 2)];
  let suspicious = 0;
  let total = 0;
  for (const part of sample) {
    total += part.length;
    suspicious += invalidUtf8Bytes(part);
    for (const byte of part) if (byte < 0x20 && !TEXT_CONTROLS.has(byte)) suspicious++;
  }
  return suspicious > total * BINARY_SHARE && suspicious >= BINARY_MIN_BYTES;
}

/** Tab, newline, carriage return, form feed, backspace and escape: normal in text output. */
const TEXT_CONTROLS = new Set([0x09, 0x0a, 0x0d, 0x0c, 0x08, 0x1b]);

/** UTF-8 text with every byte that is not part of a valid character written as `\xNN`. */
export function decodeReadable(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let out = '';
  let validStart = 0;
  for (let i = 0; i < buffer.length; ) {
    const length = sequenceLength(buffer, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += buffer.toString('utf8', validStart, i);
    let end = i + 1;
    while (end < buffer.length && sequenceLength(buffer, end) === 0) end++;
    out += escapeRun(buffer, i, end);
    i = end;
    validStart = end;
  }
  return out + buffer.toString('utf8', validStart);
}

function escapeRun(buffer: Buffer, start: number, end: number): string {
  const shown = Math.min(end - start, ESCAPED_RUN);
  let out = '';
  for (let i = start; i < start + shown; i++) out += `\\x${buffer[i].toString(16).padStart(2, '0')}`;
  return end - start > shown ? `${out}[… ${end - start - shown} more bytes that are not UTF-8]` : out;
}

/** Bytes of a valid UTF-8 character starting at `i`, or 0 when the byte there does not start one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const lead = b[i];
  if (lead < 0x80) return 1;
  const cont = (k: number, min = 0x80, max = 0xbf): boolean => i + k < b.length && b[i + k] >= min && b[i + k] <= max;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (lead === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (lead >= 0xe1 && lead <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (lead === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (lead >= 0xf1 && lead <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (lead === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

function invalidUtf8Bytes(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return 0;
  let invalid = 0;
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      invalid++;
      i++;
    } else i += length;
  }
  return invalid;
}

// CSI (colours, cursor moves), OSC (titles, links) and single-character escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Drops escape sequences and keeps what a terminal would finally show of lines redrawn with \r. */
export function cleanTerminalText(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r+$/, '');
      const cr = trimmed.lastIndexOf('\r');
      return cr >= 0 ? trimmed.slice(cr + 1) : trimmed;
    })
    .join('\n');
}

// C0 controls but tab and newline, DEL, and the C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/g;

/** Control characters left in text (a bell, a stray escape, NUL) as visible escapes: `\x07`, `\u0085`. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Output text as it should be read: terminal escapes applied, controls escaped. */
export function readableTerminalText(text: string): string {
  return escapeControls(cleanTerminalText(text));
}

/** The first bytes as a hex dump (offset, 16 bytes in hex, the printable ones), for a person looking at binary output. */
export function hexPreview(bytes: Uint8Array, offset = 0, maxBytes = 512): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, maxBytes);
  for (let at = 0; at < end; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, end));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(offset + at).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join('\n');
}

// Byte slices of UTF-8 text can start or end inside a character. These helpers move the cut to a
// character boundary so the decoded text never shows U+FFFD for a character that was merely split.

/** Number of leading continuation bytes (10xxxxxx) to skip, at most 3. */
export function leadingContinuationBytes(buf: Uint8Array): number {
  let n = 0;
  while (n < 3 && n < buf.length && (buf[n] & 0xc0) === 0x80) n++;
  return n;
}

/** Length of `buf` without a trailing incomplete character (0–3 bytes shorter). */
export function completeLength(buf: Uint8Array): number {
  const len = buf.length;
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  for (let back = 1; back <= Math.min(4, len); back++) {
    const byte = buf[len - back];
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? len - back : len;
  }
  return len;
}

/**
 * Decodes a slice whose both ends may cut characters; returns the text and how many bytes it covers.
 * Bytes that are not UTF-8 (after the edges are moved) come out as `\xNN`, never as U+FFFD.
 */
export function decodeSlice(buf: Buffer, options: { trimStart: boolean; trimEnd: boolean }): { text: string; start: number; end: number } {
  const start = options.trimStart ? leadingContinuationBytes(buf) : 0;
  const end = options.trimEnd ? Math.max(start, completeLength(buf)) : buf.length;
  return { text: decodeReadable(buf.subarray(start, end)), start, end };
}

// ---- Reading a task's log back in byte slices, as text. The log is the complete output on disk (the
// process writes it itself), except a range trimmed out of it (logTrimmer.ts).

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

/**
 * Reads the first and last bytes of a log synchronously: the preview of a task restored from disk.
 * Neither reaches into `dropped` (the hole a trim left reads as zeros): the head stops where it begins,
 * and the tail starts where it ends when the bytes kept after it are fewer than `tailBytes` (a trim that
 * found only lost zeros to keep writes back just what came after them, maybe one line).
 */
export function readLogEdgesSync(path: string, headBytes: number, tailBytes: number, dropped?: DroppedRange): { head: Buffer; tail: Buffer; totalBytes: number } {
  const fd = openSync(path, READ_FLAGS);
  try {
    const totalBytes = fstatSync(fd).size;
    const head = Buffer.allocUnsafe(Math.min(headBytes, totalBytes, dropped?.from ?? Infinity));
    readSync(fd, head, 0, head.length, 0);
    const at = Math.max(totalBytes - tailBytes, head.length, dropped && dropped.to <= totalBytes ? dropped.to : 0);
    const tail = Buffer.allocUnsafe(totalBytes - at);
    readSync(fd, tail, 0, tail.length, at);
    const lostAt = dropped?.lostAt;
    const oneByte = Buffer.alloc(1);
    const zeroAt = (position: number) => readSync(fd, oneByte, 0, 1, position) === 1 && oneByte[0] === 0;
    const inRun = lostAt !== undefined && at > lostAt && tail.length > 0 && tail[0] === 0 && zeroAt(lostAt) && zeroAt(at - 1);
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
