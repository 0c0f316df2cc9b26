// One turn of the agent: drain background results into the conversation, ask the model, run the tools
// it calls, and repeat until it ends its turn with nothing pending, the person stops it, an error
// survives the retries, or the turn's request budget runs out. Never throws.
// A call made only to hand over results (the turn woke for them, or they came in while the model answered)
// first lets a burst finish ending (resultCoalescing.ts) and does not count against the budget: the budget
// stops runaway tool loops, and results must never be what uses it up.
import type { MessageParam, Tool, ToolResultBlockParam, ToolUseBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { ApprovalGate } from '../approval/approvalGate';
import type { TaskManager } from '../tasks/types';
import { formatBackgroundResults } from '../tasks/resultsBlock';
import { applyPromptCaching } from './cache';
import type { ContextKeeper } from './context/contextKeeper';
import { INTERRUPTED_RESULT, type Conversation } from './conversation';
import type { AgentEvent, TokenUsage, TurnTrigger } from './events';
import { usageOf, type ModelCallResult, type ModelClient } from './modelClient';
import { waitForMoreResults, type CoalescingWindow } from './resultCoalescing';

type Result = { content: string; isError: boolean };

/** What the loop needs from the tools layer (src/core/tools/index.ts supplies the real one). */
export interface ToolRunner {
  readonly definitions: readonly Tool[];
  /** A result, or `pending` once the call's start is done and its result comes later (a wait until ready). */
  execute(
    name: string,
    input: unknown,
    ctx: { cwd: string; manager: TaskManager; conversationId: string; signal: AbortSignal; approval: ApprovalGate },
  ): Promise<Result | { pending: Promise<Result> }>;
  /** A shorter input for the history once the call has run (a large written file); undefined keeps it. */
  inputForHistory?(name: string, input: unknown): Record<string, unknown> | undefined;
  /** May this call start while an earlier call of the message still waits? (Default: no, it waits for them.) */
  startsBesideWaits?(name: string, input: unknown): boolean;
}

export type TurnEndReason = 'end_turn' | 'aborted' | 'error' | 'max_turns';

export interface TurnContext {
  conversation: Conversation;
  conversationId: string;
  cwd: string;
  manager: TaskManager;
  approval: ApprovalGate;
  /** Removes secrets (the API key) from text before the model or the person sees it. */
  redact(text: string): string;
  model: string;
  maxTokens: number;
  /** Model calls the turn may make for the person's message and for tool results (delivery calls are free). */
  maxTurns: number;
  /** A background turn starts with a delivery call. */
  trigger: TurnTrigger;
  coalescing: CoalescingWindow;
  /** Aborts when the person sends a message meanwhile: their turn is next and delivers the results. */
  messageWaiting: AbortSignal;
  systemPrompt: string;
  tools: ToolRunner;
  client: ModelClient;
  /** Keeps each request under the context window (clearing, compaction). */
  context: ContextKeeper;
  signal: AbortSignal;
  emit(event: AgentEvent): void;
  /** Adds one request's usage to the session total and returns the new total. */
  addUsage(request: TokenUsage): TokenUsage;
}

export async function runTurn(ctx: TurnContext): Promise<TurnEndReason> {
  /** This call only hands over background results. */
  let deliveryOnly = ctx.trigger === 'background';
  let counted = 0;
  for (let requestIndex = 0; ; requestIndex++) {
    if (ctx.signal.aborted) return 'aborted';
    if (deliveryOnly) {
      await waitForMoreResults(ctx.manager, ctx.conversationId, ctx.coalescing, AbortSignal.any([ctx.signal, ctx.messageWaiting]));
      if (ctx.signal.aborted) return 'aborted';
      // The person's message goes next and takes the results with it; nothing left: nothing to ask.
      if (ctx.messageWaiting.aborted || ctx.manager.notifications.pendingCount(ctx.conversationId) === 0) return 'end_turn';
    } else if (counted++ >= ctx.maxTurns) {
      // Whatever results are queued stay queued: they go out with the next call, whoever makes it.
      ctx.emit({ type: 'error', kind: 'max_turns', message: `Stopped after ${ctx.maxTurns} model requests for this turn's message and tool results (the turn limit; calls that only delivered background results do not count). Send a message to continue.` });
      return 'max_turns';
    }
    deliverNotifications(ctx);
    // Room for this request, made before it is sent: old results cleared, or the conversation compacted.
    const fit = await ctx.context.fit(ctx, 'auto');
    if (!fit.ok) {
      if (fit.aborted) return 'aborted';
      ctx.emit({ type: 'error', kind: fit.kind, message: fit.message });
      return 'error';
    }

    ctx.emit({ type: 'request_start', requestIndex });
    const { result, sent } = await callModel(ctx);
    if (!result.ok) {
      // Keep what the person already saw; the history stays valid (no tool_use was kept).
      ctx.conversation.addPartialAssistantText(result.partialText);
      if (result.aborted) return 'aborted';
      ctx.emit({ type: 'error', kind: result.error.kind, message: ctx.redact(result.error.message) });
      return 'error';
    }

    const { message } = result;
    const request = usageOf(message);
    ctx.emit({ type: 'usage', request, total: ctx.addUsage(request) });
    ctx.context.recordCall(ctx, sent, request);

    const toolUses = ctx.conversation.addAssistant(message.content);
    // Every tool_use must be answered, whatever the stop reason (a max_tokens cut can leave one).
    if (toolUses.length > 0) {
      const aborted = await runTools(ctx, toolUses);
      if (aborted) return 'aborted';
      deliveryOnly = false;
      continue;
    }
    // pause_turn: the API paused a long turn and expects the same conversation to be sent again.
    if (message.stop_reason === 'pause_turn') {
      deliveryOnly = false;
      continue;
    }
    // Continue-on-pending: results that arrived during this request are delivered before stopping.
    if (ctx.manager.notifications.pendingCount(ctx.conversationId) > 0) {
      deliveryOnly = true;
      continue;
    }
    return 'end_turn';
  }
}

/**
 * One model call with the history as it is. A request the API refuses as too long (our estimate was off,
 * or the window is smaller than we were told) is compacted and sent once more: never a dead end.
 */
async function callModel(ctx: TurnContext): Promise<{ result: ModelCallResult; sent: readonly MessageParam[] }> {
  for (let retried = false; ; retried = true) {
    const sent = [...ctx.conversation.history];
    const prompt = applyPromptCaching(ctx.systemPrompt, ctx.tools.definitions, sent);
    const result = await ctx.client.call(
      { model: ctx.model, max_tokens: ctx.context.answerRoom(ctx), system: prompt.system, tools: prompt.tools, messages: prompt.messages },
      ctx.signal,
      {
        onText: (text) => ctx.emit({ type: 'text_delta', text }),
        onRetry: (attempt, delayMs, status) => ctx.emit({ type: 'retry', attempt, status, delayMs }),
      },
    );
    if (result.ok || result.aborted || retried || result.error.status !== 400 || !ctx.context.learnTooLong(ctx, sent, result.error.message)) return { result, sent };
    const fit = await ctx.context.fit(ctx, 'too_long');
    if (!fit.ok) {
      const failed: ModelCallResult = fit.aborted
        ? { ok: false, aborted: true, partialText: '' }
        : { ok: false, aborted: false, error: { kind: fit.kind, message: fit.message, retryable: false }, partialText: '' };
      return { result: failed, sent };
    }
  }
}

function deliverNotifications(ctx: TurnContext): void {
  const notifications = ctx.manager.notifications.drain(ctx.conversationId);
  if (notifications.length === 0) return;
  ctx.conversation.addUserText(ctx.redact(formatBackgroundResults(notifications)));
  ctx.emit({ type: 'notifications_delivered', taskIds: notifications.map((n) => n.taskId) });
}

/**
 * Runs the calls in order. A call may come back pending (its start done, a wait under way): the calls
 * after it that may start beside a wait go ahead, any other first waits for every pending one, so the
 * model's order still holds. Results go back in call order. On Stop, the running tool is abandoned at
 * once, pending waits answer at once (each says what keeps running), the rest are answered as interrupted.
 */
async function runTools(ctx: TurnContext, toolUses: readonly ToolUseBlockParam[]): Promise<boolean> {
  const results: Array<ToolResultBlockParam | Promise<ToolResultBlockParam>> = [];
  const pending: Promise<ToolResultBlockParam>[] = [];
  let aborted = false;
  for (const use of toolUses) {
    if (pending.length > 0 && !ctx.tools.startsBesideWaits?.(use.name, use.input)) await Promise.all(pending.splice(0));
    if (aborted || ctx.signal.aborted) {
      aborted = true;
      results.push({ type: 'tool_result', tool_use_id: use.id, content: INTERRUPTED_RESULT, is_error: true });
      continue;
    }
    ctx.emit({ type: 'tool_start', toolUseId: use.id, name: use.name, input: use.input });
    const outcome = await executeUntilAbort(ctx, use);
    if (outcome === 'aborted') {
      aborted = true;
      results.push(answer(ctx, use, { content: INTERRUPTED_RESULT, isError: true }));
      continue;
    }
    if ('pending' in outcome) {
      const later = settleWithin(ctx.signal, outcome.pending).then((result) => answer(ctx, use, result));
      pending.push(later);
      results.push(later);
      continue;
    }
    results.push(answer(ctx, use, outcome));
  }
  const answered = await Promise.all(results);
  aborted ||= ctx.signal.aborted;
  for (const use of toolUses) {
    const kept = ctx.tools.inputForHistory?.(use.name, use.input);
    if (kept) ctx.conversation.replaceToolInput(use.id, kept);
  }
  ctx.conversation.addToolResults(answered);
  return aborted;
}

/** The tool_result block for a finished call, told to whoever shows the turn. */
function answer(ctx: TurnContext, use: ToolUseBlockParam, outcome: Result): ToolResultBlockParam {
  // The API refuses an empty tool_result text block; say so instead.
  const content = outcome.content === '' ? '(no output)' : ctx.redact(outcome.content);
  ctx.emit({ type: 'tool_end', toolUseId: use.id, name: use.name, result: content, isError: outcome.isError });
  return { type: 'tool_result', tool_use_id: use.id, content, ...(outcome.isError ? { is_error: true } : {}) };
}

/** How long a pending result may take to answer a Stop before it counts as interrupted. */
const PENDING_STOP_GRACE_MS = 1000;

/** A pending result; after Stop, the tool's own answer if it comes within the grace (it should at once). */
function settleWithin(signal: AbortSignal, result: Promise<Result>): Promise<Result> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      timer = setTimeout(() => resolve({ content: INTERRUPTED_RESULT, isError: true }), PENDING_STOP_GRACE_MS);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void result.then(resolve, (err: unknown) => resolve({ content: `The tool failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`, isError: true })).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

function executeUntilAbort(ctx: TurnContext, use: ToolUseBlockParam): Promise<Result | { pending: Promise<Result> } | 'aborted'> {
  return new Promise((resolve) => {
    const onAbort = (): void => resolve('aborted');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(() => ctx.tools.execute(use.name, use.input, { cwd: ctx.cwd, manager: ctx.manager, conversationId: ctx.conversationId, signal: ctx.signal, approval: ctx.approval }))
      .then(
        (result) => resolve(result),
        // The tools layer promises never to throw; if one does, the model hears about it and the loop lives.
        (err: unknown) => resolve({ content: `Tool ${use.name} failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`, isError: true }),
      )
      .finally(() => ctx.signal.removeEventListener('abort', onAbort));
  });
}
