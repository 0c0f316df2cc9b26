// Prompt caching. The API caches the prefix up to each block marked with cache_control, in the order
// tools → system → messages, and allows at most 4 marks. We use all four:
//   1. the last tool definition (tools rarely change),
//   2. the last system block (tools + system),
//   3. the last block of the latest user message (the rolling breakpoint: the next request reads it),
//   4. the last block of the user message before it (so this request reads what the previous one wrote).
// The stored history is never touched: marked messages are shallow copies.
import type { ContentBlockParam, MessageParam, TextBlockParam, Tool, UserMessageParam } from '@anthropic-ai/sdk/resources/messages';

export const MAX_CACHE_BREAKPOINTS = 4;
const EPHEMERAL = { type: 'ephemeral' } as const;

export interface CachedPrompt {
  system: TextBlockParam[];
  tools: Tool[];
  messages: MessageParam[];
}

export function applyPromptCaching(system: string, tools: readonly Tool[], messages: readonly MessageParam[]): CachedPrompt {
  const markedTools = tools.map((t, i) => (i === tools.length - 1 ? { ...t, cache_control: EPHEMERAL } : t));
  const systemBlocks: TextBlockParam[] = system ? [{ type: 'text', text: system, cache_control: EPHEMERAL }] : [];
  const budget = MAX_CACHE_BREAKPOINTS - (tools.length > 0 ? 1 : 0) - systemBlocks.length;

  const out = [...messages];
  let used = 0;
  for (let i = out.length - 1; i >= 0 && used < budget; i--) {
    const message = out[i];
    if (message.role !== 'user') continue;
    const marked = markLastBlock(message);
    if (marked) {
      out[i] = marked;
      used++;
    }
  }
  return { system: systemBlocks, tools: markedTools, messages: out };
}

function markLastBlock(message: UserMessageParam): UserMessageParam | undefined {
  const blocks: ContentBlockParam[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : [...message.content];
  const last = blocks.at(-1);
  // Thinking blocks cannot carry cache_control; an empty text would be rejected anyway.
  if (!last || last.type === 'thinking' || last.type === 'redacted_thinking' || (last.type === 'text' && last.text === '')) return undefined;
  blocks[blocks.length - 1] = { ...last, cache_control: EPHEMERAL } as ContentBlockParam;
  return { ...message, content: blocks };
}
