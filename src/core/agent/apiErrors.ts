// Turns whatever the SDK throws into the kind the UI understands and one sentence a person can act on,
// and decides whether an error is worth another attempt.
import Anthropic from '@anthropic-ai/sdk';
import type { AgentErrorKind } from './events';

export interface ClassifiedError {
  kind: Exclude<AgentErrorKind, 'max_turns'>;
  message: string;
  /** HTTP status when the server answered. */
  status?: number;
  retryable: boolean;
  /** The server's requested wait (retry-after-ms / retry-after), when it gave one. */
  retryAfterMs?: number;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Anthropic.APIUserAbortError || (err instanceof Error && err.name === 'AbortError');
}

export function classifyError(err: unknown): ClassifiedError {
  if (err instanceof Anthropic.APIError && typeof err.status === 'number') {
    const status = err.status;
    const detail = apiMessage(err);
    const retryable = shouldRetry(status, err.headers);
    const retryAfterMs = parseRetryAfter(err.headers);
    if (status === 401 || status === 403) {
      return { kind: 'auth', status, retryable: false, message: `The API rejected the key (${status}): ${detail}. Set a valid Anthropic API key.` };
    }
    if (status === 429) return { kind: 'rate_limit', status, retryable, retryAfterMs, message: `Rate limited by the API (429): ${detail}.` };
    if (status === 529) return { kind: 'overloaded', status, retryable, retryAfterMs, message: `The API is overloaded (529): ${detail}.` };
    return { kind: 'api', status, retryable, retryAfterMs, message: `The API answered ${status}: ${detail}.` };
  }
  // No HTTP answer: refused connection, timeout, or a stream cut half-way.
  return { kind: 'connection', retryable: true, message: `Could not reach the API (${describeCause(err)}).` };
}

/** "Connection error." alone helps nobody: add the causes (ECONNREFUSED, "other side closed", …). */
export function describeCause(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current && depth < 4; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    const code = (current as { code?: unknown }).code;
    const part = typeof code === 'string' && !message.includes(code) ? `${message} ${code}` : message;
    if (part && !parts.includes(part)) parts.push(part.replace(/\.$/, ''));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}

function apiMessage(err: InstanceType<typeof Anthropic.APIError>): string {
  const body = err.error as { error?: { message?: unknown } } | undefined;
  const inner = body?.error?.message;
  return typeof inner === 'string' && inner !== '' ? inner.replace(/\.$/, '') : err.message;
}

/** The SDK's own policy: obey `x-should-retry`, else retry 408, 409, 429 and 5xx. */
function shouldRetry(status: number, headers: Headers | undefined): boolean {
  const header = headers?.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** `retry-after-ms` (milliseconds) wins over `retry-after` (seconds or an HTTP date). */
export function parseRetryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms) {
    const value = parseFloat(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers?.get('retry-after');
  if (after) {
    const seconds = parseFloat(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return undefined;
}
