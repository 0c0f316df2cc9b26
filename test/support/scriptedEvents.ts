// Turns a scripted reply into what the Messages API sends: the SSE event sequence of a streaming
// response, or the JSON message of a plain one. Same shapes as the real API.
import type { CacheUsage } from './scriptedPromptCache';
import { newToolUseId, type ReplyStep, type ScriptedUsage } from './scriptedSteps';
import { countOutputTokens } from './scriptedTokens';

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

type MessageBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface RenderedReply {
  id: string;
  model: string;
  content: MessageBlock[];
  stopReason: string;
  usage: ScriptedUsage;
}

let messageCounter = 0;

/**
 * `input`: the request's usage from the simulated prompt cache; output is then counted from the content.
 * Without it, the fixed 100 in / 20 out that tests without a cache rely on. A step's `usage` wins either way.
 */
export function renderReply(step: ReplyStep, model: string, input?: CacheUsage): RenderedReply {
  messageCounter += 1;
  const content: MessageBlock[] = step.content.map((b) =>
    b.type === 'text' ? { type: 'text', text: b.text } : { type: 'tool_use', id: b.id ?? newToolUseId(), name: b.name, input: b.input },
  );
  const stopReason = step.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const computed: ScriptedUsage = input
    ? { ...input, output_tokens: countOutputTokens(content) }
    : { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const usage: ScriptedUsage = { ...computed, ...(step.usage ?? {}) };
  return { id: `msg_scripted_${messageCounter}`, model, content, stopReason, usage };
}

export function toJsonMessage(r: RenderedReply): Record<string, unknown> {
  return {
    id: r.id,
    type: 'message',
    role: 'assistant',
    model: r.model,
    content: r.content,
    stop_reason: r.stopReason,
    stop_sequence: null,
    usage: r.usage,
  };
}

function chunks(text: string, size: number): string[] {
  if (text === '') return [''];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export function toSseEvents(r: RenderedReply, step: ReplyStep): SseEvent[] {
  const events: SseEvent[] = [];
  events.push({
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        id: r.id,
        type: 'message',
        role: 'assistant',
        model: r.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // As the real API: input and cache figures up front, output counted at the end.
        usage: { ...r.usage, output_tokens: 1 },
      },
    },
  });
  events.push({ event: 'ping', data: { type: 'ping' } });
  r.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      for (const piece of chunks(block.text, step.chunkSize ?? 40)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } } });
      }
    } else {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } },
      });
      for (const piece of chunks(JSON.stringify(block.input ?? {}), step.jsonChunkSize ?? 30)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } } });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({
    event: 'message_delta',
    // As the real API now does: the whole message's usage again (the SDK overwrites its snapshot with it).
    data: { type: 'message_delta', delta: { stop_reason: r.stopReason, stop_sequence: null }, usage: { ...r.usage } },
  });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

export function formatSse(e: SseEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}
