// The session around the loop: one turn at a time, Stop, events to listeners, usage totals, and the
// auto-resume rule (finished background tasks wake an idle agent). The tools and the model client are
// passed in, so tests can swap in a tool that blocks until aborted; session.ts wires the real ones.
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { Emitter, type Disposable } from '../events';
import type { TaskNotification } from '../tasks/types';
import { defuseMarkers, isInjected } from './context/compaction';
import { ContextKeeper } from './context/contextKeeper';
import { resolveContextWindow } from './context/contextWindow';
import { Conversation } from './conversation';
import { addUsage, type AgentEvent, type TokenUsage, type TurnTrigger } from './events';
import { runTurn, type ToolRunner, type TurnContext, type TurnEndReason } from './loop';
import { createRedactor } from './redactSecrets';
import { createModelClient, type ModelClient } from './modelClient';
import { coalescingDelay, DEFAULT_COALESCING, type CoalescingWindow } from './resultCoalescing';
import type { RetryOptions } from './retryPolicy';
import { buildSystemPrompt } from './systemPrompt';
import type { AgentSession, AgentSessionOptions } from './types';

export interface AgentSessionDeps {
  tools: ToolRunner;
  /** Default: the real SDK client for options.apiKey / options.baseURL. */
  client?: ModelClient;
  retry?: Partial<RetryOptions>;
  systemPrompt?: string;
  /** How long a delivery waits for more of the conversation's tasks to end (resultCoalescing.ts). */
  coalescing?: Partial<CoalescingWindow>;
}

export const DEFAULT_MAX_TURNS = 50;

const zeroUsage = (): TokenUsage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 });

