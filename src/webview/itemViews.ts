// One DOM element per chat item. Each view can be updated in place from a newer item, so a status change
// touches one element, never the list.
import type { AssistantItem, ChatItem, CompactionItem, ErrorItem, SystemItem, TaskItem, ToolItem, UserItem } from '../shared/protocol';
import type { TaskStatus } from '../core/tasks/types';
import { formatDuration, formatTokens, statusWord, taskDurationMs, WAITING_UNTIL_READY } from '../shared/taskWords';
import { ApprovalView } from './approvalView';
import { el, icon } from './dom';
import { highlightCodeIn } from './codeHighlight';
import { renderMarkdown } from './markdown';
import { StreamingMarkdown } from './streamingMarkdown';

export interface ItemView {
  readonly element: HTMLElement;
  update(item: ChatItem): void;
  /** Stops pending work of the view (a long answer still rendering in slices). */
  dispose?(): void;
}

export function createItemView(item: ChatItem): ItemView {
  switch (item.kind) {
    case 'user':
      return new UserView(item);
    case 'assistant':
      return new AssistantView(item);
    case 'tool':
      return new ToolView(item);
    case 'task':
      return new TaskChipView(item);
    case 'system':
      return new SystemView(item);
    case 'error':
      return new ErrorView(item);
    case 'approval':
      return new ApprovalView(item);
    case 'compaction':
      return new CompactionView(item);
  }
}

export class UserView implements ItemView {
  readonly element = el('div', 'item user');
  private editButton: HTMLButtonElement | undefined;

  constructor(readonly item: UserItem) {
    this.element.setAttribute('role', 'article');
    this.element.setAttribute('aria-label', 'You said');
    this.element.append(el('div', 'bubble', item.text));
  }

  /** Only the person's last message (not yet summarized) has Edit and resend. */
  setEditable(editable: boolean): void {
    if (!editable) {
      this.editButton?.remove();
      this.editButton = undefined;
      return;
    }
    if (this.editButton) return;
    this.editButton = el('button', 'icon-button edit-message');
    this.editButton.type = 'button';
    this.editButton.setAttribute('aria-label', 'Edit and resend');
    this.editButton.title = 'Edit and resend (Up in an empty message box)';
    this.editButton.dataset.itemId = this.item.id;
    this.editButton.append(icon('edit'));
    this.element.prepend(this.editButton);
  }

  update(): void {}
}

export class AssistantView implements ItemView {
  readonly element = el('div', 'item assistant markdown');
  readonly markdown: StreamingMarkdown;
  private streaming: boolean;

  constructor(item: AssistantItem) {
    this.streaming = item.streaming;
    this.element.setAttribute('role', 'article');
    this.element.setAttribute('aria-label', 'Agent answer');
    this.markdown = new StreamingMarkdown(this.element);
    this.element.classList.toggle('streaming', item.streaming);
    if (item.streaming) {
      this.markdown.append(item.text);
      this.markdown.flush();
    } else {
      this.markdown.setAll(item.text);
    }
  }

  dispose(): void {
    this.markdown.dispose();
  }

  get isStreaming(): boolean {
    return this.streaming;
  }

  update(item: ChatItem): void {
    if (item.kind !== 'assistant') return;
    const wasStreaming = this.streaming;
    this.streaming = item.streaming;
    this.element.classList.toggle('streaming', item.streaming);
    if (item.text.length > this.markdown.source.length && item.text.startsWith(this.markdown.source)) {
      this.markdown.append(item.text.slice(this.markdown.source.length));
    }
    // Rendered in chunks while streaming; once finished, the last tail is rendered for good.
    if (wasStreaming || item.text !== this.markdown.source) this.markdown.flush(!item.streaming);
  }
}

const TOOL_STATE_LABEL: Record<ToolItem['state'], string> = { running: 'running', done: 'done', error: 'failed', stopped: 'stopped' };
const TOOL_STATE_ICON: Record<ToolItem['state'], string> = { running: 'loading', done: 'check', error: 'error', stopped: 'circle-slash' };

class ToolView implements ItemView {
  readonly element = el('details', 'item tool');
  private readonly summary = el('summary');
  private readonly body = el('pre', 'tool-result');

  constructor(item: ToolItem) {
    this.element.append(this.summary, this.body);
    this.update(item);
  }

  update(item: ChatItem): void {
    if (item.kind !== 'tool') return;
    this.element.className = `item tool tool-${item.state}`;
    const stateIcon = icon(TOOL_STATE_ICON[item.state], item.state === 'running' ? 'codicon-modifier-spin' : '');
    const name = el('span', 'tool-name', item.name);
    const summary = el('span', 'tool-summary', item.summary);
    summary.title = item.summary;
    const state = el('span', 'tool-state', TOOL_STATE_LABEL[item.state]);
    this.summary.replaceChildren(stateIcon, name, summary, state);
    const accessibleName = `Tool ${item.name}: ${item.summary}, ${TOOL_STATE_LABEL[item.state]}`;
    this.summary.setAttribute('aria-label', accessibleName);
    // The card itself (a group) is named too, so a screen reader's list of groups says which call it is.
    this.element.setAttribute('aria-label', accessibleName);
    this.body.textContent = item.result ?? (item.state === 'running' ? 'Running…' : '(no output)');
  }
}

