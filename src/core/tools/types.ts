// The contract between the agent loop and the tools. Plain data in, plain text out: a tool never throws.
import type { ApprovalGate } from '../approval/approvalGate';
import type { TaskManager } from '../tasks/types';

export interface ToolContext {
  /** Workspace folder: file tools stay inside it, commands run in it. */
  cwd: string;
  manager: TaskManager;
  /** Tasks the tools start are reported to this conversation when they end. */
  conversationId: string;
  /** Aborted when the person presses Stop: foreground work ends, background tasks keep running. */
  signal: AbortSignal;
  /** Every command and every write passes it first. */
  approval: ApprovalGate;
  /**
   * Another agent through VS Code's tools: nothing is delivered to it when a task ends, and its Stop is its own
   * cancellation, not the person's button. The texts must not promise otherwise.
   */
  external?: boolean;
}


export interface ToolResult {
  content: string;
  isError: boolean;
}

/**
 * A call whose start is done and whose result comes later (background_run waiting until its task is
 * ready). The loop lets the next calls that may run beside a wait start meanwhile (Tool.startsBesideWaits),
 * so several waits run side by side; their results still go back in order.
 */
export interface PendingToolResult {
  readonly pending: Promise<ToolResult>;
}

export type ToolOutcome = ToolResult | PendingToolResult;

export function isPending(outcome: ToolOutcome): outcome is PendingToolResult {
  return 'pending' in outcome;
}

export function ok(content: string): ToolResult {
  return { content, isError: false };
}

export function fail(content: string): ToolResult {
  return { content, isError: true };
}

/** The message of whatever was thrown, for a result sentence. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
