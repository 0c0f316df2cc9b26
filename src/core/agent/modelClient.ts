// The one place that talks to the SDK: one streaming Messages request, with text deltas passed on as
// they arrive, abort through a signal, and our own retry loop (see retryPolicy.ts for why).
import Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { classifyError, describeCause, isAbortError, type ClassifiedError } from './apiErrors';
import type { TokenUsage } from './events';
import { abortableSleep, DEFAULT_RETRY, retryDelayMs, type RetryOptions } from './retryPolicy';

export type ModelRequest = Omit<MessageCreateParamsNonStreaming, 'stream'>;

export interface ModelCallHooks {
  onText(delta: string): void;
  onRetry(attempt: number, delayMs: number, status: number | undefined): void;
}

export type ModelCallResult =
  | { ok: true; message: Message }
  | { ok: false; aborted: true; partialText: string }
  | { ok: false; aborted: false; error: ClassifiedError; partialText: string };

export interface ModelClient {
  call(request: ModelRequest, signal: AbortSignal, hooks: ModelCallHooks): Promise<ModelCallResult>;
}

export interface ModelClientOptions {
  apiKey: string;
  baseURL?: string;
  retry?: Partial<RetryOptions>;
}

/** One answer's usage in our terms (the cache fields are absent from older answers). */
export function usageOf(message: Message): TokenUsage {
  return {
    inputTokens: message.usage.input_tokens,
    outputTokens: message.usage.output_tokens,
    cacheReadTokens: message.usage.cache_read_input_tokens ?? 0,
    cacheCreationTokens: message.usage.cache_creation_input_tokens ?? 0,
  };
}

export function createModelClient(options: ModelClientOptions): ModelClient {
  // maxRetries 0: retries are ours, so that each one is visible as a `retry` event.
  const client = new Anthropic({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0 });
  const retry = { ...DEFAULT_RETRY, ...options.retry };

  async function attempt(request: ModelRequest, signal: AbortSignal, onText: (t: string) => void): Promise<Message> {
    const stream = client.messages.stream(request, { signal });
    stream.on('text', onText);
    return stream.finalMessage();
  }

  return {
    async call(request, signal, hooks) {
      let partialText = '';
      for (let attemptNo = 0; ; attemptNo++) {
        let emitted = false;
        try {
          const message = await attempt(request, signal, (text) => {
            emitted = true;
            partialText += text;
            hooks.onText(text);
          });
          return { ok: true, message };
        } catch (err) {
          if (signal.aborted || isAbortError(err)) return { ok: false, aborted: true, partialText };
          const error = classifyError(err);
          // Text already on screen cannot be taken back: a stream cut after it is reported, not replayed.
          if (error.kind === 'connection') {
            error.message = emitted
              ? `The connection to the API dropped while the answer was streaming (${describeCause(err)}); the part already shown is kept.`
              : `Could not reach the API at ${client.baseURL} (${describeCause(err)}).`;
          }
          if (!error.retryable || emitted || attemptNo >= retry.maxRetries) return { ok: false, aborted: false, error, partialText };
          const delayMs = retryDelayMs(attemptNo + 1, error.retryAfterMs, retry);
          if (delayMs === undefined) return { ok: false, aborted: false, error, partialText };
          hooks.onRetry(attemptNo + 1, delayMs, error.status);
          try {
            await abortableSleep(delayMs, signal);
          } catch {
            return { ok: false, aborted: true, partialText };
          }
        }
      }
    },
  };
}
