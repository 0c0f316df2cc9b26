// Keeps every request of a session under its context window. Before each model call the loop asks it to
// make room: first by clearing old tool results (cheap, keeps the cache for everything before the first
// cleared block), then, when that is not enough, by compacting: one model call summarises the conversation
// and the history becomes the summary, the person's requests, the task table and the latest exchanges.
// A request the API still refuses as too long is compacted and sent once more (loop.ts). Owns the gauge:
// the size of the last request the API counted, and how far our estimate was off.
import type { MessageParam, TextBlockParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import type { TaskManager } from '../../tasks/types';
import { applyPromptCaching } from '../cache';
import type { Conversation } from '../conversation';
import type { AgentErrorKind, AgentEvent, CompactionReason, TokenUsage } from '../events';
import { usageOf, type ModelClient } from '../modelClient';
import { buildCompactedHistory, chooseTailStart, personRequests, summaryBlocks, summaryRequestMessages } from './compaction';
import { clearOldResults, cutToFit, type ClearingOutcome } from './contextClearing';
import { estimateMessages, estimateRequest, parseTooLong } from './contextWindow';

/** What the keeper needs from the turn (loop.ts's TurnContext has all of it). */
export interface ContextCallContext {
  conversation: Conversation;
  conversationId: string;
  manager: TaskManager;
  systemPrompt: string;
  tools: { readonly definitions: readonly Tool[] };
  client: ModelClient;
  model: string;
  signal: AbortSignal;
  emit(event: AgentEvent): void;
  addUsage(request: TokenUsage): TokenUsage;
  redact(text: string): string;
}

type FailureKind = Exclude<AgentErrorKind, 'max_turns'>;

export type FitOutcome = { ok: true } | { ok: false; aborted: true } | { ok: false; aborted: false; kind: FailureKind; message: string };

/** Clearing starts when a request would pass the limit, and clears down to this share of it (rarely, so the cache holds). */
const CLEAR_DOWN_TO = 0.6;
/** When clearing cannot get the request under this share of the limit, the conversation is compacted instead. */
const COMPACT_ABOVE = 0.85;
/** The latest exchanges an automatic compaction keeps verbatim, and the person's requests any keeps, as shares of the limit. */
const KEEP_TAIL_SHARE = 0.25;
const KEEP_REQUESTS_SHARE = 0.2;
const KEEP_TABLE_SHARE = 0.1;
/** The user messages at the end that clearing never touches (what the model saw last, and what it has not seen). */
const PROTECTED_USER_MESSAGES = 3;
/** The least max_tokens a call is sent with, however full the window. */
const MIN_ANSWER_TOKENS = 256;
/** Attempts at a summary call that fits (each after shrinking what it summarises). */
const SUMMARY_ATTEMPTS = 3;

export class ContextKeeper {
  private window: number;
  /** How many real tokens one estimated token was, last time the API counted (estimates err high: usually < 1). */
  private scale = 1;
  /** The last request the API accepted: its size, how many messages it had, the last of them, the history's revision. */
  private lastSent: { tokens: number; length: number; last: MessageParam | undefined; revision: number } | undefined;

  constructor(
    window: number,
    private readonly maxTokens: number,
  ) {
    this.window = window;
  }

  get windowTokens(): number {
    return this.window;
  }

  /** Tokens a request may have: the window minus room for the answer and a margin for the estimate's error. */
  get limit(): number {
    return Math.max(Math.floor(this.window / 2), this.window - this.maxTokens - this.margin);
  }

  /** Kept free of the window besides the answer: what the estimate may be off by. */
  private get margin(): number {
    return Math.max(1000, Math.floor(this.window * 0.05));
  }

  /**
   * max_tokens for the next call: the setting, or less when the request leaves less of the window (the API
   * refuses a request whose input and max_tokens together pass it; with a small window the answer gets the rest).
   */
  answerRoom(ctx: ContextCallContext): number {
    return Math.max(MIN_ANSWER_TOKENS, Math.min(this.maxTokens, this.window - this.estimate(ctx) - this.margin));
  }

  /** The request the history would make now: what the API counted last time plus an estimate of what was added. */
  estimate(ctx: ContextCallContext): number {
    const history = ctx.conversation.history;
    const sent = this.lastSent;
    // Valid while the history only grew at the end (its last sent message still the same object).
    if (sent && sent.revision === ctx.conversation.revision && sent.length <= history.length && history[sent.length - 1] === sent.last) {
      return sent.tokens + Math.ceil(estimateMessages(history.slice(sent.length)) * this.scale);
    }
    return this.sizeOf(ctx, history);
  }

  /** A whole request with these messages, in the API's tokens as far as the last calibration tells. */
  private sizeOf(ctx: ContextCallContext, messages: readonly MessageParam[]): number {
    return Math.ceil(estimateRequest(ctx.systemPrompt, ctx.tools.definitions, messages) * this.scale);
  }

  /** After a call the API answered: `sent` is the history it was given. */
  recordCall(ctx: ContextCallContext, sent: readonly MessageParam[], usage: TokenUsage): void {
    const tokens = usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens;
    const estimated = estimateRequest(ctx.systemPrompt, ctx.tools.definitions, sent);
    if (tokens > 0 && estimated > 0) this.scale = clamp(tokens / estimated, 0.2, 3);
    this.lastSent = { tokens, length: sent.length, last: sent.at(-1), revision: ctx.conversation.revision };
    ctx.emit({ type: 'context', usedTokens: tokens + usage.outputTokens, windowTokens: this.window, estimated: false });
  }

  /** The API refused `sent` as too long: learn its count (and its window, if smaller than ours). */
  learnTooLong(ctx: ContextCallContext, sent: readonly MessageParam[], message: string): boolean {
    const told = parseTooLong(message);
    if (!told) return false;
    if (told.window > 0 && told.window < this.window) this.window = told.window;
    const estimated = estimateRequest(ctx.systemPrompt, ctx.tools.definitions, sent);
    if (estimated > 0) this.scale = clamp(Math.max(this.scale, told.tokens / estimated), 0.2, 3);
    this.lastSent = undefined;
    return true;
  }

  /**
   * Makes the next request fit: nothing, clearing, or a compaction (always one for `manual` and `too_long`);
   * and, when even that leaves it too large (a paste bigger than the window), cutToFit as the last resort.
   */
  async fit(ctx: ContextCallContext, reason: CompactionReason): Promise<FitOutcome> {
    if (reason === 'auto') {
      const before = this.estimate(ctx);
      if (before <= this.limit) return { ok: true };
      const history = ctx.conversation.history;
      // Estimates are raw (before scaling), the gauge is in the API's tokens.
      const cleared = clearOldResults(history, protectedStart(history), (before - Math.floor(this.limit * CLEAR_DOWN_TO)) / this.scale);
      this.replace(ctx, cleared);
      const after = this.estimate(ctx);
      if (after <= this.limit * COMPACT_ABOVE) {
        ctx.emit({ type: 'context', usedTokens: after, windowTokens: this.window, estimated: true });
        return { ok: true };
      }
    }
    const compacted = await this.compact(ctx, reason);
    if (!compacted.ok) return compacted;
    const over = this.estimate(ctx) - this.limit;
    if (over > 0) {
      const history = ctx.conversation.history;
      const unseenCleared = clearOldResults(history, history.length, over / this.scale);
      this.replace(ctx, unseenCleared);
      const still = this.estimate(ctx) - this.limit;
      if (still > 0) this.replace(ctx, cutToFit(ctx.conversation.history, still / this.scale));
      ctx.emit({ type: 'context', usedTokens: this.estimate(ctx), windowTokens: this.window, estimated: true });
    }
    return { ok: true };
  }

  private replace(ctx: ContextCallContext, outcome: ClearingOutcome): void {
    if (outcome.cleared === 0) return;
    ctx.conversation.replaceAll(outcome.messages);
    ctx.emit({ type: 'context_cleared', cleared: outcome.cleared, freedTokens: Math.round(outcome.freedTokens * this.scale) });
  }

  private async compact(ctx: ContextCallContext, reason: CompactionReason): Promise<FitOutcome> {
    const history = [...ctx.conversation.history];
    const beforeTokens = this.estimate(ctx);
    // Asked for by the person: as short as it gets (the last exchange). Near the window: recent work stays whole.
    const tailStart = chooseTailStart(history, reason === 'auto' ? Math.floor(this.limit * KEEP_TAIL_SHARE) : 0);
    ctx.emit({ type: 'compaction_start', reason });
    if (tailStart < 0) {
      ctx.emit({ type: 'compaction_end', reason, outcome: 'skipped', beforeTokens, afterTokens: beforeTokens, message: 'Nothing to compact yet: the model has not answered in this conversation.' });
      return { ok: true };
    }
    const made = await this.summarise(ctx, history);
    if (!made.ok) {
      if (made.aborted) {
        ctx.emit({ type: 'compaction_end', reason, outcome: 'aborted', beforeTokens, afterTokens: beforeTokens });
        return made;
      }
      // No summary to be had (refused as too long however short, or no text came back): near the window the
      // earlier part is dropped without one rather than end the session; asked for by the person, nothing changes.
      if (!made.canDrop || reason === 'manual') {
        const message = `The conversation could not be compacted: ${made.message}.`;
        ctx.emit({ type: 'compaction_end', reason, outcome: 'failed', beforeTokens, afterTokens: beforeTokens, message });
        return { ok: false, aborted: false, kind: made.kind, message };
      }
    }
    const summary = made.ok ? made.summary : `No summary could be made (${made.message}).`;
    let compacted = buildCompactedHistory({
      summary,
      summarised: made.ok,
      requests: personRequests(history),
      tasks: ctx.manager.list().filter((t) => t.origin.conversationId === ctx.conversationId),
      tail: history.slice(tailStart),
      requestBudgetTokens: Math.floor(this.limit * KEEP_REQUESTS_SHARE),
      tableBudgetTokens: Math.floor(this.limit * KEEP_TABLE_SHARE),
    });
    // The kept exchanges can still hold large results the model has seen: clear those too, oldest first.
    const over = this.sizeOf(ctx, compacted) - Math.floor(this.limit * CLEAR_DOWN_TO);
    if (over > 0) compacted = clearOldResults(compacted, compacted.length - 1, over / this.scale).messages;
    ctx.conversation.replaceAll(compacted);
    this.lastSent = undefined;
    const afterTokens = this.estimate(ctx);
    ctx.emit({ type: 'compaction_end', reason, outcome: 'compacted', summary, summarised: made.ok, beforeTokens, afterTokens, ...(!made.ok && { message: made.message }) });
    ctx.emit({ type: 'context', usedTokens: afterTokens, windowTokens: this.window, estimated: true });
    return { ok: true };
  }

  /** One model call for the summary, shrinking what it reads until the API takes it. */
  private async summarise(
    ctx: ContextCallContext,
    history: readonly MessageParam[],
  ): Promise<{ ok: true; summary: string } | { ok: false; aborted: true } | { ok: false; aborted: false; canDrop: boolean; kind: FailureKind; message: string }> {
    const maxTokens = Math.min(this.maxTokens, Math.max(1024, Math.floor(this.window * 0.1)));
    let input: MessageParam[] = [...history];
    let lastMessage = '';
    for (let attempt = 0; attempt < SUMMARY_ATTEMPTS; attempt++) {
      const room = this.window - maxTokens - this.margin;
      input = this.shrink(ctx, input, Math.floor(room * (attempt === 0 ? 1 : 0.7 ** attempt)));
      const prompt = applyPromptCaching(ctx.systemPrompt, ctx.tools.definitions, summaryRequestMessages(input));
      const result = await ctx.client.call(
        { model: ctx.model, max_tokens: maxTokens, system: prompt.system, tools: prompt.tools, messages: prompt.messages },
        ctx.signal,
        { onText: () => undefined, onRetry: (attemptNo, delayMs, status) => ctx.emit({ type: 'retry', attempt: attemptNo, status, delayMs }) },
      );
      if (!result.ok) {
        if (result.aborted) return { ok: false, aborted: true };
        lastMessage = ctx.redact(result.error.message);
        if (result.error.status === 400 && this.learnTooLong(ctx, prompt.messages, result.error.message)) continue;
        return { ok: false, aborted: false, canDrop: false, kind: result.error.kind, message: lastMessage };
      }
      const usage = usageOf(result.message);
      ctx.emit({ type: 'usage', request: usage, total: ctx.addUsage(usage) });
      const summary = result.message.content
        .filter((b) => b.type === 'text')
        .map((b) => b.text)
        .join('\n')
        .trim();
      if (summary === '') return { ok: false, aborted: false, canDrop: true, kind: 'api', message: 'the model answered the summary request without any text' };
      return { ok: true, summary: ctx.redact(summary) };
    }
    return { ok: false, aborted: false, canDrop: true, kind: 'api', message: `the API refused even a shortened summary request as too long (${lastMessage})` };
  }

  /** What the summary call reads, cut to `budget` tokens: old results cleared, then the oldest exchanges left out. */
  private shrink(ctx: ContextCallContext, messages: MessageParam[], budget: number): MessageParam[] {
    const size = (m: readonly MessageParam[]): number => this.sizeOf(ctx, m);
    if (size(messages) <= budget) return messages;
    let out = clearOldResults(messages, messages.length - 1, Infinity).messages;
    if (size(out) <= budget) return out;
    const start = chooseTailStart(out, Math.floor((budget * 0.8) / this.scale));
    if (start > 0) {
      const dropped = out.slice(0, start);
      const left = personRequests(dropped);
      // An earlier compaction's summary is the memory of everything before it: it stays in what is summarised.
      const earlierSummaries = summaryBlocks(dropped).map((text): TextBlockParam => ({ type: 'text', text }));
      const note = `[The ${start} earliest messages of this conversation are left out of this summary request to fit the context window. The person's requests among them were: ${left.length === 0 ? '(none)' : left.map((r) => JSON.stringify(r.slice(0, 2000))).join('; ')}]`;
      out = [{ role: 'user', content: [...earlierSummaries, { type: 'text', text: note }] }, ...out.slice(start)];
    }
    // What is left is the latest exchange alone: clear its results as well.
    if (size(out) > budget) out = clearOldResults(out, out.length, Infinity).messages;
    return out;
  }
}

/** Index of the first of the last PROTECTED_USER_MESSAGES user messages. */
function protectedStart(history: readonly MessageParam[]): number {
  let seen = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i].role === 'user' && ++seen === PROTECTED_USER_MESSAGES) return i;
  }
  return 0;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
