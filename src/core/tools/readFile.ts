// read_file: numbered lines of a workspace text file, bounded, saying where it stopped and how to read on.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import * as z from 'zod/mini';
import { defineTool } from './defineTool';
import { DEFAULT_READ_LINES, MAX_LINE_CHARS, MAX_READ_BYTES } from './limits';
import { fail, ok } from './types';
import { resolveInWorkspace } from './workspacePath';

const schema = z.strictObject({
  path: z.string().check(z.minLength(1), z.describe('File path, relative to the workspace folder (absolute paths must be inside it).')),
  offset: z.optional(z.int().check(z.minimum(1), z.describe('First line to read, 1-based. Default 1.'))),
  limit: z.optional(z.int().check(z.minimum(1), z.describe(`Number of lines to read. Default ${DEFAULT_READ_LINES}.`))),
});

export const readFileTool = defineTool({
  name: 'read_file',
  description:
    `Read a text file in the workspace. Returns lines prefixed with their line numbers. At most ${DEFAULT_READ_LINES} lines ` +
    `or ${MAX_READ_BYTES / 1024} KiB per call; the result says where it stopped and which offset reads on. Binary files are refused.`,
  schema,
  async run(input, ctx) {
    const resolved = await resolveInWorkspace(ctx.cwd, input.path);
    if (!resolved.ok) return fail(resolved.message);
    const { absolute, display } = resolved;
    const info = await stat(absolute).catch(() => undefined);
    if (!info) return fail(`File not found: ${display}.`);
    if (info.isDirectory()) return fail(`${display} is a directory, not a file; list it with bash (e.g. \`ls ${display}\`).`);
    if (await looksBinary(absolute)) return fail(`${display} is a binary file (${info.size} bytes); read_file only reads text.`);
    const first = input.offset ?? 1;
    const limit = input.limit ?? DEFAULT_READ_LINES;
    const page = await readLines(absolute, first, limit, ctx.signal);
    if (page.lines.length === 0) {
      if (page.totalSeen === 0) return ok(`${display} is empty.`);
      return fail(`${display} has ${page.totalSeen} lines; offset ${first} is past the end.`);
    }
    const last = first + page.lines.length - 1;
    const body = page.lines.join('\n');
    if (!page.more) return ok(`${body}\n(${display}: lines ${first}–${last}, end of file)`);
    const why = page.cutBySize ? `the ${MAX_READ_BYTES / 1024} KiB limit was reached` : `the limit of ${limit} lines was reached`;
    return ok(`${body}\n(${display}: lines ${first}–${last} shown; ${why}. More follows: call read_file with offset ${last + 1}.)`);
  },
});

interface Page {
  lines: string[];
  /** More lines exist after the last one returned. */
  more: boolean;
  cutBySize: boolean;
  /** Lines seen before stopping (the file's length when `more` is false). */
  totalSeen: number;
}

async function readLines(file: string, first: number, limit: number, signal: AbortSignal): Promise<Page> {
  const stream = createReadStream(file, { encoding: 'utf8', signal });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  const lines: string[] = [];
  let lineNo = 0;
  let bytes = 0;
  let more = false;
  let cutBySize = false;
  try {
    for await (const raw of reader) {
      lineNo++;
      if (lineNo < first) continue;
      if (lines.length >= limit) {
        more = true;
        break;
      }
      const line = numbered(lineNo, raw);
      bytes += Buffer.byteLength(line) + 1;
      if (bytes > MAX_READ_BYTES && lines.length > 0) {
        more = true;
        cutBySize = true;
        break;
      }
      lines.push(line);
    }
  } finally {
    reader.close();
    stream.destroy();
  }
  return { lines, more, cutBySize, totalSeen: lineNo };
}

function numbered(lineNo: number, raw: string): string {
  const text = raw.length > MAX_LINE_CHARS ? `${raw.slice(0, MAX_LINE_CHARS)} … [line cut: ${raw.length} characters]` : raw;
  return `${String(lineNo).padStart(6)}\t${text}`;
}

/** A NUL byte in the first 8 KiB: the same test git and grep use. */
async function looksBinary(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(8192);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}
