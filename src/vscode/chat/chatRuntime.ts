// One chat while it is loaded: its stored record, its agent session, and the mapping from agent and task
// events to chat items. Items change here first and are then posted, so a webview that (re)connects gets
// exactly what a connected one saw. No `vscode` import: integration tests drive it against the scripted server.
import { nanoid } from 'nanoid';
import { INTERRUPTED_RESULT } from '../../core/agent/conversation';
import { addUsage, type AgentEvent } from '../../core/agent/events';
import type { AgentSession, AgentSessionOptions } from '../../core/agent/types';
import { ApprovalGate, type ApprovalRequest } from '../../core/approval/approvalGate';
import type { ApprovalPolicy } from '../../core/approval/approvalPolicy';
import type { Disposable, TaskEvent, TaskManager, TaskSnapshot } from '../../core/tasks/types';
import type { AssistantItem, ChatItem, ErrorItem, ExtensionMessage, TaskItem } from '../../shared/protocol';
import { formatDuration, portsShort } from '../../shared/taskWords';
import { ChatApprovals } from './chatApprovals';
import type { StoredChat } from './chatStore';
import { cutForCard, summarizeToolInput } from './toolSummary';

export interface RuntimeHost {
  readonly manager: TaskManager;
  /** Posts to the webview if this chat is the one shown. */
  post(chatId: string, message: ExtensionMessage): void;
  save(chat: StoredChat): void;
  createSession(options: AgentSessionOptions): AgentSession;
  /** Shared by every chat of the window: the settings' rules and mode, and workspace trust. */
  readonly approvalPolicy: ApprovalPolicy;
  /** Always Allow: stored in the workspace's settings. */
  rememberAlways(request: ApprovalRequest): Promise<void>;
  /** A chat's number of waiting approval cards changed. */
  approvalsChanged(): void;
}

/** Everything a session is built from; a change (new key, other model) means a new session on the next send. */
export interface SessionConfig {
  apiKey: string | undefined;
  model: string;
  maxTokens: number;
  baseURL: string | undefined;
  autoResume: boolean;
  cwd: string;
  /** Tokens; 0: the model's known window. */
  contextWindow: number;
}

/** Deltas are coalesced for this long before one postMessage (the webview batches again per frame). */
const DELTA_FLUSH_MS = 16;
const TITLE_LENGTH = 60;

export class ChatRuntime implements Disposable {
  private session: AgentSession | undefined;
  private sessionEvents: Disposable | undefined;
  private fingerprint = '';
  private assistant: AssistantItem | undefined;
  private pendingDelta = '';
  private deltaTimer: ReturnType<typeof setTimeout> | undefined;
  private retryStatusShown = false;
  /** The person's Compact failed in this turn: its error offers no Retry. */
  private compactionFailed = false;
  /** Deleted (or its window closing): nothing may start a session or save the chat again. */
  private disposed = false;
  /** The approval cards of this chat; the person answers them through the controller. */
  readonly approvals: ChatApprovals;

  constructor(
    readonly chat: StoredChat,
    private readonly host: RuntimeHost,
  ) {
    // A chat saved while a turn ran (the window closed mid-answer): nothing of it is still running or waiting.
    chat.items = chat.items.map((item) => {
      if (item.kind === 'assistant' && item.streaming) return { ...item, streaming: false };
      if (item.kind === 'tool' && item.state === 'running') return { ...item, state: 'stopped' };
      if (item.kind === 'approval' && item.state === 'pending') return { ...item, state: 'stopped' };
      return item;
    });
    this.approvals = new ChatApprovals({ add: (item) => this.add(item), replace: (item) => this.replace(item), changed: () => host.approvalsChanged() });
  }

  get busy(): boolean {
    return this.session?.busy ?? false;
  }

  /** Live sessions keep waking on their tasks even when another chat is shown. */
  get hasSession(): boolean {
    return this.session !== undefined;
  }

  send(text: string, config: SessionConfig): void {
    if (this.busy || this.disposed) return;
    if (!this.chat.title) this.chat.title = text.split('\n')[0].slice(0, TITLE_LENGTH);
    this.add({ kind: 'user', id: nanoid(10), text });
    void this.ensureSession(config).send(text);
  }

