// The contract between the agent engine and its front ends (CLI, chat controller).
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { ApprovalGate } from '../approval/approvalGate';
import type { Disposable, TaskManager } from '../tasks/types';
import type { AgentEvent, TokenUsage } from './events';

export interface AgentSessionOptions {
  conversationId: string;
  /** Workspace folder: file tools stay inside it, commands run in it. */
  cwd: string;
  manager: TaskManager;
  /** Every command and write the agent's tools make passes it (the front end's policy and way of asking). */
  approval: ApprovalGate;
  model: string;
  maxTokens: number;
  /** Undefined: the session reports an `auth` error on send instead of calling the API. */
  apiKey: string | undefined;
  /** Anthropic-compatible endpoint; undefined = the SDK default (which honours ANTHROPIC_BASE_URL). */
  baseURL?: string;
  /** Model requests allowed in one turn before it stops with `max_turns`. */
  maxTurns?: number;
  /** Start a turn by itself when tasks it started finish while it is idle. Default true. */
  autoResume?: boolean;
  /** A history restored from storage. */
  history?: MessageParam[];
  /** Tokens of context the model has; 0 or undefined: the model's known window (contextWindow.ts), else 200,000. */
  contextWindow?: number;
}

export interface AgentSession extends Disposable {
  readonly conversationId: string;
  /** Always valid for the API (every tool_use answered). */
  readonly history: readonly MessageParam[];
  readonly totalUsage: TokenUsage;
  /** True while a turn runs. */
  readonly busy: boolean;
  /** Runs one turn to the end. Errors are reported as `error` events, never thrown. */
  send(text: string): Promise<void>;
  /**
   * Summarises the conversation now (after the running turn, if any): the history becomes the summary, the
   * person's requests, the task table and the latest exchanges. Reported as compaction_* events in a turn.
   */
  compact(): Promise<void>;
  /**
   * Edit and resend, before `send(newText)`: drops the person's latest request `text` and everything after it
   * from the history. False (nothing changes) while a turn runs or when the request was summarized away.
   * Tasks started meanwhile keep running; their results still come.
   */
  rewind(text: string): boolean;
  /** Aborts the running turn (stream and foreground tools); background tasks keep running. */
  stop(): void;
  /** Resolves when the session is idle and no task it started is running (the CLI's `-p` waits on this). */
  whenSettled(signal?: AbortSignal): Promise<void>;
  setAutoResume(enabled: boolean): void;
  onEvent(listener: (event: AgentEvent) => void): Disposable;
}
