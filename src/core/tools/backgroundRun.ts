// background_run: starts a command as a background task and returns at once; its end is reported to the
// conversation through the notification queue.
import * as z from 'zod/mini';
import { FileRefusal, VerifiedFolder } from '../files/verifiedOpen';
import { resolveInWorkspace } from '../files/workspacePath';
import type { CwdEntry } from '../tasks/types';
import { defineTool } from './defineTool';
import { errorText, fail, ok } from './types';

/** A day: a limit, not a default; tasks without `timeout_s` run until they end or are cancelled. */
const MAX_BACKGROUND_TIMEOUT_S = 86_400;

const schema = z.strictObject({
  command: z.string().check(z.minLength(1), z.describe('Shell command to run in the background.')),
  description: z.optional(z.string().check(z.describe('A few words saying what the command is for (shown to the person).'))),
  cwd: z.optional(z.string().check(z.minLength(1), z.describe('Folder to run in, relative to the workspace folder (default: the workspace folder).'))),
  timeout_s: z.optional(
    z.number().check(z.positive(), z.maximum(MAX_BACKGROUND_TIMEOUT_S), z.describe('Kill the task after this many seconds (default: no limit).')),
  ),
});

export const backgroundRunTool = defineTool({
  name: 'background_run',
  description:
    'Start a shell command in the background and return at once with its task id. Use it for slow commands (installs, builds, ' +
    'test suites, dev servers) so you can keep working. When the task ends you are notified automatically with its status, ' +
    'exit code and the tail of its output; check_background reads its output meanwhile, cancel_background stops it. stdin is closed.',
  schema,
  async run(input, ctx) {
    let cwd = ctx.cwd;
    let root = ctx.cwd;
    let elsewhere = false;
    if (input.cwd !== undefined) {
      const resolved = await resolveInWorkspace(ctx.cwd, input.cwd, 'cwd');
      if (!resolved.ok) return fail(resolved.message);
      ({ root, absolute: cwd } = resolved);
      elsewhere = resolved.display !== '.';
    }
    const approved = await ctx.approval.command({ tool: 'background_run', command: input.command, cwd, elsewhere }, ctx.signal);
    if (!approved.ok) return fail(approved.message);
    // The folder is held from here until the task is in it: a swap of its path cannot move the task out.
    let cwdEntry: CwdEntry | undefined;
    if (elsewhere) {
      try {
        const folder = await VerifiedFolder.open(root, cwd, { create: false, display: `\`cwd\` "${input.cwd}"` });
        const entryPath = folder.entryPath;
        if (entryPath) cwdEntry = { path: entryPath, release: () => void folder.close() };
        else await folder.close();
      } catch (error) {
        if (error instanceof FileRefusal) return fail(error.missing ? `\`cwd\` "${input.cwd}" is not a folder in the workspace.` : error.message);
        return fail(`\`cwd\` "${input.cwd}" cannot be used: ${errorText(error)}.`);
      }
    }
    let task;
    try {
      task = ctx.manager.start({
        command: input.command,
        description: input.description,
        cwd,
        cwdEntry,
        timeoutMs: input.timeout_s === undefined ? undefined : Math.round(input.timeout_s * 1000),
        origin: { kind: 'agent', conversationId: ctx.conversationId },
      });
    } catch (error) {
      cwdEntry?.release();
      throw error;
    }
    if (task.status === 'failed') return fail(`Background task ${task.id} could not start: ${task.error ?? 'unknown error'}.`);
    return ok(`Background task ${task.id} started: ${task.command}`);
  },
});
