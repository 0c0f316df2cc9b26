// The approval card: what the agent wants to run (and which part of a compound command needs approval) or
// which file it wants to change (with the diff), and the person's answer. Buttons are named exactly
// Allow, Always Allow and Deny; Always Allow says what it will store, or why it is not offered.
import type { ApprovalCard, ApprovalItem, ApprovalState, ChatItem } from '../shared/protocol';
import { el, icon, labelledButton } from './dom';

const ANSWERED: Record<Exclude<ApprovalState, 'pending'>, string> = {
  allowed: 'Allowed once.',
  always: 'Always allowed.',
  denied: 'Denied: the agent was told.',
  stopped: 'Not answered (the turn was stopped, or the chat or window closed): the agent was told it was denied.',
};

export class ApprovalView {
  readonly element = el('div', 'item approval');

  constructor(item: ApprovalItem) {
    this.element.setAttribute('role', 'group');
    // Focus moves here when the card appears, so the person hears what is asked and tabs to the buttons.
    this.element.tabIndex = -1;
    this.update(item);
  }

  get pending(): boolean {
    return this.element.classList.contains('approval-pending');
  }

  update(item: ChatItem): void {
    if (item.kind !== 'approval') return;
    const card = item.request;
    this.element.className = `item approval approval-${item.state}`;
    this.element.dataset.approvalId = item.id;
    this.element.setAttribute('aria-label', `${item.state === 'pending' ? 'Approval needed' : 'Approval'}: ${title(item.tool, card)}`);
    const heading = el('div', 'approval-title');
    heading.append(icon(item.state === 'pending' ? 'shield' : item.state === 'denied' || item.state === 'stopped' ? 'circle-slash' : 'check'), el('strong', '', title(item.tool, card)));
    const body = card.subject === 'command' ? commandBody(card) : writeBody(card, item);
    this.element.replaceChildren(heading, ...body, item.state === 'pending' ? this.buttons(item, card) : answered(item.state, card));
  }

  private buttons(item: ApprovalItem, card: ApprovalCard): HTMLElement {
    const footer = el('div', 'approval-footer');
    const actions = el('div', 'approval-actions');
    const button = (label: string, answer: string, primary = false): HTMLButtonElement => {
      const b = labelledButton(label, `${primary ? 'primary-button' : 'secondary-button'} approval-button`);
      b.dataset.approvalId = item.id;
      b.dataset.answer = answer;
      return b;
    };
    const always = button('Always Allow', 'always');
    const note = alwaysNote(card);
    if (!note.offered) {
      always.disabled = true;
      always.title = note.text;
    }
    actions.append(button('Allow', 'allow', true), always, button('Deny', 'deny'));
    footer.append(actions, el('div', 'approval-note', note.text));
    return footer;
  }
}

function title(tool: string, card: ApprovalCard): string {
  if (card.subject === 'write') return card.newFile ? `Create ${card.path}?` : `Change ${card.path}?`;
  return tool === 'background_run' ? 'Start this command in the background?' : 'Run this command?';
}

function commandBody(card: Extract<ApprovalCard, { subject: 'command' }>): HTMLElement[] {
  const command = el('pre', 'approval-command', card.command);
  command.setAttribute('aria-label', `Command: ${card.command}`);
  const where = el('div', 'approval-where', `in ${card.cwd}`);
  const single = card.parts.length === 1 && card.parts[0].text === card.command;
  if (single) return [command, where, el('div', 'approval-why', `Needs approval: ${card.parts[0].why}.`)];
  const list = el('ul', 'approval-parts');
  list.setAttribute('aria-label', 'Parts that need approval');
  for (const part of card.parts) {
    const row = el('li');
    row.append(el('code', '', part.text), document.createTextNode(`: ${part.why}`));
    list.append(row);
  }
  return [command, where, el('div', 'approval-why', card.parts.length === 1 ? 'This part needs approval:' : 'These parts need approval:'), list];
}

function writeBody(card: Extract<ApprovalCard, { subject: 'write' }>, item: ApprovalItem): HTMLElement[] {
  const summary = el('div', 'approval-why', `${card.newFile ? 'New file' : `+${card.added} −${card.removed} lines`}. Needs approval: ${card.why}.`);
  const parts: HTMLElement[] = [summary];
  if (card.note) parts.push(el('div', 'approval-where', card.note));
  if (card.diff !== undefined) {
    const diff = el('pre', 'approval-diff');
    diff.setAttribute('aria-label', `Change to ${card.path}`);
    for (const line of card.diff.split('\n')) {
      const kind = line.startsWith('+') ? 'added' : line.startsWith('-') ? 'removed' : line.startsWith('@@') ? 'hunk' : 'context';
      diff.append(el('span', `diff-${kind}`, `${line}\n`));
    }
    parts.push(diff);
    if (card.hiddenLines > 0) parts.push(el('div', 'approval-where', `… ${card.hiddenLines} more lines: Open Diff shows all of it.`));
  }
  if (item.state === 'pending') {
    const open = labelledButton('Open Diff', 'action-button open-diff', 'diff');
    open.dataset.approvalId = item.id;
    parts.push(open);
  }
  return parts;
}

function alwaysNote(card: ApprovalCard): { offered: boolean; text: string } {
  if (card.subject === 'write') {
    return card.canAlwaysAllow
      ? { offered: true, text: 'Always Allow lets the agent change files in this workspace without asking (approval mode allowEdits).' }
      : { offered: false, text: 'Always Allow is not offered for this file: it always asks (see the reason above).' };
  }
  if (!card.rules) return { offered: false, text: 'Always Allow is not offered: no allow rule can cover this (it writes a file, runs as another user, or cannot be read fully).' };
  return { offered: true, text: `Always Allow adds ${card.rules.map((r) => `“${r}”`).join(', ')} to this workspace's allowed commands.` };
}

function answered(state: Exclude<ApprovalState, 'pending'>, card: ApprovalCard): HTMLElement {
  let text = ANSWERED[state];
  if (state === 'always' && card.subject === 'command' && card.rules) text = `Always allowed: ${card.rules.map((r) => `“${r}”`).join(', ')} added to this workspace's allowed commands.`;
  if (state === 'always' && card.subject === 'write') text = 'Always allowed: the agent changes files in this workspace without asking from now on.';
  const line = el('div', 'approval-answer', text);
  line.setAttribute('role', 'status');
  return line;
}