export function createAgentSessionWith(options: AgentSessionOptions, deps: AgentSessionDeps): AgentSession {
  const { conversationId, manager } = options;
  const conversation = new Conversation(options.history ?? []);
  const context = new ContextKeeper(resolveContextWindow(options.model, options.contextWindow), options.maxTokens);
  // A listener that throws (a UI gone) must not break the turn: the emitter calls the others and goes on.
  const events = new Emitter<AgentEvent>();
  /** Fires whenever the session may have settled; each whenSettled call listens until it has. */
  const mayHaveSettled = new Emitter<void>();
  const systemPrompt = deps.systemPrompt ?? buildSystemPrompt({ cwd: options.cwd });
  const coalescing: CoalescingWindow = { ...DEFAULT_COALESCING, ...deps.coalescing };
  // The session's key, and whatever key the environment holds (it may differ from the stored one).
  const redact = createRedactor([options.apiKey, process.env.ANTHROPIC_API_KEY, process.env.ANTHROPIC_AUTH_TOKEN]);
  let client = deps.client;
  let total = zeroUsage();
  let busy = false;
  let waitingSends = 0;
  let autoResume = options.autoResume ?? true;
  let disposed = false;
  let turnAbort: AbortController | undefined;
  let resumeTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the first result not yet handed to a turn arrived (the coalescing window counts from it). */
  let burstStart: number | undefined;
  /** Aborted when the person sends a message during a turn: a delivery the turn waits to make can be theirs. */
  let messageWaiting: AbortController | undefined;
  /** The last turn failed or was stopped: queued results wait for a new event or message, not an instant retry. */
  let halted = false;
  let chain: Promise<void> = Promise.resolve();
  /** A compaction asked for and not yet finished: asking again joins it instead of paying for another. */
  let compacting: Promise<void> | undefined;

  const emit = (event: AgentEvent): void => events.fire(event);
  const recheckSettled = (): void => mayHaveSettled.fire();

  function isSettled(): boolean {
    // A disposed session does nothing more: whoever waits on it is released.
    if (disposed) return true;
    if (busy || waitingSends > 0 || resumeTimer) return false;
    if (manager.runningCount(conversationId) > 0) return false;
    // Queued results only keep the session unsettled if something will deliver them.
    return !(autoResume && !halted && !disposed && manager.notifications.pendingCount(conversationId) > 0);
  }

  /** (Re)arms the wake-up for the queued results: at once, or when the burst they belong to has ended. */
  function scheduleResume(): void {
    if (!autoResume || disposed) return;
    clearTimeout(resumeTimer);
    resumeTimer = setTimeout(() => {
      resumeTimer = undefined;
      if (!busy && waitingSends === 0 && !disposed && !halted && autoResume && manager.notifications.pendingCount(conversationId) > 0) {
        void enqueueTurn('background');
      }
      recheckSettled();
    }, coalescingDelay(manager, conversationId, coalescing, burstStart));
  }

  function cancelResume(): void {
    clearTimeout(resumeTimer);
    resumeTimer = undefined;
  }

  const queuedSub: Disposable = manager.notifications.onQueued((n: TaskNotification) => {
    if (n.conversationId !== conversationId) return;
    // A new event is a reason to wake even after a failed or stopped turn.
    halted = false;
    burstStart ??= Date.now();
    if (!busy) scheduleResume();
    recheckSettled();
  });
  const taskSub: Disposable = manager.onEvent((event) => {
    if (event.type !== 'ended' && event.type !== 'removed') return;
    // The last task still running may end without a result of its own (one a tool waited for): wake now.
    if (event.type === 'ended' && resumeTimer && !busy && event.task.origin.conversationId === conversationId) scheduleResume();
    recheckSettled();
  });

  function enqueueTurn(trigger: TurnTrigger, text?: string): Promise<void> {
    waitingSends++;
    const run = chain.then(async () => {
      waitingSends--;
      if (disposed) return;
      await runOneTurn(trigger, text);
    });
    chain = run.catch(() => undefined);
    return run;
  }

  async function runOneTurn(trigger: TurnTrigger, text: string | undefined): Promise<void> {
    // Whatever is queued goes out with this turn's first call: a wake-up still pending is not needed.
    cancelResume();
    burstStart = undefined;
    // A wake-up with nothing left to deliver, or with a message of the person's queued behind it (that turn
    // takes the results along): no turn of its own.
    if (trigger === 'background' && (waitingSends > 0 || manager.notifications.pendingCount(conversationId) === 0)) return recheckSettled();
    busy = true;
    halted = false;
    const abort = new AbortController();
    turnAbort = abort;
    messageWaiting = new AbortController();
    emit({ type: 'turn_start', trigger });
    let reason: TurnEndReason;
    try {
      // The person's words can never pass for a block the agent wrote (results, a summary, the task table).
      if (text !== undefined) conversation.addUserText(defuseMarkers(text));
      if (!options.apiKey) {
        emit({ type: 'error', kind: 'auth', message: 'No Anthropic API key is set. Set one (or ANTHROPIC_API_KEY) and send again; your message is kept.' });
        reason = 'error';
      } else {
        client ??= createModelClient({ apiKey: options.apiKey, baseURL: options.baseURL, retry: deps.retry });
        const turn: TurnContext = {
          conversation,
          conversationId,
          cwd: options.cwd,
          manager,
          approval: options.approval,
          redact,
          model: options.model,
          maxTokens: options.maxTokens,
          maxTurns: options.maxTurns ?? DEFAULT_MAX_TURNS,
          trigger,
          coalescing,
          messageWaiting: messageWaiting.signal,
          systemPrompt,
          tools: deps.tools,
          client,
          context,
          signal: abort.signal,
          emit,
          addUsage: (request) => {
            total = addUsage(total, request);
            return total;
          },
        };
        reason = trigger === 'compact' ? await compactNow(turn) : await runTurn(turn);
      }
    } catch (err) {
      // runTurn promises not to throw; if it does, the person still gets a sentence and a usable session.
      emit({ type: 'error', kind: 'api', message: `The agent failed unexpectedly: ${err instanceof Error ? err.message : String(err)}` });
      reason = 'error';
    }
    conversation.repair();
    turnAbort = undefined;
    messageWaiting = undefined;
    busy = false;
    halted = reason !== 'end_turn';
    // Results left by a stopped or failed turn have waited long enough; a new burst's window starts anew.
    if (halted) burstStart = undefined;
    emit({ type: 'turn_end', reason });
    // Results that arrived after the last check of the turn.
    if (!halted && manager.notifications.pendingCount(conversationId) > 0) scheduleResume();
    recheckSettled();
  }

  return {
    conversationId,
    get history(): readonly MessageParam[] {
      return conversation.history;
    },
    get totalUsage(): TokenUsage {
      return { ...total };
    },
    get busy(): boolean {
      return busy;
    },
    compact(): Promise<void> {
      if (disposed) return Promise.resolve();
      compacting ??= enqueueTurn('compact').finally(() => {
        compacting = undefined;
      });
      return compacting;
    },
    send(text: string): Promise<void> {
      if (disposed) return Promise.resolve();
      messageWaiting?.abort();
      return enqueueTurn('user', text);
    },
    rewind(text: string): boolean {
      if (disposed || busy) return false;
      // As send() stored it: the person's words with our tags defused.
      return conversation.rewindBefore(defuseMarkers(text), isInjected);
    },
    stop(): void {
      turnAbort?.abort();
      // Stop also means "don't start by yourself right now": a pending wake-up is dropped; the results
      // stay queued for the next message or the next task that ends.
      if (resumeTimer) {
        cancelResume();
        halted = true;
        burstStart = undefined;
        recheckSettled();
      }
    },
    whenSettled(signal?: AbortSignal): Promise<void> {
      const aborted = (): Error => (signal?.reason instanceof Error ? signal.reason : new Error('whenSettled aborted'));
      if (signal?.aborted) return Promise.reject(aborted());
      return new Promise((resolve, reject) => {
        const done = (): void => {
          subscription.dispose();
          signal?.removeEventListener('abort', onAbort);
        };
        const onAbort = (): void => {
          done();
          reject(aborted());
        };
        const check = (): void => {
          if (isSettled()) {
            done();
            resolve();
          }
        };
        const subscription = mayHaveSettled.event(check);
        signal?.addEventListener('abort', onAbort, { once: true });
        check();
      });
    },
    setAutoResume(enabled: boolean): void {
      autoResume = enabled;
      if (!enabled) cancelResume();
      burstStart = undefined;
      if (enabled && !busy && !halted && manager.notifications.pendingCount(conversationId) > 0) scheduleResume();
      recheckSettled();
    },
    onEvent: events.event,
    dispose(): void {
      if (disposed) return;
      disposed = true;
      turnAbort?.abort();
      cancelResume();
      queuedSub.dispose();
      taskSub.dispose();
      events.dispose();
      // Anyone waiting for the session to settle is released: it will do nothing more.
      mayHaveSettled.fire();
      mayHaveSettled.dispose();
    },
  };
}

/** The person's Compact Conversation: one compaction as a turn of its own (Stop aborts it, the history stays). */
async function compactNow(turn: TurnContext): Promise<TurnEndReason> {
  const outcome = await turn.context.fit(turn, 'manual');
  if (outcome.ok) return 'end_turn';
  if (outcome.aborted) return 'aborted';
  turn.emit({ type: 'error', kind: outcome.kind, message: outcome.message });
  return 'error';
}

