// Approval of another agent's commands. The policy judges them exactly as it judges our agent's (modes, allow and
// deny rules, Restricted Mode); what differs is who asks the person when it says "ask". Our cards belong to our
// chats, so the host does: the tool's prepare step (VS Code's prepareInvocation) judges the command and returns
// a confirmation, VS Code shows it (in the caller's chat, or as a modal dialog when there is none) and calls
// invoke only if the person confirmed. DECISION: that confirmation counts as the person's approval for an "ask"
// verdict, including VS Code's own ways of confirming for them (Always Allow for a tool, `chat.tools.autoApprove`):
// the person chose those in VS Code. A deny rule or Restricted Mode is never confirmable: invoke judges again
// and refuses whatever VS Code did.
//
// invoke runs the tool with the real gate, so the command is judged again (the settings may have changed since
// prepare); when that judgement asks, the answer comes from HostConfirmations: yes only if the latest prepare of
// this very command in this very folder asked the person. VS Code tells invoke nothing that ties it to its
// prepare (no call id in the stable API), so the command and folder are the key; one confirmation lets one run.
import { ApprovalGate, type ApprovalDecision, type ApprovalRequest, type Approver, type CommandRequest, type GateResult } from '../approval/approvalGate';
import type { ApprovalPolicy } from '../approval/approvalPolicy';

/** Enough for any burst of calls; past it the oldest entry goes (its invoke then asks to be called again). */
const MAX_REMEMBERED = 100;

export class HostConfirmations implements Approver {
  /** Keys whose latest prepare asked the person; insertion order = age. */
  private readonly asked = new Set<string>();

  /** A prepare judged `command` in `cwd`: the host asks the person (`asked`) or runs it unasked. The latest prepare wins. */
  prepared(command: string, cwd: string, asked: boolean): void {
    const key = keyOf(command, cwd);
    this.asked.delete(key);
    if (!asked) return;
    this.asked.add(key);
    if (this.asked.size > MAX_REMEMBERED) this.asked.delete(this.asked.values().next().value as string);
  }

  /** How many confirmations wait for their invoke (bounded: a declined one is never taken). */
  get size(): number {
    return this.asked.size;
  }

  async ask(request: ApprovalRequest): Promise<ApprovalDecision> {
    if (request.kind !== 'command') return { kind: 'deny', message: `${request.tool} is not offered to other agents.` };
    if (this.asked.delete(keyOf(request.command, request.cwd))) return { kind: 'allow' };
    return {
      kind: 'deny',
      message:
        `Not run: \`${request.command}\` needs the person's approval under Background Agent's settings, and VS Code did not ask ` +
        'them for it (the settings changed after the call was prepared). Call the tool again so that VS Code asks.',
    };
  }
}

function keyOf(command: string, cwd: string): string {
  return JSON.stringify([command, cwd]);
}

/** The message a dry run stops the tool with; nobody reads it. */
const DRY_RUN = 'Not run: this was a dry run up to the approval step.';

/** What a dry run learnt of the command: where it would run, and whether the policy lets it through or asks. */
export interface DryRunJudgement {
  readonly command: string;
  readonly cwd: string;
  /** The policy allows it without asking. */
  readonly allowed: boolean;
  /** The policy asks: what the person would be asked (parts and why). */
  readonly asked: CommandRequest | undefined;
}

/**
 * The approval step of a dry run, for prepare: the tool validates its input and resolves its folder as it
 * would, the gate judges the command as the real one does (a deny rule or Restricted Mode gives the same
 * refusal), and then nothing passes: the tool stops before it starts anything, whatever the verdict.
 */
export class DryRunGate extends ApprovalGate {
  /** Shared with the approver below, which the base class calls when the policy asks. */
  private readonly seen: { request?: CommandRequest; judgement?: DryRunJudgement };

  constructor(policy: ApprovalPolicy) {
    const seen: { request?: CommandRequest; judgement?: DryRunJudgement } = {};
    const recorder: Approver = {
      ask: async (request) => {
        if (request.kind === 'command') seen.request = request;
        return { kind: 'deny', message: DRY_RUN };
      },
    };
    super(policy, recorder);
    this.seen = seen;
  }

  /** Undefined when the tool refused its input before it came to approval. */
  get judgement(): DryRunJudgement | undefined {
    return this.seen.judgement;
  }

  override async command(input: { tool: string; command: string; cwd: string; elsewhere?: boolean }, signal: AbortSignal): Promise<GateResult> {
    const result = await super.command(input, signal);
    this.seen.judgement = { command: input.command, cwd: input.cwd, allowed: result.ok, asked: this.seen.request };
    return result.ok ? { ok: false, message: DRY_RUN } : result;
  }

  override async write(): Promise<GateResult> {
    return { ok: false, message: DRY_RUN };
  }
}
