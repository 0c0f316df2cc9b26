// Exit codes and the one sentence printed when a run fails.
import { DEFAULT_MAX_TURNS } from '../core/agent/agentSession';
import type { CliOptions } from './args';

export const ExitCode = {
  Ok: 0,
  /** API error after retries, bad key, turn limit. */
  Failed: 1,
  /** Bad flags or missing configuration. */
  Usage: 2,
  HangUp: 129,
  Interrupted: 130,
  Terminated: 143,
} as const;

/** What a run that ends at the turn limit leaves behind: results still queued, and tasks it will stop. */
export interface LeftBehind {
  undelivered: number;
  running: number;
}

export function errorSentence(error: { kind: string; message: string }, options: Pick<CliOptions, 'maxTurns'>, left: LeftBehind = { undelivered: 0, running: 0 }): string {
  if (error.kind === 'max_turns') {
    const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
    const parts = [
      ...(left.undelivered > 0 ? [`${plural(left.undelivered, 'background result was', 'background results were')} not delivered to it`] : []),
      ...(left.running > 0 ? [`${plural(left.running, 'task still running is', 'tasks still running are')} stopped`] : []),
    ];
    const after = parts.length === 0 ? '' : ` ${parts.join('; ')}.`;
    return `Error: the agent reached the turn limit (--max-turns ${options.maxTurns ?? DEFAULT_MAX_TURNS}) before it finished; model calls that only deliver background results do not count toward it.${after}`;
  }
  return `Error: ${error.message.replace(/\s*\n\s*/g, ' ')}`;
}
