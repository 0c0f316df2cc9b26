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
}

/**
 * Not given to the tasks the agent starts: the person's API key must never reach the model, and `env` or
 * a test's debug output would show it.
 */
export const HIDDEN_FROM_AGENT_TASKS: readonly string[] = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'];

export interface ToolResult {
  content: string;
  isError: boolean;
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
