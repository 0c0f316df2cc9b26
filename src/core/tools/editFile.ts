// edit_file: replaces exactly one occurrence of `old_text`; zero or several matches are refused so that an
// edit never lands in the wrong place. The change passes the approval policy (a diff for the person) first.
// It works on the file's bytes: everything outside the replaced span is written back exactly as it was,
// also in a file that is not valid UTF-8 (Latin-1, a stray byte), where decoding and re-encoding the text
// would turn every such byte into U+FFFD.
import { isUtf8 } from 'node:buffer';
import * as z from 'zod/mini';
import { replaceFile } from '../files/replaceFile';
import { FileRefusal, openFileForReading } from '../files/verifiedOpen';
import { withinTime } from '../files/withinTime';
import { resolveInWorkspace } from '../files/workspacePath';
import { defineTool } from './defineTool';
import { BINARY_SNIFF_BYTES, FILE_READ_TIMEOUT_MS, MAX_EDIT_BYTES, MAX_WRITE_BYTES } from './limits';
import { errorText, fail, ok } from './types';

const schema = z.strictObject({
  path: z.string().check(z.minLength(1), z.describe('File path, relative to the workspace folder.')),
  old_text: z.string().check(z.minLength(1), z.describe('Exact text to replace, including whitespace; must occur exactly once in the file.')),
  new_text: z.string().check(z.describe('Text to put in its place.')),
});

export const editFileTool = defineTool({
  name: 'edit_file',
  description:
    'Replace one exact occurrence of `old_text` with `new_text` in a workspace file. `old_text` must match exactly (whitespace included) ' +
    'and occur exactly once; include surrounding lines to make it unique.',
  schema,
  largeTextFields: ['old_text', 'new_text'],
  async run(input, ctx) {
    const newBytes = Buffer.byteLength(input.new_text);
    if (newBytes > MAX_WRITE_BYTES) {
      return fail(`\`new_text\` is ${newBytes} bytes, more than edit_file takes (${MAX_WRITE_BYTES / 1024 / 1024} MiB); nothing was changed. Make a change that large with a command through bash.`);
    }
    const resolved = await resolveInWorkspace(ctx.cwd, input.path);
    if (!resolved.ok) return fail(resolved.message);
    const { root, absolute, display } = resolved;
    const read = () => withinTime((giveUp) => readWhole(root, absolute, display, giveUp), FILE_READ_TIMEOUT_MS, ctx.signal, `Reading ${display}`);
    let original: Buffer;
    try {
      original = await read();
    } catch (error) {
      if (error instanceof FileRefusal) return fail(error.missing ? `File not found: ${display}; use write_file to create it.` : error.message);
      return fail(`Could not read ${display}: ${errorText(error)}.`);
    }
    const edit = replaceOnce(original, input.old_text, input.new_text, display);
    if (!edit.ok) return fail(edit.message);
    const { updated } = edit;
    const approved = await ctx.approval.write(
      { tool: 'edit_file', path: display, absolute, after: updated.toString('utf8'), readBefore: async () => ({ text: original.toString('utf8'), bytes: original.length }) },
      ctx.signal,
    );
    if (!approved.ok) return fail(approved.message);
    // The person may have taken a while: the edit applies only to the bytes they saw it against.
    if (approved.asked && !(await read().catch(() => undefined))?.equals(original)) {
      return fail(`${display} changed while the edit waited for approval; nothing was written. Read it again and redo the edit.`);
    }
    try {
      // No abort signal: the write is short, and cut half-way it would leave a stray temporary file.
      await replaceFile(root, absolute, updated, display);
    } catch (error) {
      return fail(error instanceof FileRefusal ? error.message : `Could not write ${display}: ${errorText(error)}.`);
    }
    return ok(`Edited ${display}: replaced 1 occurrence at line ${edit.line}.`);
  },
});

/** The whole file, through a verified descriptor; refuses one too large to hold in memory. */
async function readWhole(root: string, absolute: string, display: string, signal: AbortSignal): Promise<Buffer> {
  const { handle, stats } = await openFileForReading(root, absolute, display);
  try {
    if (stats.size > MAX_EDIT_BYTES) {
      throw new FileRefusal(`${display} is ${stats.size} bytes, more than edit_file handles (${MAX_EDIT_BYTES / 1024 / 1024} MiB); change it with a command (sed, a script) through bash.`);
    }
    return await handle.readFile({ signal });
  } finally {
    await handle.close();
  }
}

type Edit = { ok: true; updated: Buffer; line: number } | { ok: false; message: string };

/** Replaces the single occurrence of `oldText`'s UTF-8 bytes; every other byte stays as it was. */
export function replaceOnce(original: Buffer, oldText: string, newText: string, display: string): Edit {
  if (original.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return { ok: false, message: `${display} is a binary file; edit_file only changes text.` };
  const utf8 = isUtf8(original);
  if (!utf8 && !isAscii(newText)) {
    return {
      ok: false,
      message:
        `${display} is not UTF-8 text (it may be Latin-1 or another encoding), and edit_file keeps its bytes exactly, so \`new_text\` may ` +
        'only use ASCII characters there; nothing was changed. To change the encoding, convert the file with a command (e.g. iconv) through bash.',
    };
  }
  // The text as given first; else, in a file with Windows line endings, with \r\n line ends (the model
  // writes \n). New lines follow the file's own line ends, taken from its first line as editors do.
  const crlfFile = original.indexOf('\n') > 0 && original[original.indexOf('\n') - 1] === 0x0d;
  let needle = Buffer.from(oldText, 'utf8');
  let at = original.indexOf(needle);
  if (at < 0 && oldText.includes('\n') && original.includes('\r\n')) {
    needle = Buffer.from(oldText.replace(/\r?\n/g, '\r\n'), 'utf8');
    at = original.indexOf(needle);
  }
  const replacement = Buffer.from(crlfFile ? newText.replace(/\r?\n/g, '\r\n') : newText, 'utf8');
  if (at < 0) {
    const hint = utf8 ? '' : ` ${display} is not valid UTF-8: bytes read_file shows as \uFFFD cannot be matched; match the text around them.`;
    return { ok: false, message: `\`old_text\` was not found in ${display}; it must match the file exactly, whitespace included (read_file shows the current text).${hint}` };
  }
  let count = 1;
  for (let next = original.indexOf(needle, at + needle.length); next !== -1; next = original.indexOf(needle, next + needle.length)) count++;
  if (count > 1) return { ok: false, message: `\`old_text\` occurs ${count} times in ${display}; include more surrounding lines so that it matches exactly once.` };
  const updated = Buffer.concat([original.subarray(0, at), replacement, original.subarray(at + needle.length)]);
  return { ok: true, updated, line: countNewlines(original, at) + 1 };
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function countNewlines(buffer: Buffer, end: number): number {
  let count = 0;
  for (let at = buffer.indexOf(0x0a); at !== -1 && at < end; at = buffer.indexOf(0x0a, at + 1)) count++;
  return count;
}
