// The approval step of a dry run, for a call's prepare step (VS Code's prepareInvocation): the tool validates its
// input and resolves its folder as it would, the gate judges the command as the real one does, and nothing passes.
import { ApprovalGate, type Approver, type CommandRequest, type GateResult } from '../approval/approvalGate';
import type { ApprovalPolicy } from '../approval/approvalPolicy';

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
