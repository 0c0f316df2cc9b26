// What the agent loop reports while it works. The CLI prints these; the chat controller maps them to
// webview protocol messages. Plain data only.

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/** Two counts added up (a session's total, a chat's total across its sessions). */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheCreationTokens: a.cacheCreationTokens + b.cacheCreationTokens,
  };
}

/** Why a turn started: the person sent a message, finished background tasks woke the agent, or the person asked to compact. */
export type TurnTrigger = 'user' | 'background' | 'compact';

/** Why the conversation is compacted: it neared the window, the person asked, or the API refused a request as too long. */
export type CompactionReason = 'auto' | 'manual' | 'too_long';

export type AgentErrorKind =
  | 'auth' // missing or invalid API key
  | 'rate_limit' // 429 after retries
  | 'overloaded' // 529 after retries
  | 'connection' // dropped stream, refused connection, timeout
  | 'api' // any other API error (400, 500 after retries…)
  | 'max_turns';

export type AgentEvent =
  | { type: 'turn_start'; trigger: TurnTrigger }
  /** One model request is about to be sent (a turn can make several). */
  | { type: 'request_start'; requestIndex: number }
  | { type: 'text_delta'; text: string }
  | { type: 'tool_start'; toolUseId: string; name: string; input: unknown }
  | { type: 'tool_end'; toolUseId: string; name: string; result: string; isError: boolean }
  /** Notifications were drained into the conversation before a model call. */
  | { type: 'notifications_delivered'; taskIds: string[] }
  | { type: 'usage'; request: TokenUsage; total: TokenUsage }
  | { type: 'retry'; attempt: number; status?: number; delayMs: number }
  | { type: 'error'; kind: AgentErrorKind; message: string }
  /** How full the context is: after each model call (the API's count), or estimated after the history was trimmed. */
  | { type: 'context'; usedTokens: number; windowTokens: number; estimated: boolean }
  /** Old tool results and result blocks were replaced by notes saying how to get them again. */
  | { type: 'context_cleared'; cleared: number; freedTokens: number }
  | { type: 'compaction_start'; reason: CompactionReason }
  /**
   * `compacted`: the history is now the summary (or, when none could be made, the note saying so), the kept
   * requests, the task table and the latest exchanges. `skipped`: nothing to compact. `failed`/`aborted`: the
   * history is unchanged.
   */
  | { type: 'compaction_end'; reason: CompactionReason; outcome: 'compacted' | 'skipped' | 'failed' | 'aborted'; summary?: string; summarised?: boolean; beforeTokens: number; afterTokens: number; message?: string }
  /** The turn ended: finished normally, was stopped by the person, or failed. */
  | { type: 'turn_end'; reason: 'end_turn' | 'aborted' | 'error' | 'max_turns' };
