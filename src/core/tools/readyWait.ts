// background_run's wait until the task is ready (`wait_for`, `wait_for_port`): the tool's pending result.
// The task was started in the foreground (its end is not notified while the tool waits, so an end before
// readiness is told once, here); whatever the outcome, it then becomes an ordinary background task.
import { formatListeningPort } from '../tasks/listeningPorts';
import { readableTerminalText } from '../tasks/outputText';
import type { ReadyConditions, ReadyOutcome, TaskSnapshot } from '../tasks/types';
import { formatDuration } from '../../shared/taskWords';
import { describeStatus, durationOf } from './taskText';
import { fail, ok, type ToolContext, type ToolResult } from './types';

/** The output shown with a wait's result: enough for a server's banner or the error that stopped it. */
const LAST_LINES = 20;
const LAST_BYTES = 3 * 1024;

export async function waitUntilReadyResult(ctx: ToolContext, taskId: string, conditions: ReadyConditions): Promise<ToolResult> {
  const outcome = await ctx.manager.waitUntilReady(taskId, conditions, ctx.signal);
  const task = ctx.manager.moveToBackground(taskId);
  if (!task) return fail(`Background task ${taskId} is gone.`);
  // It may have ended in the instant between the outcome and the move: then it simply ended.
  if (outcome.kind === 'ended' || task.status !== 'running') return endedBeforeReady(ctx, task, conditions);
  const last = await lastLines(ctx, taskId);
  const keeps = `It keeps running in the background: you will be notified when it ends; check_background with task_id "${taskId}" reads its output, cancel_background stops it.`;
  return describeOutcome(outcome, task, conditions, keeps, last);
}

function describeOutcome(outcome: Exclude<ReadyOutcome, { kind: 'ended' }>, task: TaskSnapshot, conditions: ReadyConditions, keeps: string, last: string): ToolResult {
  switch (outcome.kind) {
    case 'ready': {
      const found = [
        outcome.line !== undefined && `the line ${quoteLine(outcome.line)} matched \`wait_for\``,
        outcome.port && `listening on ${formatListeningPort(outcome.port)}`,
      ].filter(Boolean);
      return ok(`Background task ${task.id} is ready after ${formatDuration(outcome.afterMs)}: ${found.join('; ')}. ${keeps}${portsLine(task)}\n${last}`);
    }
    case 'timeout': {
      const missing = [
        conditions.pattern && (outcome.line === undefined ? `no output line matched \`wait_for\` /${conditions.pattern.source}/` : undefined),
        conditions.port !== undefined && !(task.ports ?? []).some((p) => p.port === conditions.port) && `nothing in its process tree listens on port ${conditions.port}`,
      ].filter(Boolean);
      return ok(`Background task ${task.id} is not ready after ${formatDuration(outcome.afterMs)} (\`wait_timeout_s\`): ${missing.join('; ')}. It is still running (not killed). ${keeps}${portsLine(task)}\n${last}`);
    }
    case 'stopped':
      return ok(`Stopped waiting after ${formatDuration(outcome.afterMs)}: the person pressed Stop. Background task ${task.id} was not killed; ${keeps}${portsLine(task)}\n${last}`);
  }
}

async function endedBeforeReady(ctx: ToolContext, task: TaskSnapshot, conditions: ReadyConditions): Promise<ToolResult> {
  const waitedFor = [conditions.pattern && `a line matching /${conditions.pattern.source}/`, conditions.port !== undefined && `port ${conditions.port}`].filter(Boolean).join(' and ');
  return fail(`Background task ${task.id} ended before it was ready (waited for ${waitedFor}): it ${describeStatus(task)} after ${durationOf(task)}.\n${await lastLines(ctx, task.id)}`);
}

function portsLine(task: TaskSnapshot): string {
  const ports = task.ports ?? [];
  return ports.length > 0 ? `\nIts process tree listens on ${ports.map(formatListeningPort).join(', ')}.` : '';
}

async function lastLines(ctx: ToolContext, taskId: string): Promise<string> {
  const slice = await ctx.manager.readOutput(taskId, { maxBytes: LAST_BYTES }).catch(() => undefined);
  if (!slice || slice.totalBytes === 0) return 'No output so far.';
  if (slice.binary) return 'Its output is binary (not shown).';
  const lines = readableTerminalText(slice.text).replace(/\n$/, '').split('\n');
  // A read that starts mid-output starts mid-line.
  if (slice.offset > 0 && lines.length > 1) lines.shift();
  const shown = lines.slice(-LAST_LINES);
  const cut = slice.offset > 0 || shown.length < lines.length;
  return `${cut ? 'Last lines of its output' : 'Its output'}:\n${shown.join('\n')}`;
}

function quoteLine(line: string): string {
  return JSON.stringify(line.length > 300 ? `${line.slice(0, 300)}…` : line);
}
