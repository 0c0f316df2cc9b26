// bash: runs a command and waits for it. A command that outlives `timeout_s` is moved to the background, not
// killed: the model gets its task id and hears about its end like any background task. Stop kills it.
import * as z from 'zod/mini';
import { formatBytes, formatDuration } from '../../shared/taskWords';
import type { TaskSnapshot } from '../tasks/types';
import { defineTool } from './defineTool';
import { DEFAULT_BASH_TIMEOUT_S, MAX_BASH_TIMEOUT_S, MAX_OUTPUT_BYTES } from './limits';
import { describeStatus, durationOf } from './taskText';
import { fail, ok, type ToolContext, type ToolResult } from './types';

const schema = z.strictObject({
  command: z.string().check(z.minLength(1), z.describe('Shell command to run in the workspace folder.')),
  timeout_s: z.optional(
    z
      .number()
      .check(
        z.positive(),
        z.maximum(MAX_BASH_TIMEOUT_S),
        z.describe(`Seconds to wait (default ${DEFAULT_BASH_TIMEOUT_S}, max ${MAX_BASH_TIMEOUT_S}). If the command is still running then, it moves to the background instead of being killed.`),
      ),
  ),
});

export const bashTool = defineTool({
  name: 'bash',
  description:
    'Run a shell command in the workspace folder and wait for it; returns its exit code and output (stdout and stderr interleaved, ' +
    `long output cut in the middle). stdin is closed. If it runs longer than timeout_s (default ${DEFAULT_BASH_TIMEOUT_S} s) it keeps ` +
    'running as a background task and you are notified when it ends. For commands you know are slow, use background_run instead.',
  schema,
  async run(input, ctx) {
    const approved = await ctx.approval.command({ tool: 'bash', command: input.command, cwd: ctx.cwd }, ctx.signal);
    if (!approved.ok) return fail(approved.message);
    const task = ctx.manager.start({
      command: input.command,
      cwd: ctx.cwd,
      origin: { kind: 'agent', conversationId: ctx.conversationId },
      foreground: true,
    });
    if (task.status === 'failed' && task.error) return fail(`The command could not start: ${task.error}.`);
    const outcome = await waitBounded(ctx, task.id, (input.timeout_s ?? DEFAULT_BASH_TIMEOUT_S) * 1000);
    if (outcome.kind === 'ended') return finished(ctx, outcome.task);
    if (outcome.kind === 'aborted') {
      const final = await ctx.manager.cancel(task.id);
      return fail(`Stopped by the person: the command was cancelled after ${durationOf(final)} and its process tree was killed.`);
    }
    const moved = ctx.manager.moveToBackground(task.id) ?? task;
    // It may have ended in the instant between the timeout and the move: then it is simply finished.
    if (moved.status !== 'running') return finished(ctx, moved);
    const moveNote =
      `The command was still running after ${formatDuration(outcome.waitedMs)}, so it was moved to the background as task ${task.id} (not killed). ` +
      `You will be notified when it ends; check_background with task_id "${task.id}" shows its output, cancel_background stops it.`;
    // What it printed so far often answers the question already (a dev server's "listening on …").
    if (moved.outputBytes === 0) return ok(`${moveNote}
No output so far.`);
    return ok(`${moveNote}
Output so far (${formatBytes(moved.outputBytes)}):
${ctx.manager.outputPreview(task.id, OUTPUT_SO_FAR_BYTES).replace(/\n$/, '')}`);
  },
});

/** Output shown when a command moves to the background: enough for a server's banner, small next to the full result. */
const OUTPUT_SO_FAR_BYTES = 4096;

type WaitOutcome = { kind: 'ended'; task: TaskSnapshot } | { kind: 'timeout'; waitedMs: number } | { kind: 'aborted' };

/** Waits for the task's end, the timeout or the person's Stop, whichever comes first; cleans up its timer and listener. */
async function waitBounded(ctx: ToolContext, taskId: string, timeoutMs: number): Promise<WaitOutcome> {
  if (ctx.signal.aborted) return { kind: 'aborted' };
  const stopWaiting = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stopWaiting.abort();
  }, timeoutMs);
  const onAbort = (): void => stopWaiting.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return { kind: 'ended', task: await ctx.manager.waitForEnd(taskId, stopWaiting.signal) };
  } catch {
    const current = ctx.manager.get(taskId);
    if (current && current.status !== 'running') return { kind: 'ended', task: current };
    return timedOut ? { kind: 'timeout', waitedMs: timeoutMs } : { kind: 'aborted' };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

function finished(ctx: ToolContext, task: TaskSnapshot): ToolResult {
  // The task id stays findable after the history is trimmed (contextClearing.ts points at its log).
  const head = task.status === 'completed' || task.status === 'failed' ? exitLine(task) : `The command ${describeStatus(task)} (task ${task.id}).`;
  if (task.outputBytes === 0) return { content: `${head}\n(no output)`, isError: task.status !== 'completed' && task.status !== 'failed' };
  const output = ctx.manager.outputPreview(task.id, MAX_OUTPUT_BYTES).replace(/\n$/, '');
  const cut =
    task.outputBytes > MAX_OUTPUT_BYTES
      ? `\n[output was ${formatBytes(task.outputBytes)}; its middle was cut. Read all of it with check_background task_id "${task.id}" and offset 0.]`
      : '';
  return ok(`${head}\n${output}${cut}`);
}

function exitLine(task: TaskSnapshot): string {
  if (task.error) return `The command failed: ${task.error} (${durationOf(task)}, task ${task.id}).`;
  const code = task.exitCode === null ? `killed by ${task.signal ?? 'a signal'}` : `exit code ${task.exitCode}`;
  return `${code[0].toUpperCase()}${code.slice(1)} (${durationOf(task)}, task ${task.id}).`;
}
