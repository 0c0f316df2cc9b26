// The first, cheap way to make room: old tool results and old background-result blocks are replaced by a
// one-line note that says what was there and how to get it again (read the file again, check_background
// with the task id and offset). The caller says from where on nothing is touched (the newest results, and
// what the model has not seen yet); only the keeper's last resort passes the whole history, and then
// cutToFit, which shortens any text in the middle. Pure: the messages handed in are never mutated.
import type { ContentBlockParam, MessageParam, ToolResultBlockParam, ToolUseBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { RESULTS_BLOCK_OPEN } from '../../tasks/resultsBlock';
import { estimateTokens } from './contextWindow';

/** Every cleared text starts with this, so a result is never cleared twice. */
export const CLEARED_MARK = '[Cleared to save context';
/** Results shorter than this stay: a note would save next to nothing. */
const MIN_CLEARABLE_CHARS = 400;
/** Of a command or path quoted in a note. */
const QUOTED_CHARS = 120;
/** Of an entry's first line kept from a cleared background-results block. */
const HEAD_LINE_CHARS = 240;

export interface ClearingOutcome {
  messages: MessageParam[];
  /** Tool results and result blocks replaced by a note. */
  cleared: number;
  /** Estimated tokens the notes saved. */
  freedTokens: number;
}

/**
 * Clears the oldest clearable content of messages before `protectFrom` until about `needTokens` are freed
 * (Infinity: everything clearable).
 */
export function clearOldResults(history: readonly MessageParam[], protectFrom: number, needTokens: number): ClearingOutcome {
  const messages = [...history];
  const uses = toolUsesById(history);
  let freed = 0;
  let cleared = 0;
  for (let i = 0; i < Math.min(protectFrom, messages.length) && freed < needTokens; i++) {
    const message = messages[i];
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    let changed = false;
    const content = message.content.map((block): ContentBlockParam => {
      if (freed >= needTokens) return block;
      const replacement = clearedBlock(block, uses);
      if (!replacement) return block;
      freed += Math.max(0, estimateTokens(block) - estimateTokens(replacement));
      cleared++;
      changed = true;
      return replacement;
    });
    if (changed) messages[i] = { ...message, content };
  }
  return { messages, cleared, freedTokens: freed };
}

/** The least of a text that cutToFit keeps (its start and its end). */
const MIN_CUT_KEEP_CHARS = 400;

/**
 * The last resort when a request cannot fit otherwise (a pasted log larger than the window): the largest
 * texts anywhere (the person's, a result, the model's) lose their middle, with a note saying how much,
 * until about `needTokens` are freed.
 */
export function cutToFit(history: readonly MessageParam[], needTokens: number): ClearingOutcome {
  const messages = history.map((m) => ({ ...m, content: typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : [...m.content] }));
  const sites: Array<{ m: number; b: number; length: number }> = [];
  messages.forEach((message, m) =>
    message.content.forEach((block, b) => {
      const text = cuttableText(block);
      if (text !== undefined && text.length > 2 * MIN_CUT_KEEP_CHARS) sites.push({ m, b, length: text.length });
    }),
  );
  sites.sort((x, y) => y.length - x.length);
  let freed = 0;
  let cleared = 0;
  for (const site of sites) {
    if (freed >= needTokens) break;
    const block = messages[site.m].content[site.b];
    const text = cuttableText(block) ?? '';
    // Keep enough to free what is still needed from this one text, never less than its two ends.
    const keep = Math.max(MIN_CUT_KEEP_CHARS, text.length - (needTokens - freed) * 3 - 200);
    if (keep >= text.length - 200) continue;
    const half = Math.floor(keep / 2);
    const cut = `${text.slice(0, half)}\n[… ${text.length - 2 * half} characters cut here to fit the context window …]\n${text.slice(-half)}`;
    const replaced = (block.type === 'tool_result' ? { ...block, content: cut } : { ...block, text: cut }) as ContentBlockParam;
    freed += Math.max(0, estimateTokens(block) - estimateTokens(replaced));
    messages[site.m].content[site.b] = replaced;
    cleared++;
  }
  return { messages: messages as MessageParam[], cleared, freedTokens: freed };
}

function cuttableText(block: ContentBlockParam): string | undefined {
  if (block.type === 'text') return block.text;
  if (block.type === 'tool_result') return resultText(block);
  return undefined;
}

function clearedBlock(block: ContentBlockParam, uses: ReadonlyMap<string, ToolUseBlockParam>): ContentBlockParam | undefined {
  if (block.type === 'tool_result') {
    const text = resultText(block);
    if (text.length < MIN_CLEARABLE_CHARS || text.startsWith(CLEARED_MARK)) return undefined;
    return { type: 'tool_result', tool_use_id: block.tool_use_id, content: toolResultNote(uses.get(block.tool_use_id), text), ...(block.is_error ? { is_error: true } : {}) };
  }
  if (block.type === 'text' && block.text.startsWith(RESULTS_BLOCK_OPEN) && block.text.length >= MIN_CLEARABLE_CHARS && !block.text.includes(CLEARED_MARK)) {
    return { type: 'text', text: resultsBlockNote(block.text) };
  }
  return undefined;
}

function resultText(block: ToolResultBlockParam): string {
  if (typeof block.content === 'string') return block.content;
  return (block.content ?? []).map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join('\n');
}

/** What the result was and how to get it again, from the call that made it. */
export function toolResultNote(use: ToolUseBlockParam | undefined, text: string): string {
  const input = (use?.input ?? {}) as Record<string, unknown>;
  const size = `${text.length} characters`;
  const firstLine = quote(text.split('\n', 1)[0]);
  switch (use?.name) {
    case 'read_file': {
      const lines = input.offset !== undefined || input.limit !== undefined ? ` (offset ${String(input.offset ?? 1)}, limit ${String(input.limit ?? 'default')})` : '';
      return `${CLEARED_MARK}: read_file of ${quote(String(input.path))}${lines}, ${size}. Read the file again if you need it; it may have changed since.]`;
    }
    case 'check_background': {
      const id = String(input.task_id ?? '');
      const from = input.offset !== undefined ? ` and offset ${String(input.offset)}` : '';
      return id
        ? `${CLEARED_MARK}: check_background of task ${id}, ${size}, starting "${firstLine}". Call check_background with task_id "${id}"${from} to read it again.]`
        : `${CLEARED_MARK}: the task list check_background gave, ${size}. Call check_background again for the current list.]`;
    }
    default: {
      const what = use?.name === 'bash' || use?.name === 'background_run' ? `${use.name} \`${quote(String(input.command))}\`` : (use?.name ?? 'a tool call');
      const task = /\btask (?:id )?"?([\w-]+)"?/.exec(text)?.[1];
      const again = task ? ` Its output is kept: check_background with task_id "${task}" and offset 0 reads it.` : '';
      return `${CLEARED_MARK}: the result of ${what}, ${size}, starting "${firstLine}".${again}]`;
    }
  }
}

/** A results block keeps each entry's first line (id, how it ended); the output goes. */
function resultsBlockNote(text: string): string {
  const heads = text
    .split('\n')
    .filter((line) => line.startsWith('[bg:'))
    .map((line) => (line.length > HEAD_LINE_CHARS ? `${line.slice(0, HEAD_LINE_CHARS - 1)}…` : line));
  return [
    RESULTS_BLOCK_OPEN,
    `${CLEARED_MARK}: the output these background results showed was cleared. check_background with a task_id and offset 0 reads a task's output.]`,
    ...heads,
    '</background-results>',
  ].join('\n');
}

function quote(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > QUOTED_CHARS ? `${line.slice(0, QUOTED_CHARS - 1)}…` : line;
}

function toolUsesById(history: readonly MessageParam[]): Map<string, ToolUseBlockParam> {
  const uses = new Map<string, ToolUseBlockParam>();
  for (const message of history) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const block of message.content) if (block.type === 'tool_use') uses.set(block.id, block);
  }
  return uses;
}
