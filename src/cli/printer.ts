// Turns agent and task events into terminal output: the assistant's text on stdout, everything else on stderr,
// one readable line per event, so `cli -p ... > answer.txt` captures only the answer.
import type { AgentEvent } from '../core/agent/events';
import type { TaskEvent, TaskSnapshot } from '../core/tasks/types';
import { formatDuration, formatTokens, oneLine, statusWord, taskDurationMs } from '../shared/taskWords';

const MAX_LINE = 160;

export interface Writable {
  write(text: string): unknown;
}

export class Printer {
  /** stdout has text without a final newline (the model is mid-sentence). */
  private midLine = false;
  /** Foreground bash tasks: their start and end are shown as the tool call, not as background tasks. */
  private readonly foreground = new Set<string>();
  /** Foreground tasks a background_run waits for until ready (not a bash call's). */
  private readonly waitedUntilReady = new Set<string>();
  /** The last error of the run, for the exit code. */
  lastError: { kind: string; message: string } | undefined;

  constructor(
    private readonly out: Writable,
    private readonly err: Writable,
  ) {}

  onAgentEvent = (event: AgentEvent): void => {
    switch (event.type) {
      case 'turn_start':
        if (event.trigger === 'background') this.info('⏺ background results arrived (finished tasks, or notify_on matches): the agent resumes with them');
        return;
      case 'text_delta':
        if (event.text === '') return;
        this.out.write(event.text);
        this.midLine = !event.text.endsWith('\n');
        return;
      case 'tool_start':
        this.info(`⏺ ${event.name}: ${summarizeInput(event.name, event.input)}`);
        return;
      case 'tool_end':
        this.info(`  ⎿ ${event.isError ? 'error: ' : ''}${summarizeResult(event.name, event.result, event.isError)}`);
        return;
      case 'notifications_delivered':
        this.info(deliveredLine(event.taskIds));
        return;
      case 'retry':
        this.info(`[retry ${event.attempt}${event.status ? `: HTTP ${event.status}` : ''}, waiting ${formatDuration(event.delayMs)}]`);
        return;
      case 'error':
        this.lastError = { kind: event.kind, message: event.message };
        return;
      case 'turn_end':
        this.endLine();
        if (event.reason === 'aborted') this.info('[stopped]');
        return;
      case 'compaction_end':
        // A failed one is reported by its error event; an automatic one skipped goes on by other means (cutting).
        if (event.outcome !== 'failed' && !(event.outcome === 'skipped' && event.reason !== 'manual')) this.info(compactionLine(event));
        return;
      case 'request_start':
      case 'usage':
      case 'context':
      case 'context_cleared':
      case 'compaction_start':
        return;
    }
  };

  onTaskEvent = (event: TaskEvent): void => {
    if (event.type === 'removed') return;
    const task = event.task;
    if (event.type === 'started') {
      if (task.foreground) this.foreground.add(task.id);
      else this.info(`[bg ${task.id}] started: ${oneLine(task.command)}`);
      return;
    }
    if (this.foreground.has(task.id)) {
      if (task.waitingUntilReady) this.waitedUntilReady.add(task.id);
      if (task.foreground) {
        if (event.type === 'ended') {
          this.foreground.delete(task.id);
          this.waitedUntilReady.delete(task.id);
        }
        return;
      }
      this.foreground.delete(task.id);
      // background_run waited until it was ready: its result line said so already.
      if (this.waitedUntilReady.delete(task.id)) {
        if (event.type !== 'ended') return;
      } else {
        // The bash tool's timeout passed: from now on it is an ordinary background task.
        this.info(`[bg ${task.id}] moved to the background: ${oneLine(task.command)}`);
      }
      if (event.type !== 'ended') return;
    }
    if (event.type === 'ended') this.info(`[bg ${task.id}] ${describeEnd(task)}`);
  };

  /** One sentence on stderr, on its own line. */
  info(line: string): void {
    this.endLine();
    this.err.write(`${truncate(line)}\n`);
  }

  /** Ends the model's line on stdout so that the next thing printed starts on a fresh line. */
  endLine(): void {
    if (!this.midLine) return;
    this.out.write('\n');
    this.midLine = false;
  }
}

export function describeEnd(task: TaskSnapshot): string {
  const word = statusWord(task.status);
  const took = formatDuration(taskDurationMs(task, Date.now()));
  switch (task.status) {
    case 'completed':
      return `${word} (exit 0, ${took})`;
    case 'failed':
      return task.exitCode === null ? `${word} (${task.error ?? task.signal ?? 'no exit code'}, ${took})` : `${word} (exit ${task.exitCode}, ${took})`;
    case 'timed_out':
      return `${word} (killed after ${took})`;
    default:
      return `${word} (${took})`;
  }
}

function summarizeInput(tool: string, input: unknown): string {
  const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const text = (key: string): string | undefined => (typeof fields[key] === 'string' ? (fields[key] as string) : undefined);
  switch (tool) {
    case 'bash':
    case 'background_run':
      return oneLine(text('command') ?? JSON.stringify(input));
    case 'read_file': {
      const range = typeof fields.offset === 'number' ? ` (from line ${fields.offset})` : '';
      return `${text('path') ?? '?'}${range}`;
    }
    case 'write_file':
    case 'edit_file':
      return text('path') ?? '?';
    case 'check_background':
      return text('task_id') ?? 'all tasks';
    case 'cancel_background':
      return text('task_id') ?? '?';
    default:
      return oneLine(JSON.stringify(input) ?? '');
  }
}

function summarizeResult(tool: string, result: string, isError: boolean): string {
  const lines = result.split('\n');
  // read_file's first line is file content; its last line says which lines were read.
  if (tool === 'read_file' && !isError) return truncate(lines[lines.length - 1], 120);
  const more = lines.length > 1 ? ` (+${lines.length - 1} lines)` : '';
  return `${truncate(lines[0], 120)}${more}`;
}

function truncate(line: string, max = MAX_LINE): string {
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The one stderr line a compaction gets (the summary itself is for the model, not the terminal). */
function compactionLine(event: Extract<AgentEvent, { type: 'compaction_end' }>): string {
  const why = { auto: 'the context was nearly full', manual: 'you asked', too_long: 'the API refused a request as too long' }[event.reason];
  const size = `${formatTokens(event.beforeTokens)} → ${formatTokens(event.afterTokens)} tokens`;
  switch (event.outcome) {
    case 'compacted':
      return event.summarised === false
        ? `[compacted: earlier messages dropped without a summary, ${size}, because ${why} (${event.message ?? 'none could be made'})]`
        : `[compacted: the conversation was summarized, ${size}, because ${why}; your requests and every task id are kept]`;
    case 'skipped':
      return `[not compacted: ${event.message ?? 'nothing to summarize'}]`;
    default:
      return '[compaction stopped: nothing was summarized]';
  }
}

/** Task ids named on the line that says results were delivered; a burst of hundreds is counted instead. */
const DELIVERED_IDS_SHOWN = 5;

function deliveredLine(taskIds: readonly string[]): string {
  if (taskIds.length <= DELIVERED_IDS_SHOWN) return `[bg ${taskIds.join(', ')}] ${taskIds.length === 1 ? 'result' : 'results'} delivered to the agent`;
  return `[bg ${taskIds.slice(0, DELIVERED_IDS_SHOWN).join(', ')} and ${taskIds.length - DELIVERED_IDS_SHOWN} more] ${taskIds.length} results delivered to the agent`;
}
