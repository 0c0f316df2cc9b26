// background_run: starts a command as a background task and returns at once; its end is reported to the
// conversation through the notification queue.
import { stat } from 'node:fs/promises';
import * as z from 'zod/mini';
import { defineTool } from './defineTool';
import { fail, ok } from './types';
import { resolveInWorkspace } from './workspacePath';

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
    let elsewhere = false;
    if (input.cwd !== undefined) {
      const resolved = await resolveInWorkspace(ctx.cwd, input.cwd, 'cwd');
      if (!resolved.ok) return fail(resolved.message);
      const info = await stat(resolved.absolute).catch(() => undefined);
      if (!info?.isDirectory()) return fail(`\`cwd\` "${input.cwd}" is not a folder in the workspace.`);
      cwd = resolved.absolute;
      elsewhere = resolved.display !== '.';
    }
    const approved = await ctx.approval.command({ tool: 'background_run', command: input.command, cwd, elsewhere }, ctx.signal);
    if (!approved.ok) return fail(approved.message);
    const task = ctx.manager.start({
      command: input.command,
      description: input.description,
      cwd,
      timeoutMs: input.timeout_s === undefined ? undefined : Math.round(input.timeout_s * 1000),
      origin: { kind: 'agent', conversationId: ctx.conversationId },
    });
    if (task.status === 'failed') return fail(`Background task ${task.id} could not start: ${task.error ?? 'unknown error'}.`);
    return ok(`Background task ${task.id} started: ${task.command}`);
  },
});
