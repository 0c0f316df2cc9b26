// edit_file: replaces exactly one occurrence of `old_text`; zero or several matches are refused so that an
// edit never lands in the wrong place. The change passes the approval policy (a diff for the person) first.
import { readFile, stat, writeFile } from 'node:fs/promises';
import * as z from 'zod/mini';
import { defineTool } from './defineTool';
import { MAX_EDIT_BYTES } from './limits';
import { errorText, fail, ok } from './types';
import { resolveInWorkspace } from './workspacePath';

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
  async run(input, ctx) {
    const resolved = await resolveInWorkspace(ctx.cwd, input.path);
    if (!resolved.ok) return fail(resolved.message);
    const { absolute, display } = resolved;
    const size = (await stat(absolute).catch(() => undefined))?.size ?? 0;
    if (size > MAX_EDIT_BYTES) {
      return fail(`${display} is ${size} bytes, more than edit_file handles (${MAX_EDIT_BYTES / 1024 / 1024} MiB); change it with a command (sed, a script) through bash.`);
    }
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      return fail(missing ? `File not found: ${display}; use write_file to create it.` : `Could not read ${display}: ${errorText(error)}.`);
    }
    // A file with Windows line endings still matches text the model wrote with \n.
    const crlf = text.includes('\r\n') && !input.old_text.includes('\r\n');
    const oldText = crlf ? input.old_text.replace(/\n/g, '\r\n') : input.old_text;
    const newText = crlf ? input.new_text.replace(/\n/g, '\r\n') : input.new_text;
    const count = countOccurrences(text, oldText);
    if (count === 0) return fail(`\`old_text\` was not found in ${display}; it must match the file exactly, whitespace included (read_file shows the current text).`);
    if (count > 1) return fail(`\`old_text\` occurs ${count} times in ${display}; include more surrounding lines so that it matches exactly once.`);
    const at = text.indexOf(oldText);
    const updated = text.slice(0, at) + newText + text.slice(at + oldText.length);
    const approved = await ctx.approval.write({ tool: 'edit_file', path: display, absolute, after: updated, readBefore: async () => ({ text, bytes: size }) }, ctx.signal);
    if (!approved.ok) return fail(approved.message);
    // The person may have taken a while: the edit applies only to the text they saw it against.
    if (approved.asked && (await readFile(absolute, 'utf8').catch(() => undefined)) !== text) {
      return fail(`${display} changed while the edit waited for approval; nothing was written. Read it again and redo the edit.`);
    }
    try {
      // No abort signal: a write cut half-way by Stop would leave a truncated file, and writes are short.
      await writeFile(absolute, updated, 'utf8');
    } catch (error) {
      return fail(`Could not write ${display}: ${errorText(error)}.`);
    }
    const line = text.slice(0, at).split('\n').length;
    return ok(`Edited ${display}: replaced 1 occurrence at line ${line}.`);
  },
});

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}
