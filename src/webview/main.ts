// Entry of the chat webview bundle: builds the page, routes extension messages to the views and
// forwards clicks (links, copy, task chips, error actions) to the extension. Decides nothing itself.
import type { ContextMeter, ExtensionMessage, UsageTotals } from '../shared/protocol';
import { ChatView } from './chatView';
import { Composer } from './composer';
import { el, icon } from './dom';
import { formatTokens } from '../shared/taskWords';
import { warmUpMarkdown } from './markdown';
import { connectToHost } from './vscodeApi';

const host = connectToHost();

const app = el('div', 'app');
const header = el('header', 'chat-header');
const meters = el('div', 'meters');
const contextMeter = el('div', 'context-meter');
contextMeter.setAttribute('role', 'status');
contextMeter.hidden = true;
const usage = el('div', 'usage');
usage.setAttribute('role', 'status');
usage.setAttribute('aria-label', 'Token usage');
meters.append(contextMeter, usage);
const compact = headerButton('Compact Conversation', 'fold');
const newChat = headerButton('New Chat', 'add');
const history = headerButton('Chat History', 'history');
const headerButtons = el('div', 'header-buttons');
headerButtons.append(compact, history, newChat);
header.append(meters, headerButtons);

// Restricted Mode: the agent can only read; the person can trust the folder from here.
const trustBanner = el('div', 'trust-banner');
trustBanner.setAttribute('role', 'status');
trustBanner.append(
  icon('shield'),
  el('span', 'trust-text', 'Restricted Mode: this folder is not trusted, so the agent can read files but cannot run commands or change files.'),
);
const manageTrust = el('button', 'action-button manage-trust');
manageTrust.type = 'button';
manageTrust.append(icon('workspace-trusted'), el('span', '', 'Manage Workspace Trust'));
trustBanner.append(manageTrust);
trustBanner.hidden = true;

const scroller = el('main', 'conversation');
scroller.setAttribute('aria-label', 'Conversation');
scroller.tabIndex = 0;
const list = el('div', 'items');
// Overflow anchoring pins this element: while it is in view, growing content above keeps it in view.
const anchor = el('div', 'scroll-anchor');
scroller.append(list, anchor);
const status = el('div', 'status-line');
status.setAttribute('role', 'status');
const live = el('div', 'sr-only');
live.setAttribute('aria-live', 'polite');
const composer = new Composer(host);
app.append(header, trustBanner, scroller, status, composer.element, live);
document.body.append(app);

const chat = new ChatView(list, scroller, live);
composer.lastMessage = () => chat.editableMessage();

function setBusy(busy: boolean): void {
  composer.setBusy(busy);
  // A compaction runs as a turn: the button waits for the turn (and its own run) to end.
  compact.disabled = busy;
  // Edit and resend waits for the turn too.
  app.classList.toggle('busy', busy);
}

function headerButton(label: string, iconName: string): HTMLButtonElement {
  const button = el('button', 'icon-button');
  button.type = 'button';
  button.setAttribute('aria-label', label);
  button.title = label;
  button.append(icon(iconName));
  return button;
}

/** "context 41% of 200k": how full the model's context was at the last call (or right after a trim). */
function showContext(meter: ContextMeter | undefined): void {
  contextMeter.hidden = meter === undefined;
  if (!meter) return;
  const percent = Math.min(100, Math.round((meter.usedTokens / Math.max(1, meter.windowTokens)) * 100));
  contextMeter.textContent = `context ${percent}% of ${formatTokens(meter.windowTokens)}`;
  contextMeter.classList.toggle('context-high', percent >= 80);
  const label = `Context ${percent}% full: ${meter.usedTokens} of ${meter.windowTokens} tokens. Near the limit the conversation is summarized; Compact Conversation does it now.`;
  contextMeter.title = label;
  contextMeter.setAttribute('aria-label', label);
}

function showUsage(totals: UsageTotals): void {
  usage.textContent = `${formatTokens(totals.inputTokens)} in · ${formatTokens(totals.outputTokens)} out · ${formatTokens(totals.cacheReadTokens)} cache read`;
  usage.title = `Tokens this chat: ${totals.inputTokens} input, ${totals.outputTokens} output, ${totals.cacheReadTokens} cache read, ${totals.cacheCreationTokens} cache write`;
}

