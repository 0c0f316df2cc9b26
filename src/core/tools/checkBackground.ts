// check_background: lists tasks, or shows one task's status and a bounded slice of its output.
import * as z from 'zod/mini';
import { formatBytes, oneLine, statusWord } from '../../shared/taskWords';
import { formatListeningPort } from '../tasks/listeningPorts';
import { binaryNote, readableTerminalText } from '../tasks/outputText';
import type { OutputSlice, TaskSnapshot } from '../tasks/types';
import { defineTool } from './defineTool';
import { MAX_LISTED_COMMAND_CHARS, MAX_LISTED_TASKS, MAX_OUTPUT_BYTES } from './limits';
import { describeStatus, durationOf, unknownTask } from './taskText';
import { ok } from './types';

const schema = z.strictObject({
  task_id: z.optional(z.string().check(z.minLength(1), z.describe('Task to inspect. Omit to list every task.'))),
  offset: z.optional(
    z.int().check(z.minimum(0), z.describe('Byte offset in the output to read from (use the next offset a previous call gave). Omit for the tail.')),
  ),
});

export const checkBackgroundTool = defineTool({
  name: 'check_background',
  description:
    'Without task_id: list background tasks, one line each (`<id>: [<status>] <command>`, with the TCP ports a running one listens on). With task_id: its status, exit code, ports, ' +
    `duration and output (the last ${formatBytes(MAX_OUTPUT_BYTES)}, or from byte \`offset\` for incremental reads; the result gives the next offset).`,
  schema,
  async run(input, ctx) {
    if (input.task_id === undefined) {
      const tasks = ctx.manager.list();
      if (tasks.length === 0) return ok('No background tasks.');
      return ok(formatList(tasks));
    }
    const task = ctx.manager.get(input.task_id);
    if (!task) return unknownTask(ctx.manager, input.task_id);
    const slice = await ctx.manager.readOutput(task.id, { offset: input.offset, maxBytes: MAX_OUTPUT_BYTES });
    return ok(formatTask(task, slice, input.offset));
  },
});

/** One line per task, newest first; bounded, so hundreds of tasks or a pasted script cannot flood the model. */
function formatList(tasks: readonly TaskSnapshot[]): string {
  const lines = tasks.slice(0, MAX_LISTED_TASKS).map((t) => `${t.id}: [${statusWord(t.status)}] ${shorten(oneLine(t.command), MAX_LISTED_COMMAND_CHARS)}${listensOn(t, ' (listening on ', ')')}`);
  const rest = tasks.slice(MAX_LISTED_TASKS);
  if (rest.length > 0) {
    const running = rest.filter((t) => t.status === 'running').length;
    lines.push(`[${rest.length} older tasks not listed (${running} of them running); check_background with a task_id shows any task]`);
  }
  return lines.join('\n');
}

function listensOn(task: TaskSnapshot, before: string, after: string): string {
  const ports = task.ports ?? [];
  return ports.length === 0 ? '' : `${before}${ports.map(formatListeningPort).join(', ')}${after}`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatTask(task: TaskSnapshot, slice: OutputSlice, requestedOffset: number | undefined): string {
  const header = [
    `Task ${task.id}: ${describeStatus(task)}`,
    `command: ${task.command}`,
    ...(task.description ? [`description: ${task.description}`] : []),
    `${task.status === 'running' ? 'running for' : 'duration'}: ${durationOf(task)}`,
    ...(task.ports?.length ? [`listening on: ${listensOn(task, '', '')}`] : []),
    ...(task.waitingUntilReady ? ['a background_run call is waiting until it is ready'] : []),
    ...(task.notifyOn !== undefined ? [`notify_on: /${task.notifyOn}/`] : []),
  ];
  if (slice.totalBytes === 0) return [...header, 'output: (none yet)'].join('\n');
  if (requestedOffset !== undefined && requestedOffset >= slice.totalBytes && slice.text === '') {
    const more = task.status === 'running' ? 'no new output yet; call again later with the same offset' : 'the task has ended, there is no more output';
    return [...header, `output: offset ${requestedOffset} is at or past the end (${slice.totalBytes} bytes); ${more}.`].join('\n');
  }
  const range = `bytes ${slice.offset}–${slice.nextOffset} of ${slice.totalBytes} (${formatBytes(slice.totalBytes)})`;
  const earlier = slice.offset > 0 && requestedOffset === undefined ? `; earlier output: call with offset 0` : '';
  const footer =
    slice.nextOffset < slice.totalBytes
      ? `[more output is available: call check_background with task_id "${task.id}" and offset ${slice.nextOffset}]`
      : task.status === 'running'
        ? `[end of output so far; the task is still running: call again with offset ${slice.nextOffset} for new output]`
        : `[end of output]`;
  const dropped = slice.dropped
    ? [
        `[bytes ${slice.dropped.from}–${slice.dropped.to} (${formatBytes(slice.dropped.to - slice.dropped.from)}) are not in the log any more: ` +
          `they were dropped while the task flooded output, so its log could not fill the disk. This read ` +
          `${slice.offset >= slice.dropped.to ? 'starts after them' : 'stops where they begin'}.]`,
      ]
    : [];
  const text = slice.binary ? binaryNote(slice.nextOffset - slice.offset) : readableTerminalText(slice.text).replace(/\n$/, '');
  return [...header, `output, ${range}${earlier}:`, ...dropped, text, footer].join('\n');
}
