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

export function errorSentence(error: { kind: string; message: string }, options: Pick<CliOptions, 'maxTurns'>): string {
  if (error.kind === 'max_turns') {
    return `Error: the agent reached the turn limit (--max-turns ${options.maxTurns ?? DEFAULT_MAX_TURNS}) before it finished.`;
  }
  return `Error: ${error.message.replace(/\s*\n\s*/g, ' ')}`;
}
