// The request checks the real Messages API makes that our agent loop could break: a history with an
// unanswered tool_use or a misplaced tool_result, roles that do not alternate, empty content, missing
// fields, too many cache breakpoints. Returns the API-style error message, or undefined when valid.
import type { ContentBlockLike, MessagesBody } from './scriptedSteps';

const MAX_CACHE_BREAKPOINTS = 4;

export function validateMessagesRequest(body: MessagesBody | undefined): string | undefined {
  if (!body || typeof body !== 'object') return 'Request body must be a JSON object.';
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    return 'max_tokens: Field required (a positive integer)';
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required';
  if (messages[0]?.role !== 'user') return 'messages: first message must use the "user" role';

  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message.role !== 'user' && message.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (i > 0 && messages[i - 1].role === message.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`;
    }
    const isFinalAssistant = i === messages.length - 1 && message.role === 'assistant';
    const blocks = asBlocks(message.content);
    if (blocks.length === 0 && !isFinalAssistant) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    // The API accepts a blank text block next to real text, but not a message whose text is all blank.
    const texts = blocks.filter((block) => block.type === 'text');
    if (texts.length > 0 && texts.every((block) => typeof block.text === 'string' && block.text !== '' && block.text.trim() === '')) {
      return 'messages: text content blocks must contain non-whitespace text';
    }
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b];
      if (block.type === 'text' && (typeof block.text !== 'string' || block.text === '')) {
        return `messages.${i}.content.${b}: text content blocks must be non-empty`;
      }
      if (message.role === 'assistant' && block.type === 'tool_result') return `messages.${i}.content.${b}: tool_result blocks are only allowed in user messages`;
      if (message.role === 'user' && block.type === 'tool_use') return `messages.${i}.content.${b}: tool_use blocks are only allowed in assistant messages`;
    }
    const toolProblem = checkToolPairing(messages, i);
    if (toolProblem) return toolProblem;
  }
  return checkCacheBreakpoints(body);
}

function asBlocks(content: string | ContentBlockLike[] | undefined): ContentBlockLike[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return Array.isArray(content) ? content : [];
}

/** Checks message i against its neighbours: tool_use answered next, tool_result matching the previous, results first. */
function checkToolPairing(messages: NonNullable<MessagesBody['messages']>, i: number): string | undefined {
  const message = messages[i];
  const blocks = asBlocks(message.content);
  if (message.role === 'assistant') {
    const useIds = blocks.filter((b) => b.type === 'tool_use').map((b) => String(b.id));
    if (useIds.length === 0) return undefined;
    const next = messages[i + 1];
    const answered = new Set(next && next.role === 'user' ? asBlocks(next.content).filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id)) : []);
    const missing = useIds.filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return (
        `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ` +
        'Each `tool_use` block must have a corresponding `tool_result` block in the next message.'
      );
    }
    return undefined;
  }
  // user message
  const prev = i > 0 ? messages[i - 1] : undefined;
  const prevUseIds = new Set(prev ? asBlocks(prev.content).filter((b) => b.type === 'tool_use').map((b) => String(b.id)) : []);
  let seenOther = false;
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b];
    if (block.type !== 'tool_result') {
      seenOther = true;
      continue;
    }
    if (seenOther) {
      return `messages.${i}.content.${b}: \`tool_result\` blocks must come first in the user message content, before any other block`;
    }
    if (!prevUseIds.has(String(block.tool_use_id))) {
      return (
        `messages.${i}.content.${b}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. ` +
        'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.'
      );
    }
  }
  return undefined;
}

function checkCacheBreakpoints(body: MessagesBody): string | undefined {
  const count = countCacheBreakpoints(body);
  if (count > MAX_CACHE_BREAKPOINTS) return `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${count}.`;
  return undefined;
}

/** How many cache_control breakpoints a request carries (tests assert ≤ 4 and where they are). */
export function countCacheBreakpoints(body: MessagesBody): number {
  let count = 0;
  const visit = (blocks: unknown): void => {
    if (!Array.isArray(blocks)) return;
    for (const block of blocks as ContentBlockLike[]) {
      if (block && typeof block === 'object' && block.cache_control) count++;
      if (block && typeof block === 'object' && Array.isArray(block.content)) visit(block.content);
    }
  };
  visit(body.tools);
  visit(body.system);
  for (const message of body.messages ?? []) visit(message.content);
  return count;
}
