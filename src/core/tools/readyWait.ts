// background_run's wait until the task is ready (`wait_for`, `wait_for_port`): the tool's pending result.
// The task was started in the foreground (its end is not notified while the tool waits, so an end before
// readiness is told once, here); whatever the outcome, it then becomes an ordinary background task.
import { formatListeningPort } from '../tasks/listeningPorts';
import { readableTerminalText } from '../tasks/outputText';
import type { ListeningPort, ReadyConditions, ReadyOutcome, TaskSnapshot } from '../tasks/types';
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
  if (outcome.kind === 'ended' || task.status !== 'running') return endedBeforeReady(ctx, task, conditions, outcome.kind === 'ended' ? outcome.line : undefined);
  const last = await lastLines(ctx, taskId);
  const told = ctx.external ? 'nothing is delivered to you when it ends' : 'you will be notified when it ends';
  const keeps = `It keeps running in the background: ${told}; check_background with task_id "${taskId}" reads its output, cancel_background stops it.`;
  return describeOutcome(outcome, task, conditions, keeps, last, ctx.external ? 'the call was cancelled' : 'the person pressed Stop');
}

function describeOutcome(outcome: Exclude<ReadyOutcome, { kind: 'ended' }>, task: TaskSnapshot, conditions: ReadyConditions, keeps: string, last: string, stopped: string): ToolResult {
  const tail = `${portsLine(task)}\n${last}`;
  switch (outcome.kind) {
    case 'ready':
      return ok(`Background task ${task.id} is ready after ${formatDuration(outcome.afterMs)}: ${found(outcome.line, outcome.port)}. ${keeps}${tail}`);
    case 'timeout': {
      const port = conditions.port === undefined ? undefined : (task.ports ?? []).find((p) => p.port === conditions.port);
      const lineMissing = conditions.pattern !== undefined && outcome.line === undefined;
      // Both came true in the last moment of the wait: that is ready.
      if (!lineMissing && (conditions.port === undefined || port)) return ok(`Background task ${task.id} is ready after ${formatDuration(outcome.afterMs)}: ${found(outcome.line, port)}. ${keeps}${tail}`);
      const missing = [
        lineMissing && `no output line matched \`wait_for\` /${conditions.pattern?.source}/`,
        conditions.port !== undefined && !port && `nothing in its process tree listens on port ${conditions.port}${PORT_NOTE}`,
      ].filter(Boolean);
      return ok(`Background task ${task.id} is not ready after ${formatDuration(outcome.afterMs)} (\`wait_timeout_s\`): ${missing.join('; ')}. It is still running (not killed). ${keeps}${tail}`);
    }
    case 'stopped':
      return ok(`Stopped waiting after ${formatDuration(outcome.afterMs)}: ${stopped}. Background task ${task.id} was not killed. ${keeps}${tail}`);
    case 'pattern_failed':
      return fail(`Stopped waiting for \`wait_for\` /${conditions.pattern?.source}/ after ${formatDuration(outcome.afterMs)}: ${outcome.reason}. Background task ${task.id} was not killed. ${keeps}${tail}`);
  }
}

/** Why a port can listen and still not be the task's: said where it would otherwise mislead. */
const PORT_NOTE = ' (a port published by a container is held by docker-proxy, not by this task: wait for a line of its output instead)';

function found(line: string | undefined, port: ListeningPort | undefined): string {
  return [line !== undefined && `the line ${quoteLine(line)} matched \`wait_for\``, port && `listening on ${formatListeningPort(port)}`].filter(Boolean).join('; ');
}

async function endedBeforeReady(ctx: ToolContext, task: TaskSnapshot, conditions: ReadyConditions, line: string | undefined): Promise<ToolResult> {
  const waitedFor = [conditions.pattern && `a line matching /${conditions.pattern.source}/`, conditions.port !== undefined && `port ${conditions.port}`].filter(Boolean).join(' and ');
  const printed = line === undefined ? '' : ` (it did print the line ${quoteLine(line)})`;
  return fail(`Background task ${task.id} ended before it was ready (waited for ${waitedFor})${printed}: it ${describeStatus(task)} after ${durationOf(task)}.\n${await lastLines(ctx, task.id)}`);
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
