// The message history, kept valid for the Messages API at every point where a request can be made:
// roles alternate, no empty content, every assistant tool_use answered by a tool_result at the start of
// the next user message. Injected text (the person's words, background results) is appended after the
// tool results of a trailing user message instead of starting a second user message in a row.
import type { ContentBlock, ContentBlockParam, MessageParam, ToolResultBlockParam, ToolUseBlockParam } from '@anthropic-ai/sdk/resources/messages';

export const INTERRUPTED_RESULT = 'Interrupted by the user';

export class Conversation {
  private readonly messages: MessageParam[];
  private rewrites = 0;

  constructor(initial: readonly MessageParam[] = []) {
    this.messages = [...initial];
    this.repair();
  }

  get history(): readonly MessageParam[] {
    return this.messages;
  }

  get length(): number {
    return this.messages.length;
  }

  /** Counts rewrites of earlier messages (replaceAll): a size measured before one no longer applies. */
  get revision(): number {
    return this.rewrites;
  }

  /** Replaces the whole history (clearing old results, a compaction); the caller hands in a valid one. */
  replaceAll(messages: readonly MessageParam[]): void {
    this.messages.splice(0, this.messages.length, ...messages);
    this.rewrites++;
    this.repair();
  }

  /** Adds text as the person's (or the system's) words: a new user message, or appended to a trailing one. */
  addUserText(text: string): void {
    if (text === '') return;
    this.appendToUser([{ type: 'text', text }]);
  }

  /**
   * Edit and resend: the history as it was before the person's last request, so it can be sent again
   * differently. `text` must be that request (the last text block that `isInjected` does not claim);
   * otherwise nothing changes and the answer is false (it was summarized, or never reached the history).
   * Tool results that shared its message stay (their calls came before it), and so does every injected
   * block after it (background results): they were taken off the queue once and exist nowhere else.
   */
  rewindBefore(text: string, isInjected: (text: string) => boolean): boolean {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i];
      if (message.role !== 'user') continue;
      const blocks = toBlocks(message.content);
      for (let at = blocks.length - 1; at >= 0; at--) {
        const block = blocks[at];
        if (block.type !== 'text' || isInjected(block.text)) continue;
        if (block.text !== text) return false;
        const carried = [...blocks.slice(at + 1), ...this.messages.slice(i + 1).flatMap((later) => (later.role === 'user' ? toBlocks(later.content) : []))].filter(
          (b) => b.type === 'text' && isInjected(b.text),
        );
        const before = blocks.slice(0, at);
        this.replaceAll([...this.messages.slice(0, i), ...(before.length > 0 ? [{ role: 'user' as const, content: before }] : [])]);
        if (carried.length > 0) this.appendToUser(carried);
        return true;
      }
    }
    return false;
  }

  /** Keeps what the model said; drops blocks the API would refuse back (empty or blank text) or that we cannot replay. */
  addAssistant(content: readonly ContentBlock[]): ToolUseBlockParam[] {
    const params: ContentBlockParam[] = [];
    const toolUses: ToolUseBlockParam[] = [];
    for (const block of content) {
      if (block.type === 'text') {
        // Models do send a lone "\n\n" before a tool call; sent back alone, the API refuses it (400
        // "text content blocks must contain non-whitespace text"), so whitespace-only text is dropped.
        if (block.text.trim() !== '') params.push({ type: 'text', text: block.text });
      } else if (block.type === 'tool_use') {
        const use: ToolUseBlockParam = { type: 'tool_use', id: block.id, name: block.name, input: block.input ?? {} };
        params.push(use);
        toolUses.push(use);
      } else if (block.type === 'thinking') {
        params.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
      } else if (block.type === 'redacted_thinking') {
        params.push({ type: 'redacted_thinking', data: block.data });
      }
    }
    if (params.length > 0) this.messages.push({ role: 'assistant', content: params });
    return toolUses;
  }

  /** The text the model streamed before a Stop or a dropped connection, kept so the context is not lost. */
  addPartialAssistantText(text: string): void {
    const trimmed = text.trimEnd();
    if (trimmed === '') return;
    if (this.messages.at(-1)?.role !== 'user') return;
    this.messages.push({ role: 'assistant', content: [{ type: 'text', text: trimmed }] });
  }

  /**
   * Shortens a call's input in the last assistant message once it has run (a whole file the model wrote).
   * Done before the next request, which is the first to carry that message, so prompt caching is unaffected.
   */
  replaceToolInput(toolUseId: string, input: Record<string, unknown>): void {
    const last = this.messages.at(-1);
    if (last?.role !== 'assistant' || typeof last.content === 'string') return;
    last.content = last.content.map((block) => (block.type === 'tool_use' && block.id === toolUseId ? { ...block, input } : block));
  }

  addToolResults(results: readonly ToolResultBlockParam[]): void {
    if (results.length === 0) return;
    this.messages.push({ role: 'user', content: [...results] });
  }

  /**
   * Makes the history acceptable to the API whatever happened: answers every unanswered tool_use of the
   * last assistant message (Stop mid-tool, a crash between the call and its result) as interrupted.
   */
  repair(): void {
    for (let i = 0; i < this.messages.length; i++) {
      const message = this.messages[i];
      if (message.role !== 'assistant' || typeof message.content === 'string') continue;
      const useIds = message.content.filter((b): b is ToolUseBlockParam => b.type === 'tool_use').map((b) => b.id);
      if (useIds.length === 0) continue;
      const next = this.messages[i + 1];
      const answered = new Set(
        next && next.role === 'user' && typeof next.content !== 'string'
          ? next.content.filter((b): b is ToolResultBlockParam => b.type === 'tool_result').map((b) => b.tool_use_id)
          : [],
      );
      const missing: ToolResultBlockParam[] = useIds
        .filter((id) => !answered.has(id))
        .map((id) => ({ type: 'tool_result', tool_use_id: id, content: INTERRUPTED_RESULT, is_error: true }));
      if (missing.length === 0) continue;
      if (next && next.role === 'user') {
        const rest = toBlocks(next.content);
        const results = rest.filter((b) => b.type === 'tool_result');
        const others = rest.filter((b) => b.type !== 'tool_result');
        this.messages[i + 1] = { role: 'user', content: [...results, ...missing, ...others] };
      } else {
        this.messages.splice(i + 1, 0, { role: 'user', content: missing });
      }
    }
  }

  private appendToUser(blocks: ContentBlockParam[]): void {
    const last = this.messages.at(-1);
    if (last && last.role === 'user') {
      // After the tool results, never before them: the API wants tool_result blocks first.
      // A new object: messages handed to us (a restored history) are never mutated.
      this.messages[this.messages.length - 1] = { role: 'user', content: [...toBlocks(last.content), ...blocks] };
    } else {
      this.messages.push({ role: 'user', content: blocks });
    }
  }
}

function toBlocks(content: MessageParam['content']): ContentBlockParam[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return [...content];
}
