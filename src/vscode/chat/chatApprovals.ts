// The person's side of approval in one chat: each request becomes a card in the transcript (the command and
// the parts that need approval, or the file with its diff) and waits for Allow, Always Allow or Deny. Stop
// (the turn's signal) answers a waiting card with a denial. Waiting never blocks tasks already running.
// No `vscode` import: the cards are chat items, and integration tests answer them like the webview does.
import { nanoid } from 'nanoid';
import { STOPPED_MESSAGE, type ApprovalDecision, type ApprovalRequest, type Approver, type WriteRequest } from '../../core/approval/approvalGate';
import { diffPreview } from '../../core/approval/diffPreview';
import type { ApprovalAnswer, ApprovalCard, ApprovalItem, ApprovalState } from '../../shared/protocol';

export interface ApprovalCardsHost {
  add(item: ApprovalItem): void;
  replace(item: ApprovalItem): void;
  /** The number of waiting cards changed (badge, status bar). */
  changed(): void;
}

interface Waiting {
  item: ApprovalItem;
  request: ApprovalRequest;
  resolve(decision: ApprovalDecision): void;
}

export class ChatApprovals implements Approver {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly host: ApprovalCardsHost) {}

  get pendingCount(): number {
    return this.waiting.size;
  }

  ask(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (signal.aborted) return Promise.resolve({ kind: 'deny', message: STOPPED_MESSAGE });
    const item: ApprovalItem = { kind: 'approval', id: nanoid(10), tool: request.tool, state: 'pending', request: cardOf(request) };
    return new Promise((resolve) => {
      const onAbort = (): void => this.settle(item.id, 'stopped', { kind: 'deny', message: STOPPED_MESSAGE });
      this.waiting.set(item.id, {
        item,
        request,
        resolve: (decision) => {
          signal.removeEventListener('abort', onAbort);
          resolve(decision);
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
      this.host.add(item);
      this.host.changed();
    });
  }

  /** The person's answer to a card; false when the card is not waiting (answered already, or another chat's). */
  answer(id: string, answer: ApprovalAnswer): boolean {
    const waiting = this.waiting.get(id);
    if (!waiting) return false;
    // Always Allow where no rule could help (a redirect, sudo) is not offered; if it comes anyway it counts once.
    const always = answer === 'always' && canAlwaysAllow(waiting.request);
    if (answer === 'deny') this.settle(id, 'denied', { kind: 'deny' });
    else if (always) this.settle(id, 'always', { kind: 'always' });
    else this.settle(id, 'allowed', { kind: 'allow' });
    return true;
  }

  /** The write a waiting card is about, for the diff editor. */
  pendingWrite(id: string): WriteRequest | undefined {
    const request = this.waiting.get(id)?.request;
    return request?.kind === 'write' ? request : undefined;
  }

  /** Every waiting card is denied: the chat is going away. */
  dispose(): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, 'stopped', { kind: 'deny', message: 'Not done: the chat was closed.' });
  }

  private settle(id: string, state: ApprovalState, decision: ApprovalDecision): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    this.host.replace({ ...waiting.item, state });
    this.host.changed();
    waiting.resolve(decision);
  }
}

function canAlwaysAllow(request: ApprovalRequest): boolean {
  return request.kind === 'command' ? request.rules !== undefined : request.canAlwaysAllow;
}

function cardOf(request: ApprovalRequest): ApprovalCard {
  if (request.kind === 'command') {
    return {
      subject: 'command',
      command: request.command,
      cwd: request.cwd,
      parts: request.parts.map((p) => ({ text: p.text, why: p.why })),
      ...(request.rules && { rules: [...request.rules] }),
    };
  }
  const newFile = request.beforeBytes === undefined;
  if (!newFile && request.before === undefined) {
    return {
      subject: 'write',
      path: request.path,
      why: request.why,
      newFile,
      added: 0,
      removed: 0,
      hiddenLines: 0,
      note: `Replaces ${request.beforeBytes} bytes (too large, or not text, to compare) with ${Buffer.byteLength(request.after)} bytes.`,
      canAlwaysAllow: request.canAlwaysAllow,
    };
  }
  const diff = diffPreview(request.before, request.after);
  return { subject: 'write', path: request.path, why: request.why, newFile, diff: diff.text, added: diff.added, removed: diff.removed, hiddenLines: diff.hiddenLines, canAlwaysAllow: request.canAlwaysAllow };
}