const TASK_ICON: Record<TaskStatus, string> = {
  running: 'loading',
  completed: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  timed_out: 'watch',
  interrupted: 'debug-disconnect',
};

export function taskStatusText(task: TaskItem, now: number): string {
  const word = statusWord(task.status);
  switch (task.status) {
    case 'running': {
      const extra = [task.waitingUntilReady && WAITING_UNTIL_READY, task.ports].filter(Boolean).join(' · ');
      return `${word} ${formatDuration(taskDurationMs(task, now))}${extra ? ` · ${extra}` : ''}`;
    }
    case 'completed':
      return `${word} (exit ${task.exitCode ?? 0})`;
    case 'failed':
      return task.exitCode === null ? word : `${word} (exit ${task.exitCode})`;
    default:
      return word;
  }
}

/** The chip that follows a background task live; the clock ticks from one shared timer in ChatView. */
export class TaskChipView implements ItemView {
  readonly element = el('div', 'item task');
  private readonly button = el('button', 'task-chip');
  private item: TaskItem;

  constructor(item: TaskItem) {
    this.item = item;
    this.button.type = 'button';
    this.button.dataset.taskId = item.taskId;
    this.element.append(this.button);
    this.render(Date.now());
  }

  get running(): boolean {
    return this.item.status === 'running';
  }

  update(item: ChatItem): void {
    if (item.kind !== 'task') return;
    this.item = item;
    this.render(Date.now());
  }

  tick(now: number): void {
    if (this.running) this.render(now);
  }

  private render(now: number): void {
    const item = this.item;
    const status = taskStatusText(item, now);
    this.button.className = `task-chip task-${item.status}`;
    const label = item.description ? `${item.description}: ${item.command}` : item.command;
    const statusIcon = icon(TASK_ICON[item.status], item.status === 'running' ? 'codicon-modifier-spin' : '');
    // Two parts that wrap as wholes: in a narrow side bar the state goes under the command instead of squeezing it.
    const what = el('span', 'task-label');
    what.append(icon('terminal'), el('span', 'task-command', label));
    const state = el('span', 'task-state');
    state.append(statusIcon, el('span', 'task-status', status));
    this.button.replaceChildren(what, state);
    this.button.title = `${label}\nClick to show it in Background Tasks and open its output.`;
    this.button.setAttribute('aria-label', `Background task ${item.taskId}${item.byUser ? ' (started by you)' : ''}: ${label}, ${status}. Show output`);
  }
}

class SystemView implements ItemView {
  readonly element = el('div', 'item system');
  constructor(item: SystemItem) {
    const iconName = { info: 'info', background: 'bell', delivered: 'inbox', stopped: 'debug-stop' }[item.tone];
    this.element.classList.add(`system-${item.tone}`);
    this.element.append(icon(iconName), el('span', '', item.text));
  }
  update(): void {}
}

const COMPACTION_WHY: Record<CompactionItem['reason'], string> = {
  auto: 'the conversation neared the context limit',
  manual: 'you asked',
  too_long: 'the API refused a request as too long',
};

/** A divider across the conversation where it was compacted; the summary the model now works from folds out under it. */
class CompactionView implements ItemView {
  readonly element = el('details', 'item compaction');

  constructor(item: CompactionItem) {
    const title = item.summarised ? 'Earlier conversation summarized' : 'Earlier conversation dropped (no summary could be made)';
    const summary = el('summary', 'compaction-divider');
    summary.append(icon('fold'), el('span', 'compaction-title', title));
    const detail = `${formatTokens(item.beforeTokens)} → ${formatTokens(item.afterTokens)} tokens, because ${COMPACTION_WHY[item.reason]}`;
    summary.title = `${detail}. Click to show the summary.`;
    summary.setAttribute('aria-label', `${title}: ${detail}. Show the summary`);
    const body = el('div', 'compaction-summary markdown');
    body.innerHTML = renderMarkdown(item.summary);
    highlightCodeIn(body);
    this.element.append(summary, el('div', 'compaction-detail', `${detail}. The model continues from this summary, your requests, the task table and the latest exchanges; everything above stays here for you.`), body);
  }
  update(): void {}
}

const ERROR_TITLE: Record<ErrorItem['errorKind'], string> = {
  auth: 'API key missing or invalid',
  rate_limit: 'Rate limited',
  overloaded: 'The API is overloaded',
  connection: 'Connection lost',
  api: 'API error',
  max_turns: 'Turn limit reached',
};

class ErrorView implements ItemView {
  readonly element = el('div', 'item error');

  constructor(item: ErrorItem) {
    this.element.setAttribute('role', 'alert');
    this.update(item);
  }

  update(item: ChatItem): void {
    if (item.kind !== 'error') return;
    const title = el('div', 'error-title');
    title.append(icon('error'), el('strong', '', ERROR_TITLE[item.errorKind]));
    const message = el('div', 'error-message', item.message);
    const actions = el('div', 'error-actions');
    if (item.canRetry) {
      if (item.errorKind === 'auth') actions.append(actionButton('Set API Key', 'key', 'setApiKey'));
      actions.append(actionButton('Retry', 'refresh', 'retry'));
    }
    this.element.replaceChildren(title, message, actions);
  }
}

function actionButton(label: string, iconName: string, action: string): HTMLButtonElement {
  const button = el('button', 'action-button');
  button.type = 'button';
  button.dataset.action = action;
  button.append(icon(iconName), el('span', '', label));
  return button;
}
