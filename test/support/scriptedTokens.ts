// Token counts for the scripted server. A stand-in for the real tokenizer, which we do not have: every
// block costs ceil(utf-8 bytes of its JSON / 4), about what English text and code cost, so a history that
// grows or shrinks moves the count the way it would move the real one. The rule:
//   - each tool definition, each system block (a string system is one text block) and each content block
//     of each message (a string content is one text block) counts ceil(bytes(JSON) / 4);
//   - each message adds 4 (its role and framing);
//   - `cache_control` is left out before counting, since clients move it between requests.
import type { ContentBlockLike, MessagesBody } from './scriptedSteps';

/** One block of a request in the API's prefix order (tools → system → messages), as the cache sees it. */
export interface RequestPart {
  /** The block's JSON without cache_control, behind a marker of where it sits (for prefix hashing). */
  key: string;
  tokens: number;
  /** The block carries cache_control: a prefix ending here may be written to the prompt cache. */
  breakpoint: boolean;
}

const MESSAGE_TOKENS = 4;

export function tokensOfJson(value: unknown): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(value) ?? '') / 4);
}

/** The request's blocks in prefix order; their tokens add up to countRequestTokens. */
export function requestParts(body: MessagesBody): RequestPart[] {
  if (!body || typeof body !== 'object') return [];
  const parts: RequestPart[] = [];
  const add = (marker: string, block: unknown, extraTokens = 0): void => {
    const { stripped, marked } = stripCacheControl(block);
    // JSON never holds a raw newline, so newline-separated keys cannot run into each other.
    parts.push({ key: `${marker}\n${JSON.stringify(stripped)}\n`, tokens: tokensOfJson(stripped) + extraTokens, breakpoint: marked });
  };
  for (const tool of asArray(body.tools)) add('tool', tool);
  for (const block of blocksOf(body.system)) add('system', block);
  for (const message of asArray(body.messages)) {
    const role = String((message as { role?: unknown } | null)?.role);
    const blocks = blocksOf((message as { content?: unknown } | null)?.content);
    // The message's own 4 tokens ride on its first block; a message with no blocks still costs them.
    if (blocks.length === 0) parts.push({ key: `message ${role}\n`, tokens: MESSAGE_TOKENS, breakpoint: false });
    blocks.forEach((block, i) => add(i === 0 ? `message ${role}` : 'block', block, i === 0 ? MESSAGE_TOKENS : 0));
  }
  return parts;
}

export function countRequestTokens(body: MessagesBody): number {
  return requestParts(body).reduce((sum, part) => sum + part.tokens, 0);
}

/** What a reply's content costs as output: ceil(bytes of its JSON / 4), at least 1. */
export function countOutputTokens(content: unknown): number {
  return Math.max(1, tokensOfJson(content));
}

/** The API's 400 message when the prompt (or the prompt plus max_tokens) does not fit the context, else undefined. */
export function contextLimitError(tokens: number, maxTokens: number, limit: number): string | undefined {
  if (tokens > limit) return `prompt is too long: ${tokens} tokens > ${limit} maximum`;
  if (tokens + maxTokens > limit) {
    return `input length and \`max_tokens\` exceed context limit: ${tokens} + ${maxTokens} > ${limit}, decrease input length or \`max_tokens\` and try again`;
  }
  return undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function blocksOf(content: unknown): unknown[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return asArray(content);
}

/** The block without cache_control (nested tool_result content too), and whether it carried one. */
function stripCacheControl(block: unknown): { stripped: unknown; marked: boolean } {
  if (!block || typeof block !== 'object' || Array.isArray(block)) return { stripped: block, marked: false };
  const { cache_control: cacheControl, ...rest } = block as ContentBlockLike;
  // Truthy, as countCacheBreakpoints counts them.
  let marked = Boolean(cacheControl);
  if (Array.isArray(rest.content)) {
    rest.content = rest.content.map((inner: unknown) => {
      const nested = stripCacheControl(inner);
      marked ||= nested.marked;
      return nested.stripped;
    });
  }
  return { stripped: rest, marked };
}
