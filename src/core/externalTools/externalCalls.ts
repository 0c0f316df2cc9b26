// Calls of our tools by another agent, in two steps as VS Code makes them: prepare (judge, and say whether the
// person must confirm) and invoke (run). Both run the very tools our agent uses (core/tools): the same
// validation, the same approval gate, the same texts. What is the caller's own:
// - its tasks: a ScopedTaskManager over the one BackgroundManager, so they show in the same tree, marked as
//   another agent's, and it sees, reads and cancels only those (never the person's or our chats');
// - its approvals: asked by VS Code (hostConfirmations.ts);
// - its results: nothing is queued for it (no conversation of ours), so a finished task's result waits in
//   check_background and the tree, and no queue grows.
// A Stop of the caller (its cancellation token) ends a wait or an approval, never a task.
import { ApprovalGate } from '../approval/approvalGate';
import type { ApprovalPolicy } from '../approval/approvalPolicy';
import { ScopedTaskManager } from '../tasks/scopedTasks';
import type { TaskManager } from '../tasks/types';
import { executeTool, type ToolContext, type ToolResult } from '../tools';
import { fail } from '../tools/types';
import { invocationMessage, runConfirmation } from './confirmationText';
import { unavailableInput, type ExternalToolName } from './externalTools';
import { DryRunGate, HostConfirmations } from './hostConfirmations';

/** What prepare tells the host to do before invoke. */
export type Preparation =
  /** Nothing to confirm on our side (the host may still ask in its own way). */
  | { readonly kind: 'run'; readonly invocationMessage: string }
  /** The policy asks: the host must have the person confirm this (markdown message). */
  | { readonly kind: 'confirm'; readonly invocationMessage: string; readonly title: string; readonly message: string }
  /** invoke will refuse (bad input, a deny rule, Restricted Mode), for this reason. */
  | { readonly kind: 'refuse'; readonly invocationMessage: string; readonly reason: string };

export interface ExternalCallsOptions {
  readonly manager: TaskManager;
  readonly policy: ApprovalPolicy;
  /** The folder commands run in and the file boundary (the first workspace folder, as for our chats). */
  readonly cwd: () => string;
}

/** The caller has no conversation of ours; tools that need an id get this one (nothing is ever queued for it). */
const EXTERNAL_CONVERSATION = 'external-agent';

/** Said after background_run's own result: the caller must not wait for a notification that cannot come. */
export const NOT_NOTIFIED_NOTE =
  '\n(Through VS Code\'s tools nothing is delivered to your conversation when the task ends: check_background with its task_id reads its status and output.)';

export class ExternalToolCalls {
  private readonly tasks: ScopedTaskManager;
  private readonly confirmations = new HostConfirmations();

  constructor(private readonly options: ExternalCallsOptions) {
    this.tasks = new ScopedTaskManager(options.manager, { kind: 'externalAgent' });
  }

  /** Confirmations prepared and not yet taken by an invoke (bounded; for tests). */
  get pendingConfirmations(): number {
    return this.confirmations.size;
  }

  /** Side-effect free: background_run runs as a dry run up to its approval step, which never lets it through. */
  async prepare(name: ExternalToolName, input: unknown, signal: AbortSignal): Promise<Preparation> {
    const progress = invocationMessage(name, input);
    if (name !== 'background_run') return { kind: 'run', invocationMessage: progress };
    const unavailable = unavailableInput(name, input);
    if (unavailable) return { kind: 'refuse', invocationMessage: progress, reason: unavailable };
    const gate = new DryRunGate(this.options.policy);
    const outcome = await executeTool(name, input, this.context(signal, gate));
    const judged = gate.judgement;
    if (judged) this.confirmations.prepared(judged.command, judged.cwd, judged.asked !== undefined);
    if (judged?.asked) return { kind: 'confirm', invocationMessage: progress, ...runConfirmation(judged.asked) };
    if (judged?.allowed) return { kind: 'run', invocationMessage: progress };
    return { kind: 'refuse', invocationMessage: progress, reason: outcome.content };
  }

  /** Runs the tool for real: the command is judged again, and an "ask" passes only with the host's confirmation. */
  async invoke(name: ExternalToolName, input: unknown, signal: AbortSignal): Promise<ToolResult> {
    const unavailable = unavailableInput(name, input);
    if (unavailable) return fail(unavailable);
    const result = await executeTool(name, input, this.context(signal, new ApprovalGate(this.options.policy, this.confirmations)));
    return name === 'background_run' && !result.isError ? { ...result, content: `${result.content}${NOT_NOTIFIED_NOTE}` } : result;
  }

  private context(signal: AbortSignal, approval: ApprovalGate): ToolContext {
    return { cwd: this.options.cwd(), manager: this.tasks, conversationId: EXTERNAL_CONVERSATION, signal, approval };
  }
}
