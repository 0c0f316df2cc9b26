// How long to wait before the next attempt. We run the retry loop ourselves (SDK maxRetries: 0) so the
// UI gets a `retry` event with the status and the wait, and so a stream dropped before any text is
// retried by the same rules; the numbers follow the SDK's (0.5 s doubling to 8 s, up to 25 % jitter,
// the server's retry-after honoured).

export interface RetryOptions {
  /** Attempts after the first one. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** A server asking for longer than this is not waited for: the error is reported instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxRetries: 4, initialDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };

/** `attempt` is 1 for the first retry. Returns undefined when the server's wait is too long to honour. */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, options: RetryOptions, random = Math.random): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs <= options.maxRetryAfterMs ? retryAfterMs : undefined;
  const base = Math.min(options.initialDelayMs * 2 ** (attempt - 1), options.maxDelayMs);
  return Math.round(base * (1 - random() * 0.25));
}

/** Resolves after `ms`, or rejects at once with an AbortError when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(): Error {
  const err = new Error('Aborted');
  err.name = 'AbortError';
  return err;
}
