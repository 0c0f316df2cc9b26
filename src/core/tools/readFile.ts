// read_file: numbered lines of a workspace text file, bounded, saying where it stopped and how to read on.
// The file is opened once, checked after opening (verifiedOpen.ts), and read through that descriptor only.
import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import * as z from 'zod/mini';
import { FileRefusal, openFileForReading } from '../files/verifiedOpen';
import { withinTime } from '../files/withinTime';
import { resolveInWorkspace } from '../files/workspacePath';
import { completeLength } from '../tasks/outputText';
import { defineTool } from './defineTool';
import { BINARY_SNIFF_BYTES, DEFAULT_READ_LINES, FILE_READ_TIMEOUT_MS, MAX_LINE_CHARS, MAX_READ_BYTES } from './limits';
import { errorText, fail, ok, type ToolResult } from './types';

const schema = z.strictObject({
  path: z.string().check(z.minLength(1), z.describe('File path, relative to the workspace folder (absolute paths must be inside it).')),
  offset: z.optional(z.int().check(z.minimum(1), z.describe('First line to read, 1-based. Default 1.'))),
  limit: z.optional(z.int().check(z.minimum(1), z.describe(`Number of lines to read. Default ${DEFAULT_READ_LINES}.`))),
});

type Input = z.infer<typeof schema>;

export const readFileTool = defineTool({
  name: 'read_file',
  description:
    `Read a text file in the workspace. Returns lines prefixed with their line numbers. At most ${DEFAULT_READ_LINES} lines ` +
    `or ${MAX_READ_BYTES / 1024} KiB per call; the result says where it stopped and which offset reads on. Binary files are refused.`,
  schema,
  async run(input, ctx) {
    const resolved = await resolveInWorkspace(ctx.cwd, input.path);
    if (!resolved.ok) return fail(resolved.message);
    const { root, absolute, display } = resolved;
    try {
      return await withinTime((signal) => readPage(root, absolute, display, input, signal), FILE_READ_TIMEOUT_MS, ctx.signal, `Reading ${display}`);
    } catch (error) {
      return fail(error instanceof FileRefusal ? error.message : `Could not read ${display}: ${errorText(error)}.`);
    }
  },
});

async function readPage(root: string, absolute: string, display: string, input: Input, signal: AbortSignal): Promise<ToolResult> {
  const { handle, stats } = await openFileForReading(root, absolute, display);
  try {
    if (await hasNulNearStart(handle)) return fail(`${display} is a binary file (${stats.size} bytes); read_file only reads text.`);
    const first = input.offset ?? 1;
    const limit = input.limit ?? DEFAULT_READ_LINES;
    const page = await readLines(handle, first, limit, signal);
    if (page.lines.length === 0) {
      if (page.totalSeen === 0) return ok(`${display} is empty.`);
      return fail(`${display} has ${page.totalSeen} lines; offset ${first} is past the end.`);
    }
    const last = first + page.lines.length - 1;
    const body = page.lines.join('\n');
    const bytesNote = page.notUtf8
      ? '; some lines have bytes that are not UTF-8 (shown as \uFFFD): edit_file keeps such bytes as they are, but `old_text` cannot match them, so match the text around them'
      : '';
    if (!page.more) return ok(`${body}\n(${display}: lines ${first}–${last}, end of file${bytesNote})`);
    const why = page.cutBySize ? `the ${MAX_READ_BYTES / 1024} KiB limit was reached` : `the limit of ${limit} lines was reached`;
    return ok(`${body}\n(${display}: lines ${first}–${last} shown; ${why}. More follows: call read_file with offset ${last + 1}${bytesNote}.)`);
  } finally {
    await handle.close();
  }
}

interface Page {
  lines: string[];
  /** More lines exist after the last one returned. */
  more: boolean;
  cutBySize: boolean;
  /** Lines seen before stopping (the file's length when `more` is false). */
  totalSeen: number;
  /** A line shown had bytes that are not valid UTF-8 (shown as U+FFFD). */
  notUtf8: boolean;
}