  /**
   * Edit and resend: the person's last message `itemId` is replaced by `text`, with everything after it, in the
   * items and in the history, and the turn runs again. Refused while a turn runs, and said when the message
   * was summarized away (it is no longer in the history to replace).
   */
  resend(itemId: string, text: string, config: SessionConfig): void {
    if (this.busy || this.disposed) return;
    const index = this.chat.items.findIndex((item) => item.id === itemId);
    const item = this.chat.items[index];
    const later = this.chat.items.slice(index + 1);
    if (item?.kind !== 'user' || later.some((i) => i.kind === 'user')) return;
    // Not once a compaction summarized it (the webview hides the button; it is not trusted to), nor when the
    // history no longer ends with it word for word.
    if (later.some((i) => i.kind === 'compaction') || !this.ensureSession(config).rewind(item.text)) {
      this.add({ kind: 'system', id: nanoid(10), tone: 'info', text: 'That message was summarized with the earlier conversation, so it cannot be edited any more. Send the new text as a new message.' });
      return;
    }
    this.chat.items.splice(index);
    this.chat.history = [...(this.session?.history ?? [])];
    this.post({ type: 'truncate', fromId: itemId });
    this.send(text, config);
  }

  /** The model picker: this chat's model from the next request on (a running turn keeps its model). */
  setModel(model: string): void {
    this.chat.model = model;
    this.touch();
  }

  /** Summarises the conversation: the history shrinks, the items stay (a divider marks where). */
  compact(config: SessionConfig): void {
    if (this.disposed) return;
    void this.ensureSession(config).compact();
  }

  /** The failed message is still the last one in the history, so an empty send re-runs the turn. */
  retry(config: SessionConfig): void {
    if (this.busy || this.disposed) return;
    this.disableRetries();
    void this.ensureSession(config).send('');
  }

  stop(): void {
    this.session?.stop();
  }

  setAutoResume(enabled: boolean): void {
    this.session?.setAutoResume(enabled);
  }

  /** Task chips follow their task; a task of this chat that runs in the background gets a chip the first time it is seen. */
  onTaskEvent(event: TaskEvent): void {
    if (event.type === 'removed') return;
    const task = event.task;
    if (task.origin.conversationId !== this.chat.id) return;
    const existing = this.findTaskItem(task.id);
    // A bash call's task shows in its tool card; a background_run waiting until ready is a task already
    // (and its chip follows it to the end, also when it ends before the wait is over).
    if (!existing && task.foreground && !task.waitingUntilReady) return;
    if (existing) {
      const next = taskItemOf(task, existing.id);
      const changed = (['status', 'exitCode', 'endedAt', 'waitingUntilReady', 'ports'] as const).some((key) => existing[key] !== next[key]);
      if (changed) this.replace(next);
    } else {
      this.add(taskItemOf(task, nanoid(10)));
    }
  }

  /** Before a replay: chips of tasks that changed while no event reached this chat (another window, a reload). */
  refreshTasks(): void {
    for (const item of this.chat.items) {
      if (item.kind !== 'task') continue;
      const task = this.host.manager.get(item.taskId);
      if (task) Object.assign(item, taskItemOf(task, item.id));
      else if (item.status === 'running') Object.assign(item, { status: 'interrupted' as const });
    }
  }

  /** Streaming text not yet posted is already in the items: a replay must not send it twice. */
  dropPendingDelta(): void {
    if (this.deltaTimer) clearTimeout(this.deltaTimer);
    this.deltaTimer = undefined;
    this.pendingDelta = '';
  }

  dispose(): void {
    this.disposed = true;
    this.approvals.dispose();
    this.dropPendingDelta();
    this.sessionEvents?.dispose();
    this.session?.dispose();
    this.session = undefined;
  }

