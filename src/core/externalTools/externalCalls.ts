// Calls of our tools by another agent, in two steps as VS Code makes them: prepare (judge, and say what will
// happen) and invoke (run). Both run the very tools our agent uses (core/tools): the same validation, the same
// approval gate, the same texts. What is the caller's own:
// - its tasks: a ScopedTaskManager over the one BackgroundManager, so they show in the same tree, marked as
//   another agent's, and it sees, reads and cancels only those (never the person's or our chats');
// - its approvals: when the policy asks, invoke asks the person itself (`askPerson`, a modal dialog naming the
//   command). DECISION: not VS Code's tool confirmation, because VS Code lets the person approve a tool once for
//   good ("Always Allow", `chat.tools.autoApprove`), per tool and not per command: one click on a harmless
//   command would then let every later command through that the settings say to ask about;
// - its results: nothing is queued for it (no conversation of ours), so a finished task's result waits in
//   check_background and the tree, and no queue grows. What it reads has the API key hidden, as for our agent.
// A Stop of the caller (its cancellation token) ends a wait or an approval, never a task.
import type { Approver, CommandRequest } from '../approval/approvalGate';
import { ApprovalGate } from '../approval/approvalGate';
import type { ApprovalPolicy } from '../approval/approvalPolicy';
import { createRedactor } from '../agent/redactSecrets';
import { ScopedTaskManager } from '../tasks/scopedTasks';
import type { TaskManager } from '../tasks/types';
import { executeTool, type ToolContext, type ToolResult } from '../tools';
import { fail } from '../tools/types';
import { invocationMessage } from './confirmationText';
import { DryRunGate } from './dryRunGate';
import { unavailableInput, type ExternalToolName } from './externalTools';

/** What prepare tells the host before invoke. */
export type Preparation =
  /** It will run (the policy allows it), or be asked about: `asks` says the person will be asked first. */
  | { readonly kind: 'run'; readonly invocationMessage: string; readonly asks: boolean }
  /** invoke will refuse (bad input, a deny rule, Restricted Mode), for this reason. */
  | { readonly kind: 'refuse'; readonly invocationMessage: string; readonly reason: string };

export interface ExternalCallsOptions {
  readonly manager: TaskManager;
  readonly policy: ApprovalPolicy;
  /** The folder commands run in and the file boundary (the first workspace folder, as for our chats). */
  readonly cwd: () => string;
  /** Asks the person about a command the policy asks about; true only on their explicit yes. */
  readonly askPerson: (request: CommandRequest, description: string | undefined, signal: AbortSignal) => Promise<boolean>;
  /** The API keys to hide from what the caller reads (the stored one, the environment's). */
  readonly secrets: () => Promise<ReadonlyArray<string | undefined>>;
}

/** The caller has no conversation of ours; tools that need an id get this one (nothing is ever queued for it). */
const EXTERNAL_CONVERSATION = 'external-agent';

/** Said after background_run's own result: the caller must not wait for a notification that cannot come. */
export const NOT_NOTIFIED_NOTE =
  '\n(Through VS Code\'s tools nothing is delivered to your conversation when the task ends: check_background with its task_id reads its status and output.)';

export const NOT_APPROVED = 'Not run: the person did not approve this command (Background Agent asked them, as its approval settings say).';

export class ExternalToolCalls {
  private readonly tasks: ScopedTaskManager;

  constructor(private readonly options: ExternalCallsOptions) {
    this.tasks = new ScopedTaskManager(options.manager, { kind: 'externalAgent' });
  }

  /** Side-effect free: background_run runs as a dry run up to its approval step, which never lets it through. */
  async prepare(name: ExternalToolName, input: unknown, signal: AbortSignal): Promise<Preparation> {
    const progress = invocationMessage(name, input);
    if (name !== 'background_run') return { kind: 'run', invocationMessage: progress, asks: false };
    const unavailable = unavailableInput(name, input);
    if (unavailable) return { kind: 'refuse', invocationMessage: progress, reason: unavailable };
    const gate = new DryRunGate(this.options.policy);
    const outcome = await executeTool(name, input, this.context(signal, gate));
    const judged = gate.judgement;
    if (judged?.asked) return { kind: 'run', invocationMessage: `${progress} (Background Agent asks you first)`, asks: true };
    if (judged?.allowed) return { kind: 'run', invocationMessage: progress, asks: false };
    return { kind: 'refuse', invocationMessage: progress, reason: await this.redacted(outcome.content) };
  }

  /** Runs the tool for real: the command is judged again, and an "ask" runs only on the person's yes. */
  async invoke(name: ExternalToolName, input: unknown, signal: AbortSignal): Promise<ToolResult> {
    const unavailable = unavailableInput(name, input);
    if (unavailable) return fail(unavailable);
    const description = typeof input === 'object' && input !== null && typeof (input as { description?: unknown }).description === 'string' ? (input as { description: string }).description : undefined;
    const person: Approver = {
      ask: async (request, askSignal) => {
        if (request.kind !== 'command') return { kind: 'deny', message: `${request.tool} is not offered to other agents.` };
        const yes = await this.options.askPerson(request, description, askSignal).catch(() => false);
        return yes ? { kind: 'allow' } : { kind: 'deny', message: NOT_APPROVED };
      },
    };
    const result = await executeTool(name, input, this.context(signal, new ApprovalGate(this.options.policy, person)));
    const content = await this.redacted(result.content);
    return { ...result, content: name === 'background_run' && !result.isError ? `${content}${NOT_NOTIFIED_NOTE}` : content };
  }

  private async redacted(text: string): Promise<string> {
    return createRedactor(await this.options.secrets())(text);
  }

  private context(signal: AbortSignal, approval: ApprovalGate): ToolContext {
    return { cwd: this.options.cwd(), manager: this.tasks, conversationId: EXTERNAL_CONVERSATION, signal, approval, external: true };
  }
}
