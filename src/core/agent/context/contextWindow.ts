// How big a conversation may get: the model's context window, and a rough token count for what we are
// about to send. The count is an estimate on purpose (no tokenizer ships with the SDK): what was sent is
// known exactly from the API's usage, and only what was added since is estimated, on the high side.
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';

/** Every current Claude model has 200k tokens of context (more only with a beta header we do not send). */
export const DEFAULT_CONTEXT_WINDOW = 200_000;

/** Known context windows by model id prefix; the first match wins. */
const KNOWN_WINDOWS: ReadonlyArray<readonly [prefix: string, tokens: number]> = [
  ['claude-opus-4', 200_000],
  ['claude-sonnet-4', 200_000],
  ['claude-haiku-4', 200_000],
  ['claude-3-7-sonnet', 200_000],
  ['claude-3-5-sonnet', 200_000],
  ['claude-3-5-haiku', 200_000],
  ['claude-3-opus', 200_000],
  ['claude-3-haiku', 200_000],
  ['claude-', 200_000],
];

/**
 * The least window we work in: the system prompt and the tools take about 2k tokens, and a summary, the
 * task table and one exchange must fit beside them and the answer.
 */
export const MIN_CONTEXT_WINDOW = 10_000;

/** The window a session works with: the setting when it is positive (at least MIN_CONTEXT_WINDOW), else the model's known one, else 200k. */
export function resolveContextWindow(model: string, setting: number | undefined): number {
  if (setting !== undefined && Number.isFinite(setting) && setting > 0) return Math.max(MIN_CONTEXT_WINDOW, Math.floor(setting));
  return KNOWN_WINDOWS.find(([prefix]) => model.startsWith(prefix))?.[1] ?? DEFAULT_CONTEXT_WINDOW;
}

/**
 * About one token per 3 characters of JSON. Real tokenizers average 3.5–4 characters per token on English
 * and code, so this errs towards too many, which is the safe side for "will it fit".
 */
const CHARS_PER_TOKEN = 3;

export function estimateTokens(value: unknown): number {
  if (value === undefined) return 0;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateMessages(messages: readonly MessageParam[]): number {
  let total = 0;
  for (const message of messages) total += 4 + estimateTokens(message.content);
  return total;
}

/** The whole request as we would send it (system prompt, tools, history). */
export function estimateRequest(system: string, tools: readonly Tool[], messages: readonly MessageParam[]): number {
  return estimateTokens(system) + estimateTokens(tools) + estimateMessages(messages);
}

/**
 * What the API says when a request does not fit: `prompt is too long: N tokens > M maximum`, or (newer
 * models) `input length and \`max_tokens\` exceed context limit: N + K > M`. Returns N and the window M when it is one.
 */
export function parseTooLong(message: string): { tokens: number; window: number } | undefined {
  const prompt = /prompt is too long:\s*(\d+)\s*tokens\s*>\s*(\d+)\s*maximum/i.exec(message);
  if (prompt) return { tokens: Number(prompt[1]), window: Number(prompt[2]) };
  const total = /exceed context limit:\s*(\d+)\s*\+\s*\d+\s*>\s*(\d+)/i.exec(message);
  if (total) return { tokens: Number(total[1]), window: Number(total[2]) };
  return undefined;
}