  private ensureSession(settingsConfig: SessionConfig): AgentSession {
    // The chat's own model (its picker) wins over the setting.
    const config = { ...settingsConfig, model: this.chat.model ?? settingsConfig.model };
    const fingerprint = JSON.stringify([config.apiKey, config.model, config.maxTokens, config.baseURL, config.cwd, config.contextWindow]);
    if (this.session && (fingerprint === this.fingerprint || this.session.busy)) {
      this.session.setAutoResume(config.autoResume);
      return this.session;
    }
    const history = this.session ? [...this.session.history] : this.chat.history;
    this.sessionEvents?.dispose();
    this.session?.dispose();
    const session = this.host.createSession({
      conversationId: this.chat.id,
      cwd: config.cwd,
      manager: this.host.manager,
      approval: new ApprovalGate(this.host.approvalPolicy, this.approvals, (request) => this.host.rememberAlways(request)),
      model: config.model,
      maxTokens: config.maxTokens,
      apiKey: config.apiKey,
      baseURL: config.baseURL,
      autoResume: config.autoResume,
      history,
      contextWindow: config.contextWindow,
    });
    this.session = session;
    this.fingerprint = fingerprint;
    this.sessionEvents = session.onEvent((event) => this.onAgentEvent(event));
    return session;
  }

  /** A chat reopened with tasks still running needs a session to be woken by their results. */
  attachSession(config: SessionConfig): void {
    if (!this.disposed) this.ensureSession(config);
  }

  private onAgentEvent(event: AgentEvent): void {
    switch (event.type) {
      case 'turn_start':
        this.compactionFailed = false;
        this.disableRetries();
        this.post({ type: 'busy', busy: true });
        if (event.trigger === 'background') {
          this.add({ kind: 'system', id: nanoid(10), tone: 'background', text: 'Turn started by finished background tasks, not by you' });
        }
        break;
      case 'request_start':
        this.finishAssistant();
        break;
      case 'text_delta':
        this.appendText(event.text);
        break;
      case 'tool_start':
        this.finishAssistant();
        this.add({ kind: 'tool', id: event.toolUseId, name: event.name, summary: summarizeToolInput(event.name, event.input), state: 'running' });
        break;
      case 'tool_end': {
        const item = this.chat.items.find((i) => i.id === event.toolUseId);
        // A call cut short by Stop is shown as stopped, not as a failure of the tool.
        const state = event.isError ? (event.result === INTERRUPTED_RESULT ? 'stopped' : 'error') : 'done';
        if (item?.kind === 'tool') this.replace({ ...item, state, result: cutForCard(event.result) });
        break;
      }
      case 'notifications_delivered': {
        const n = event.taskIds.length;
        this.add({ kind: 'system', id: nanoid(10), tone: 'delivered', text: `${n} background result${n === 1 ? '' : 's'} delivered` });
        break;
      }
      case 'usage':
        // Added per request: a new session (another model, a reload) starts its own total at zero.
        this.chat.usage = addUsage(this.chat.usage, event.request);
        this.post({ type: 'usage', usage: this.chat.usage });
        break;
      case 'context':
        this.chat.context = { usedTokens: event.usedTokens, windowTokens: event.windowTokens };
        this.post({ type: 'context', context: this.chat.context });
        break;
      case 'compaction_start':
        this.finishAssistant();
        this.retryStatusShown = true;
        this.post({ type: 'status', text: event.reason === 'manual' ? 'Summarizing the conversation…' : 'The conversation is near the context limit: summarizing it…' });
        break;
      case 'compaction_end':
        this.post({ type: 'status', text: '' });
        this.retryStatusShown = false;
        // Retry re-sends the last message; after a failed Compact the person clicks Compact again instead.
        this.compactionFailed = event.outcome === 'failed' && event.reason === 'manual';
        if (event.outcome === 'compacted') {
          const { reason, summarised = true, beforeTokens, afterTokens } = event;
          this.add({ kind: 'compaction', id: nanoid(10), reason, summary: event.summary ?? '', summarised, beforeTokens, afterTokens });
          // Saved at once: a reload from here on must not bring back the long history.
          this.chat.history = [...(this.session?.history ?? this.chat.history)];
          this.touch();
        } else if (event.outcome === 'skipped' && event.reason === 'manual' && event.message) {
          // Only the person's own Compact needs an answer; near the window the keeper goes on by other means.
          this.add({ kind: 'system', id: nanoid(10), tone: 'info', text: event.message });
        }
        break;
      case 'context_cleared':
        break;
      case 'retry': {
        const why = event.status === 529 ? 'The API is overloaded' : event.status === 429 ? 'Rate limited' : event.status ? `Error ${event.status}` : 'Connection problem';
        this.retryStatusShown = true;
        this.post({ type: 'status', text: `${why}; retrying in ${formatDuration(event.delayMs)} (attempt ${event.attempt})…` });
        break;
      }
      case 'error':
        this.finishAssistant();
        this.add({ kind: 'error', id: nanoid(10), errorKind: event.kind, message: event.message, canRetry: event.kind !== 'max_turns' && !this.compactionFailed });
        break;
      case 'turn_end':
        this.finishAssistant();
        for (const item of this.chat.items) {
          if (item.kind === 'tool' && item.state === 'running') this.replace({ ...item, state: 'stopped' });
        }
        if (event.reason === 'aborted') this.add({ kind: 'system', id: nanoid(10), tone: 'stopped', text: 'Stopped. Background tasks keep running.' });
        if (this.retryStatusShown) this.post({ type: 'status', text: '' });
        this.retryStatusShown = false;
        this.chat.history = [...(this.session?.history ?? this.chat.history)];
        this.post({ type: 'busy', busy: false });
        this.touch();
        break;
    }
  }

