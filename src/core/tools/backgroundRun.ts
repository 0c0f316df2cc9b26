// background_run: starts a command as a background task and returns at once, or once it is ready
// (`wait_for`, `wait_for_port`: readyWait.ts); its end is reported to the conversation through the
// notification queue, and so are output lines matching `notify_on` while it runs.
import * as z from 'zod/mini';
import { FileRefusal, VerifiedFolder } from '../files/verifiedOpen';
import { resolveInWorkspace } from '../files/workspacePath';
import { checkOutputPattern } from '../tasks/outputPattern';
import type { CwdEntry } from '../tasks/types';
import { defineTool, isRecord } from './defineTool';
import { waitUntilReadyResult } from './readyWait';
import { errorText, fail, ok } from './types';

/** A day: a limit, not a default; tasks without `timeout_s` run until they end or are cancelled. */
const MAX_BACKGROUND_TIMEOUT_S = 86_400;
const DEFAULT_WAIT_TIMEOUT_S = 60;
const MAX_WAIT_TIMEOUT_S = 600;

const schema = z.strictObject({
  command: z.string().check(z.minLength(1), z.describe('Shell command to run in the background.')),
  description: z.optional(z.string().check(z.describe('A few words saying what the command is for (shown to the person).'))),
  cwd: z.optional(z.string().check(z.minLength(1), z.describe('Folder to run in, relative to the workspace folder (default: the workspace folder).'))),
  timeout_s: z.optional(
    z.number().check(z.positive(), z.maximum(MAX_BACKGROUND_TIMEOUT_S), z.describe('Kill the task after this many seconds (default: no limit).')),
  ),
  wait_for: z.optional(
    z.string().check(
      z.describe('A JavaScript regular expression (no slashes or flags). The call returns once a line of the output matches it (e.g. "ready in|Local:"), instead of at once.'),
    ),
  ),
  wait_for_port: z.optional(
    z.int().check(z.minimum(1), z.maximum(65535), z.describe('The call returns once a process of the task listens on this TCP port. With wait_for, both must hold.')),
  ),
  wait_timeout_s: z.optional(
    z.number().check(
      z.positive(),
      z.maximum(MAX_WAIT_TIMEOUT_S),
      z.describe(`How long the call may wait for wait_for / wait_for_port (default ${DEFAULT_WAIT_TIMEOUT_S}). The task keeps running after it.`),
    ),
  ),
  notify_on: z.optional(
    z.string().check(
      z.describe('A JavaScript regular expression. While the task runs, output lines that match it are delivered to you like a completion (batched), e.g. "error|failed" for a watcher.'),
    ),
  ),
});

export const backgroundRunTool = defineTool({
  name: 'background_run',
  description:
    'Start a shell command in the background and return at once with its task id. Use it for slow commands (installs, builds, ' +
    'test suites, dev servers) so you can keep working. When the task ends you are notified automatically with its status, ' +
    'exit code and the tail of its output; check_background reads its output meanwhile, cancel_background stops it. stdin is closed. ' +
    'For a dev server or watcher, give wait_for (a line such as "ready in") and/or wait_for_port: the call then returns once it is ready ' +
    '(or not ready after wait_timeout_s, or ended), instead of guessing with sleep. notify_on tells you of output lines that matter while it runs.',
  schema,
  // A call that waits starts beside an earlier wait; one that does not, after it (the model's order).
  startsBesideWaits: (input) => isRecord(input) && (input.wait_for !== undefined || input.wait_for_port !== undefined),
  async run(input, ctx) {
    // Checked before anything is asked or started: a bad pattern is the model's to fix.
    const waitFor = input.wait_for === undefined ? undefined : checkOutputPattern('wait_for', input.wait_for);
    if (waitFor && !waitFor.ok) return fail(waitFor.message);
    const notifyOn = input.notify_on === undefined ? undefined : checkOutputPattern('notify_on', input.notify_on);
    if (notifyOn && !notifyOn.ok) return fail(notifyOn.message);
    const waits = waitFor !== undefined || input.wait_for_port !== undefined;
    if (input.wait_for_port !== undefined && !ctx.manager.portsSupported) {
      return fail('`wait_for_port` needs /proc (Linux) or `lsof` to see which ports a task listens on, and this system has neither; wait for a line of its output with `wait_for` instead (e.g. "listening on").');
    }
    if (input.wait_timeout_s !== undefined && !waits) return fail('`wait_timeout_s` only applies with `wait_for` or `wait_for_port`; give one of them, or leave it out.');
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
        // While the call waits, its end is the call's result, not a notification as well.
        ...(waits && { foreground: true }),
        ...(input.notify_on !== undefined && { notifyOn: input.notify_on }),
      });
    } catch (error) {
      cwdEntry?.release();
      throw error;
    }
    if (task.status === 'failed') return fail(`Background task ${task.id} could not start: ${task.error ?? 'unknown error'}.`);
    const watching = input.notify_on === undefined ? '' : `\nOutput lines matching \`notify_on\` /${input.notify_on}/ will be delivered to you while it runs.`;
    if (!waits) return ok(`Background task ${task.id} started: ${task.command}${watching}`);
    const conditions = {
      ...(waitFor?.ok && { pattern: waitFor.regex }),
      ...(input.wait_for_port !== undefined && { port: input.wait_for_port }),
      timeoutMs: Math.round((input.wait_timeout_s ?? DEFAULT_WAIT_TIMEOUT_S) * 1000),
    };
    return {
      // The note on notify_on only while there is something to watch.
      pending: waitUntilReadyResult(ctx, task.id, conditions).then((result) =>
        watching === '' || ctx.manager.get(task.id)?.status !== 'running' ? result : { ...result, content: `${result.content}${watching}` },
      ),
    };
  },
});
