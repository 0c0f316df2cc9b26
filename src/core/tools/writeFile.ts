// write_file: creates or overwrites a workspace file, creating missing parent folders, once the approval
// policy lets it (the person sees the change as a diff first, unless edits are allowed).
import type { Stats } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod/mini';
import { defineTool } from './defineTool';
import { MAX_DIFF_SOURCE_BYTES } from './limits';
import { errorText, fail, ok } from './types';
import { resolveInWorkspace } from './workspacePath';

const schema = z.strictObject({
  path: z.string().check(z.minLength(1), z.describe('File path, relative to the workspace folder (absolute paths must be inside it).')),
  content: z.string().check(z.describe('The complete new content of the file.')),
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description: 'Create a file in the workspace or overwrite it completely with `content`. Missing parent folders are created. To change part of a file, prefer edit_file.',
  schema,
  async run(input, ctx) {
    const resolved = await resolveInWorkspace(ctx.cwd, input.path);
    if (!resolved.ok) return fail(resolved.message);
    const { absolute, display } = resolved;
    const existing = await stat(absolute).catch(() => undefined);
    if (existing?.isDirectory()) return fail(`${display} is a directory; write_file needs a file path.`);
    const readBefore = async () => ({ text: existing ? await textForDiff(absolute, existing.size) : undefined, bytes: existing?.size });
    const approved = await ctx.approval.write({ tool: 'write_file', path: display, absolute, after: input.content, readBefore }, ctx.signal);
    if (!approved.ok) return fail(approved.message);
    // The person may have taken a while: what they approved must still be what it replaces.
    if (approved.asked && changedSince(existing, await stat(absolute).catch(() => undefined))) {
      return fail(`${display} changed while the write waited for approval; nothing was written. Read it again and redo the change.`);
    }
    try {
      await mkdir(path.dirname(absolute), { recursive: true });
      // No abort signal: a write cut half-way by Stop would leave a truncated file, and writes are short.
      await writeFile(absolute, input.content, 'utf8');
    } catch (error) {
      return fail(`Could not write ${display}: ${errorText(error)}.`);
    }
    const bytes = Buffer.byteLength(input.content);
    const lines = input.content === '' ? 0 : input.content.split('\n').length - (input.content.endsWith('\n') ? 1 : 0);
    return ok(`${existing ? 'Overwrote' : 'Created'} ${display} (${lines} lines, ${bytes} bytes).`);
  },
});

/** The current text for the approval diff; undefined for a file too large or not text (the card says so). */
async function textForDiff(file: string, size: number): Promise<string | undefined> {
  if (size > MAX_DIFF_SOURCE_BYTES) return undefined;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined || text.includes('\0') ? undefined : text;
}

function changedSince(before: Stats | undefined, now: Stats | undefined): boolean {
  if (!before || !now) return before !== now;
  return before.size !== now.size || before.mtimeMs !== now.mtimeMs;
}
