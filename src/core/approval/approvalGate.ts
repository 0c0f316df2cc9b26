// Where the tools meet the approval policy: every command (`bash`, `background_run`) and every write
// (`write_file`, `edit_file`) calls this gate before it acts. The policy decides; when it says "ask", the
// front end's Approver asks the person (a card in the chat, a prompt on the CLI's terminal, or nobody:
// then it is denied). Whatever the answer, the model gets one clear sentence saying who refused and why.
import type { AskedPart, ApprovalPolicy } from './approvalPolicy';

export type CommandRequest = {
  readonly kind: 'command';
  readonly tool: string;
  readonly command: string;
  /** The folder it would run in. */
  readonly cwd: string;
  /** The parts that need approval (several for a compound command), and why. */
  readonly parts: readonly AskedPart[];
  /** What Always Allow stores (allow rules); undefined: Always Allow cannot make this command pass. */
  readonly rules: readonly string[] | undefined;
};

export type WriteRequest = {
  readonly kind: 'write';
  readonly tool: string;
  /** Relative to the workspace, as shown. */
  readonly path: string;
  readonly absolute: string;
  /** The file's text now; undefined for a new file, or one too large to compare (see `beforeBytes`). */
  readonly before: string | undefined;
  readonly beforeBytes: number | undefined;
  readonly after: string;
  readonly why: string;
  /** Always Allow lets every later write in this workspace through (approval mode `allowEdits`). */
  readonly canAlwaysAllow: boolean;
};

export type ApprovalRequest = CommandRequest | WriteRequest;

export type ApprovalDecision =
  | { readonly kind: 'allow' }
  /** Allow, and do not ask for this again (the request's rules, or every write). */
  | { readonly kind: 'always' }
  /** `message`: the whole sentence for the model when it is not the person who refused (no terminal to ask). */
  | { readonly kind: 'deny'; readonly message?: string };

export interface Approver {
  /** Resolves when the person answers; when `signal` aborts (Stop), resolves with a denial. */
  ask(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision>;
}

/** What the front end does with Always Allow besides the policy remembering it (VS Code stores it in settings). */
export type RememberAlways = (request: ApprovalRequest) => void | Promise<void>;

/** `asked`: the person was asked (and may have taken a while: what they saw may have changed meanwhile). */
export type GateResult = { readonly ok: true; readonly asked: boolean } | { readonly ok: false; readonly message: string };

/** What a write shows the person: the file's text now (undefined: new, or too large or not text) and its size. */
export interface FileBefore {
  readonly text: string | undefined;
  /** Undefined for a new file. */
  readonly bytes: number | undefined;
}

const ALLOWED: GateResult = { ok: true, asked: false };
const ALLOWED_WHEN_ASKED: GateResult = { ok: true, asked: true };
/** Said to the model for anything a Stop cut short, by every approver. */
export const STOPPED_MESSAGE = 'Not done: the person stopped the turn.';
const STOPPED: GateResult = { ok: false, message: STOPPED_MESSAGE };

export const RESTRICTED_MESSAGE =
  'Refused: this folder is in Restricted Mode (the person has not trusted it), so the agent may read files but not run ' +
  'commands or change files. If this is needed, ask the person to trust the folder (Manage Workspace Trust).';

export class ApprovalGate {
  constructor(
    readonly policy: ApprovalPolicy,
    private readonly approver: Approver,
    private readonly remember: RememberAlways = () => undefined,
  ) {}

  /** `elsewhere`: it runs in a folder other than the workspace's own. */
  async command(input: { tool: string; command: string; cwd: string; elsewhere?: boolean }, signal: AbortSignal): Promise<GateResult> {
    const { elsewhere, ...shown } = input;
    const verdict = await this.policy.judgeCommand(input.command, { elsewhere });
    // The first judgement loads the parser: Stop may have come meanwhile.
    if (signal.aborted) return STOPPED;
    switch (verdict.kind) {
      case 'allow':
        return ALLOWED;
      case 'restricted':
        return { ok: false, message: RESTRICTED_MESSAGE };
      case 'deny': {
        const which = verdict.part === input.command ? '' : ` (the part \`${verdict.part}\`)`;
        return {
          ok: false,
          message: `Refused by the deny rule "${verdict.rule}": \`${input.command}\`${which} may not run. Do not try to get around the rule; ask the person if this is really needed.`,
        };
      }
      case 'ask': {
        const request: CommandRequest = { kind: 'command', ...shown, parts: verdict.parts, rules: verdict.rules };
        const decision = await this.ask(request, signal);
        if (decision.kind === 'deny') return { ok: false, message: decision.message ?? deniedCommand(request) };
        if (decision.kind === 'always' && request.rules) this.policy.addAllowRules(request.rules);
        if (decision.kind === 'always') await this.remember(request);
        return signal.aborted ? STOPPED : ALLOWED_WHEN_ASKED;
      }
    }
  }

  /** `readBefore` is called only when the person is asked: an allowed write reads nothing more. */
  async write(input: { tool: string; path: string; absolute: string; after: string; readBefore(): Promise<FileBefore> }, signal: AbortSignal): Promise<GateResult> {
    const verdict = this.policy.judgeWrite(input.path);
    if (verdict.kind === 'allow') return ALLOWED;
    if (verdict.kind === 'restricted') return { ok: false, message: RESTRICTED_MESSAGE };
    const { readBefore, ...shown } = input;
    const before = await readBefore();
    const request: WriteRequest = { kind: 'write', ...shown, before: before.text, beforeBytes: before.bytes, why: verdict.why, canAlwaysAllow: verdict.canAlwaysAllow };
    const decision = await this.ask(request, signal);
    if (decision.kind === 'deny') {
      return { ok: false, message: decision.message ?? `The person denied this change to ${input.path}; the file was not changed. Do not write it another way; ask them what they want instead.` };
    }
    if (decision.kind === 'always' && request.canAlwaysAllow) {
      this.policy.setMode('allowEdits');
      await this.remember(request);
    }
    return signal.aborted ? STOPPED : ALLOWED_WHEN_ASKED;
  }

  private async ask(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (signal.aborted) return { kind: 'deny', message: STOPPED_MESSAGE };
    try {
      return await this.approver.ask(request, signal);
    } catch (error) {
      // An approver that fails must not let anything through.
      return { kind: 'deny', message: `Not done: asking the person for approval failed (${error instanceof Error ? error.message : String(error)}).` };
    }
  }
}

function deniedCommand(request: CommandRequest): string {
  const parts = request.parts.map((p) => `\`${p.text}\``).join(', ');
  const which = request.parts.length === 1 && request.parts[0].text === request.command ? '' : ` (needing approval: ${parts})`;
  return `The person denied running \`${request.command}\`${which}; it did not run. Do not run it another way; ask them what they want instead.`;
}