  private appendText(text: string): void {
    if (this.retryStatusShown) {
      this.retryStatusShown = false;
      this.post({ type: 'status', text: '' });
    }
    if (!this.assistant) {
      this.assistant = { kind: 'assistant', id: nanoid(10), text: '', streaming: true };
      this.add(this.assistant);
    }
    this.assistant.text += text;
    this.pendingDelta += text;
    this.deltaTimer ??= setTimeout(() => this.flushDelta(), DELTA_FLUSH_MS);
  }

  private flushDelta(): void {
    if (this.deltaTimer) clearTimeout(this.deltaTimer);
    this.deltaTimer = undefined;
    if (!this.pendingDelta || !this.assistant) return;
    const text = this.pendingDelta;
    this.pendingDelta = '';
    this.host.post(this.chat.id, { type: 'textDelta', id: this.assistant.id, text });
  }

  private finishAssistant(): void {
    if (!this.assistant) return;
    this.flushDelta();
    const done = this.assistant;
    this.assistant = undefined;
    done.streaming = false;
    this.replace({ ...done });
  }

  private disableRetries(): void {
    for (const item of this.chat.items) {
      if (item.kind === 'error' && item.canRetry) this.replace({ ...item, canRetry: false } satisfies ErrorItem);
    }
  }

  private findTaskItem(taskId: string): TaskItem | undefined {
    for (let i = this.chat.items.length - 1; i >= 0; i--) {
      const item = this.chat.items[i];
      if (item.kind === 'task' && item.taskId === taskId) return item;
    }
    return undefined;
  }

  private add(item: ChatItem): void {
    this.chat.items.push(item);
    this.post({ type: 'append', item });
    this.touch();
  }

  private replace(item: ChatItem): void {
    const index = this.chat.items.findIndex((i) => i.id === item.id);
    if (index < 0) return this.add(item);
    this.chat.items[index] = item;
    if (this.assistant?.id === item.id && item.kind === 'assistant') this.assistant = item;
    this.post({ type: 'update', item });
    this.touch();
  }

  /** Order matters: streamed text goes out before whatever follows it. */
  private post(message: ExtensionMessage): void {
    this.flushDelta();
    this.host.post(this.chat.id, message);
  }

  private touch(): void {
    if (this.disposed) return;
    this.chat.updatedAt = Date.now();
    this.host.save(this.chat);
  }
}

function taskItemOf(task: TaskSnapshot, id: string): TaskItem {
  return {
    kind: 'task',
    id,
    taskId: task.id,
    command: task.command,
    description: task.description,
    status: task.status,
    exitCode: task.exitCode,
    startedAt: task.startedAt,
    endedAt: task.endedAt,
    byUser: task.origin.kind === 'user',
    ...(task.waitingUntilReady && { waitingUntilReady: true }),
    ...(task.status === 'running' && task.ports?.length && { ports: portsShort(task.ports) }),
  };
}