window.addEventListener('message', (event: MessageEvent<ExtensionMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      chat.reset(message.state);
      composer.endEdit();
      composer.resendTaken();
      setBusy(message.state.busy);
      composer.setModels(message.state.models);
      showUsage(message.state.usage);
      showContext(message.state.context);
      status.textContent = '';
      trustBanner.hidden = message.state.trusted;
      chat.focusPendingApproval();
      break;
    case 'trust':
      trustBanner.hidden = message.trusted;
      break;
    case 'append':
      chat.append(message.item);
      break;
    case 'update':
      chat.update(message.item);
      break;
    case 'textDelta':
      chat.textDelta(message.id, message.text);
      break;
    case 'busy':
      setBusy(message.busy);
      break;
    case 'models':
      composer.setModels(message.models);
      break;
    case 'truncate':
      chat.truncate(message.fromId);
      composer.resendTaken();
      break;
    case 'usage':
      showUsage(message.usage);
      break;
    case 'context':
      showContext(message.context);
      break;
    case 'status':
      status.textContent = message.text;
      break;
    case 'focusInput':
      composer.focus();
      break;
  }
});

newChat.addEventListener('click', () => host.post({ type: 'newChat' }));
compact.addEventListener('click', () => host.post({ type: 'compact' }));
manageTrust.addEventListener('click', () => host.post({ type: 'manageTrust' }));
history.addEventListener('click', () => host.post({ type: 'showHistory' }));

// One delegated listener for everything rendered from items: links never navigate by themselves.
list.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const link = target.closest('a');
  if (link) {
    // VS Code's webview host opens every clicked <a href> itself (it ignores preventDefault): stop the click
    // here so the link opens once, through the extension, which also keeps relative links in the workspace.
    event.preventDefault();
    event.stopPropagation();
    const href = link.dataset.href;
    if (href) host.post({ type: 'openLink', href });
    return;
  }
  const edit = target.closest<HTMLElement>('button.edit-message');
  if (edit) {
    const message = chat.editableMessage();
    if (message && message.id === edit.dataset.itemId) composer.edit(message);
    return;
  }
  const insert = target.closest('button.insert-code');
  if (insert) {
    host.post({ type: 'insertCode', text: codeOf(insert) });
    return;
  }
  const open = target.closest('button.open-code');
  if (open) {
    const path = open.closest<HTMLElement>('.code-block')?.dataset.path;
    if (path) host.post({ type: 'openFile', path });
    return;
  }
  const copy = target.closest('button.copy-code');
  if (copy) {
    host.post({ type: 'copy', text: codeOf(copy) });
    copy.classList.add('copied');
    copy.setAttribute('aria-label', 'Copied');
    setTimeout(() => {
      copy.classList.remove('copied');
      copy.setAttribute('aria-label', 'Copy code');
    }, 1500);
    return;
  }
  const chip = target.closest<HTMLElement>('button.task-chip');
  if (chip?.dataset.taskId) {
    host.post({ type: 'revealTask', taskId: chip.dataset.taskId });
    return;
  }
  const approval = target.closest<HTMLButtonElement>('button.approval-button');
  if (approval?.dataset.approvalId && !approval.disabled) {
    const answer = approval.dataset.answer;
    if (answer === 'allow' || answer === 'always' || answer === 'deny') host.post({ type: 'approve', id: approval.dataset.approvalId, answer });
    return;
  }
  const diff = target.closest<HTMLElement>('button.open-diff');
  if (diff?.dataset.approvalId) {
    host.post({ type: 'openDiff', id: diff.dataset.approvalId });
    return;
  }
  const action = target.closest<HTMLElement>('button.action-button')?.dataset.action;
  if (action === 'retry') host.post({ type: 'retry' });
  else if (action === 'setApiKey') host.post({ type: 'setApiKey' });
});

function codeOf(button: Element): string {
  return button.closest('.code-block')?.querySelector('code')?.textContent ?? '';
}

window.addEventListener('unload', () => chat.dispose());
host.post({ type: 'ready' });
composer.focus();
warmUpMarkdown();
