// write_file: creates or overwrites a workspace file, creating missing parent folders, once the approval
// policy lets it (the person sees the change as a diff first, unless edits are allowed). The write itself
// is replaceFile's: a temporary file in the verified folder, renamed into place.
import type { Stats } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import * as z from 'zod/mini';
import { replaceFile } from '../files/replaceFile';
import { FileRefusal, openFileForReading, specialKind } from '../files/verifiedOpen';
import { withinTime } from '../files/withinTime';
import { resolveInWorkspace } from '../files/workspacePath';
import { defineTool } from './defineTool';
import { FILE_READ_TIMEOUT_MS, MAX_DIFF_SOURCE_BYTES, MAX_WRITE_BYTES } from './limits';
import { errorText, fail, ok } from './types';

const schema = z.strictObject({
  path: z.string().check(z.minLength(1), z.describe('File path, relative to the workspace folder (absolute paths must be inside it).')),
  content: z.string().check(z.describe(`The complete new content of the file (at most ${MAX_WRITE_BYTES / 1024 / 1024} MiB).`)),
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description: 'Create a file in the workspace or overwrite it completely with `content`. Missing parent folders are created. To change part of a file, prefer edit_file.',
  schema,
  largeTextFields: ['content'],
  async run(input, ctx) {
    const bytes = Buffer.byteLength(input.content);
    if (bytes > MAX_WRITE_BYTES) {
      return fail(
        `\`content\` is ${bytes} bytes, more than write_file takes (${MAX_WRITE_BYTES / 1024 / 1024} MiB); nothing was written. ` +
          'Generate a file that large with a command (a script run through bash), or split it into smaller files.',
      );
    }
    const resolved = await resolveInWorkspace(ctx.cwd, input.path);
    if (!resolved.ok) return fail(resolved.message);
    const { root, absolute, display } = resolved;
    // A first look by name; replaceFile checks again on what it really writes.
    const existing = await lstat(absolute).catch(() => undefined);
    if (existing?.isDirectory()) return fail(`${display} is a directory; write_file needs a file path.`);
    if (existing && !existing.isFile()) return fail(`${display} is ${specialKind(existing) ?? 'not a regular file'}; write_file only writes regular files.`);
    const readBefore = async () => ({ text: existing ? await textForDiff(root, absolute, display, ctx.signal) : undefined, bytes: existing?.size });
    const approved = await ctx.approval.write({ tool: 'write_file', path: display, absolute, after: input.content, readBefore }, ctx.signal);
    if (!approved.ok) return fail(approved.message);
    // The person may have taken a while: what they approved must still be what it replaces.
    if (approved.asked && changedSince(existing, await stat(absolute).catch(() => undefined))) {
      return fail(`${display} changed while the write waited for approval; nothing was written. Read it again and redo the change.`);
    }
    let created: boolean;
    try {
      // No abort signal: the write is short, and cut half-way it would leave a stray temporary file.
      ({ created } = await replaceFile(root, absolute, input.content, display));
    } catch (error) {
      return fail(error instanceof FileRefusal ? error.message : `Could not write ${display}: ${errorText(error)}.`);
    }
    const lines = input.content === '' ? 0 : input.content.split('\n').length - (input.content.endsWith('\n') ? 1 : 0);
    return ok(`${created ? 'Created' : 'Overwrote'} ${display} (${lines} lines, ${bytes} bytes).`);
  },
});

/** The current text for the approval diff; undefined for a file too large, not text, or unreadable (the card says so). */
async function textForDiff(root: string, absolute: string, display: string, signal: AbortSignal): Promise<string | undefined> {
  const read = async (giveUp: AbortSignal): Promise<string | undefined> => {
    const { handle, stats } = await openFileForReading(root, absolute, display);
    try {
      if (stats.size > MAX_DIFF_SOURCE_BYTES) return undefined;
      const text = await handle.readFile({ encoding: 'utf8', signal: giveUp });
      return text.includes('\0') ? undefined : text;
    } finally {
      await handle.close();
    }
  };
  return withinTime(read, FILE_READ_TIMEOUT_MS, signal, `Reading ${display}`).catch(() => undefined);
}

function changedSince(before: Stats | undefined, now: Stats | undefined): boolean {
  if (!before || !now) return before !== now;
  return before.size !== now.size || before.mtimeMs !== now.mtimeMs;
}
