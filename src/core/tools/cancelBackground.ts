// cancel_background: kills a task's whole process tree and reports how it ended.
import * as z from 'zod/mini';
import { defineTool } from './defineTool';
import { describeStatus, durationOf, unknownTask } from './taskText';
import { ok } from './types';

const schema = z.strictObject({
  task_id: z.string().check(z.minLength(1), z.describe('Id of the task to cancel.')),
});

export const cancelBackgroundTool = defineTool({
  name: 'cancel_background',
  description: "Cancel a background task: its whole process tree is killed (SIGTERM, then SIGKILL). Returns the task's final status.",
  schema,
  async run(input, ctx) {
    const task = ctx.manager.get(input.task_id);
    if (!task) return unknownTask(ctx.manager, input.task_id);
    if (task.status !== 'running') return ok(`Task ${task.id} had already ended: ${describeStatus(task)} after ${durationOf(task)}. Nothing to cancel.`);
    const final = await ctx.manager.cancel(task.id);
    if (final.status !== 'cancelled') return ok(`Task ${final.id} ended on its own before the cancel took effect: ${describeStatus(final)} after ${durationOf(final)}.`);
    return ok(`Task ${final.id} cancelled after ${durationOf(final)}: its whole process tree was killed.`);
  },
});