/**
 * Scans raw chunks for line ends instead of using readline, which holds a whole line in memory: a
 * 500 MB file without newlines (a minified bundle, a log) would be read into one string. Here a line
 * keeps at most MAX_LINE_CHARS characters' worth of bytes; the rest is only counted.
 */
async function readLines(handle: FileHandle, first: number, limit: number, signal: AbortSignal): Promise<Page> {
  const keepBytes = MAX_LINE_CHARS * 4;
  const lines: string[] = [];
  let lineNo = 0;
  let bytes = 0;
  let more = false;
  let cutBySize = false;
  let notUtf8 = false;
  let done = false;
  let kept: Buffer[] = [];
  let keptBytes = 0;
  let lineChars = 0;
  let lineBytes = 0;
  let lastByte = -1;
  /** The line being read has bytes (a last line without a newline still counts). */
  let started = false;

  const endLine = (): void => {
    lineNo++;
    const inRange = lineNo >= first;
    const raw = inRange ? Buffer.concat(kept, keptBytes) : undefined;
    kept = [];
    keptBytes = 0;
    const chars = lineChars;
    const total = lineBytes;
    const crlf = lastByte === 0x0d;
    lineChars = 0;
    lineBytes = 0;
    lastByte = -1;
    started = false;
    if (!raw) return;
    if (lines.length >= limit) {
      more = true;
      done = true;
      return;
    }
    const whole = total === raw.length;
    const shownBytes = raw.subarray(0, whole ? raw.length : completeLength(raw));
    if (!isUtf8(shownBytes)) notUtf8 = true;
    let text = shownBytes.toString('utf8');
    // CRLF: the \r belongs to the line end, not to the text.
    if (whole && text.endsWith('\r')) text = text.slice(0, -1);
    const line = numbered(lineNo, text, crlf ? chars - 1 : chars);
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > MAX_READ_BYTES && lines.length > 0) {
      more = true;
      cutBySize = true;
      done = true;
      return;
    }
    lines.push(line);
  };

  for await (const chunk of chunksOf(handle, signal)) {
    for (let start = 0; !done; ) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      if (end > start) started = true;
      if (lineNo + 1 >= first) {
        if (keptBytes < keepBytes) {
          const piece = chunk.subarray(start, Math.min(end, start + keepBytes - keptBytes));
          kept.push(piece);
          keptBytes += piece.length;
        }
        lineChars += utf16Length(chunk, start, end);
        lineBytes += end - start;
        if (end > start) lastByte = chunk[end - 1];
      }
      if (newline < 0) break;
      endLine();
      start = newline + 1;
    }
    if (done) break;
  }
  // A last line without a newline.
  if (!done && started) endLine();
  return { lines, more, cutBySize, totalSeen: lineNo, notUtf8 };
}

/** The file from its start in 64 KiB chunks (each its own buffer: kept line pieces point into them). */
async function* chunksOf(handle: FileHandle, signal: AbortSignal): AsyncGenerator<Buffer> {
  for (let position = 0; ; ) {
    signal.throwIfAborted();
    const buffer = Buffer.allocUnsafe(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** The JavaScript string length of UTF-8 bytes, without decoding them: lead bytes count 1, 4-byte characters 2. */
function utf16Length(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    if ((byte & 0xc0) !== 0x80) n += byte >= 0xf0 ? 2 : 1;
  }
  return n;
}

function numbered(lineNo: number, text: string, totalChars: number): string {
  const cut = totalChars > MAX_LINE_CHARS || text.length > MAX_LINE_CHARS;
  const shown = cut ? `${text.slice(0, MAX_LINE_CHARS)} … [line cut: ${totalChars} characters]` : text;
  return `${String(lineNo).padStart(6)}\t${shown}`;
}

/** A NUL byte near the start (BINARY_SNIFF_BYTES): not text. */
async function hasNulNearStart(handle: FileHandle): Promise<boolean> {
  const buffer = Buffer.alloc(BINARY_SNIFF_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  return buffer.subarray(0, bytesRead).includes(0);
}
