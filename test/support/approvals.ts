// Approval for tests: the real ApprovalGate and ApprovalPolicy, with a person who answers from a script.
// Tests that are not about approval run in `auto` mode (everything runs, as before approval existed);
// tests about it queue answers, or wait for a request and answer it like a person clicking a card.
import { ApprovalGate, STOPPED_MESSAGE, type ApprovalDecision, type ApprovalRequest, type Approver } from '../../src/core/approval/approvalGate';
import { ApprovalPolicy, type ApprovalSettings } from '../../src/core/approval/approvalPolicy';

export class ScriptedApprover implements Approver {
  readonly requests: ApprovalRequest[] = [];
  private readonly answers: ApprovalDecision[] = [];
  private readonly waiting = new Set<() => void>();

  /** Answers for the next requests, in order; a request with no answer queued waits for one. */
  answer(...decisions: ApprovalDecision[]): void {
    this.answers.push(...decisions);
    for (const wake of [...this.waiting]) wake();
  }

  async ask(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    this.requests.push(request);
    for (const wake of [...this.waiting]) wake();
    while (this.answers.length === 0) {
      if (signal.aborted) return { kind: 'deny', message: STOPPED_MESSAGE };
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiting.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiting.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    return this.answers.shift() as ApprovalDecision;
  }

  /** Resolves once `count` requests have been asked. */
  async untilAsked(count = 1, deadlineMs = 15_000): Promise<ApprovalRequest> {
    const end = Date.now() + deadlineMs;
    while (this.requests.length < count) {
      if (Date.now() > end) throw new Error(`only ${this.requests.length} approval request(s) within ${deadlineMs} ms, wanted ${count}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.requests[count - 1];
  }
}

export interface TestApproval {
  readonly gate: ApprovalGate;
  readonly policy: ApprovalPolicy;
  readonly approver: ScriptedApprover;
}

export function testApproval(settings: Partial<ApprovalSettings> = {}): TestApproval {
  const policy = new ApprovalPolicy({ mode: 'ask', allowCommands: [], denyCommands: [], trusted: true, ...settings });
  const approver = new ScriptedApprover();
  return { gate: new ApprovalGate(policy, approver), policy, approver };
}

/** Everything runs (mode `auto`, no deny rules): for tests about something else. */
export function autoApproval(): ApprovalGate {
  return testApproval({ mode: 'auto' }).gate;
}
