// Owns the chats and their agent sessions, and speaks the webview protocol. The view provider forwards
// messages here; everything VS Code-specific the controller needs (dialogs, links, clipboard, reveal) comes
// in through `ChatUi`, so integration tests can drive the real controller and read what it posts.
import { nanoid } from 'nanoid';
import type { AgentSession, AgentSessionOptions } from '../../core/agent/types';
import type { ApprovalRequest, WriteRequest } from '../../core/approval/approvalGate';
import type { ApprovalPolicy } from '../../core/approval/approvalPolicy';
import { Emitter, type Disposable, type Event } from '../../core/events';
import type { TaskManager } from '../../core/tasks/types';
import { EMPTY_USAGE, type ModelChoice, type ApprovalAnswer, type ChatViewState, type ExtensionMessage, type WebviewMessage } from '../../shared/protocol';
import type { ActiveChat } from '../activeChat';
import { ChatRuntime, type SessionConfig } from './chatRuntime';
import type { ChatStore, ChatSummary, StoredChat } from './chatStore';
import { modelChoice } from './modelChoices';
import type { ChatSettings } from './settings';

export interface ChatUi {
  openLink(href: string): Promise<void>;
  copy(text: string): Promise<void>;
  revealTask(taskId: string): Promise<void>;
  /** Chat History: the chat to open, or one (or all) to delete; undefined when dismissed. */
  pickChat(chats: readonly ChatSummary[], currentId: string): Promise<HistoryChoice | undefined>;
  /** A modal question; true when the person chose `action`. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
  /** A code block's Insert at Cursor: into the active text editor (said when there is none). */
  insertAtCursor(text: string): Promise<void>;
  /** A code block's Open in Editor: a file inside the workspace (refused otherwise). */
  openFile(path: string): Promise<void>;
  /** Resolves true when a key was stored. */
  promptApiKey(): Promise<boolean>;
  /** Shows a write waiting for approval in VS Code's diff editor. */
  openDiff(approvalId: string, request: WriteRequest): Promise<void>;
  /** VS Code's Manage Workspace Trust. */
  manageTrust(): Promise<void>;
}

export interface ChatControllerDeps {
  readonly manager: TaskManager;
  readonly store: ChatStore;
  readonly ui: ChatUi;
  apiKey(): Promise<string | undefined>;
  settings(): ChatSettings;
  /** The folder the agent works in. */
  cwd(): string;
  createSession(options: AgentSessionOptions): AgentSession;
  log(message: string): void;
  readonly approvalPolicy: ApprovalPolicy;
  /** Always Allow: stores the rule in the workspace's settings. */
  rememberAlways(request: ApprovalRequest): Promise<void>;
  /** False in Restricted Mode. */
  isTrusted(): boolean;
}

type Poster = (message: ExtensionMessage) => void;

export type HistoryChoice = { action: 'open'; id: string } | { action: 'delete'; id: string } | { action: 'deleteAll' };

/** Also the window's ActiveChat while it exists: the chat shown is the one tasks the person starts are reported to. */
export class ChatController implements ActiveChat, Disposable {
  private readonly runtimes = new Map<string, ChatRuntime>();
  private active: ChatRuntime | undefined;
  /** Usually one listener (the webview); tests attach a recorder beside it. */
  private readonly messages = new Emitter<ExtensionMessage>();
  private readonly taskEvents: Disposable;
  /** Results for chats deleted in this window: their tasks may still end, and nobody would ever take them. */
  private readonly deletedResults: Disposable;
  private readonly deleted = new Set<string>();
  private readonly loaded: Promise<void>;
  private readonly approvalsChanged = new Emitter<number>();
  /** Fires with the new count whenever a card starts or stops waiting (the view's badge, the status bar). */
  readonly onApprovalsChanged: Event<number> = this.approvalsChanged.event;
  private disposed = false;

  constructor(private readonly deps: ChatControllerDeps) {
    this.taskEvents = deps.manager.onEvent((event) => {
      for (const runtime of this.runtimes.values()) runtime.onTaskEvent(event);
    });
    this.deletedResults = deps.manager.notifications.onQueued((notification) => {
      if (this.deleted.has(notification.conversationId)) deps.manager.notifications.drain(notification.conversationId);
    });
    this.loaded = this.openInitialChat();
  }

  /** The id of the chat shown (tests, commands). */
  get activeChatId(): string | undefined {
    return this.active?.chat.id;
  }

  /** ActiveChat: the chat shown. */
  get conversationId(): string | undefined {
    return this.activeChatId;
  }

  /** The title of a chat of this workspace (loaded or stored); undefined when unknown or still untitled. */
  titleOf(id: string): string | undefined {
    return (this.runtimes.get(id)?.chat.title ?? this.deps.store.title(id)) || undefined;
  }

  get busy(): boolean {
    return this.active?.busy ?? false;
  }

  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  /** Approval cards waiting in every chat of this window. */
  get pendingApprovals(): number {
    let pending = 0;
    for (const runtime of this.runtimes.values()) pending += runtime.approvals.pendingCount;
    return pending;
  }

  /** The view provider hands in its postMessage; the returned disposable disconnects it. */
  attachView(post: Poster): Disposable {
    return this.messages.event(post);
  }

  async handle(message: WebviewMessage): Promise<void> {
    await this.loaded;
    switch (message.type) {
      case 'ready':
        return this.replay();
      case 'send': {
        const text = message.text.trim();
        if (text) this.requireActive().send(text, await this.sessionConfig());
        return;
      }
      case 'resend': {
        const text = message.text.trim();
        if (text) this.requireActive().resend(message.id, text, await this.sessionConfig());
        return;
      }
      case 'setModel':
        return this.setModel(message.model);
      case 'insertCode':
        return this.deps.ui.insertAtCursor(message.text);
      case 'openFile':
        return this.deps.ui.openFile(message.path);
      case 'stop':
        return this.stop();
      case 'compact':
        return this.compact();
      case 'newChat':
        return this.newChat();
      case 'showHistory':
        return this.showHistory();
      case 'retry':
        this.requireActive().retry(await this.sessionConfig());
        return;
      case 'setApiKey':
        return this.setApiKey();
      case 'openLink':
        return this.deps.ui.openLink(message.href);
      case 'copy':
        return this.deps.ui.copy(message.text);
      case 'revealTask':
        return this.deps.ui.revealTask(message.taskId);
      case 'approve':
        return this.answerApproval(message.id, message.answer);
      case 'openDiff':
        for (const runtime of this.runtimes.values()) {
          const request = runtime.approvals.pendingWrite(message.id);
          if (request) return this.deps.ui.openDiff(message.id, request);
        }
        return;
      case 'manageTrust':
        return this.deps.ui.manageTrust();
    }
  }

  /** Opens the chat whose approval card waits (the one shown first, if its card waits); false when none waits. */
  async showWaitingApproval(): Promise<boolean> {
    await this.loaded;
    const waiting = this.active?.approvals.pendingCount ? this.active : [...this.runtimes.values()].find((runtime) => runtime.approvals.pendingCount > 0);
    if (!waiting) return false;
    if (waiting !== this.active) await this.open(waiting.chat);
    return true;
  }

  /** The person's Allow / Always Allow / Deny on a card of any loaded chat. */
  answerApproval(id: string, answer: ApprovalAnswer): void {
    for (const runtime of this.runtimes.values()) if (runtime.approvals.answer(id, answer)) return;
    this.deps.log(`An approval answer came for card ${id}, which is not waiting (already answered?).`);
  }

  /** Trust was granted (or the policy's view of it changed): the chat's Restricted Mode notice follows. */
  onTrustChanged(): void {
    this.postToView({ type: 'trust', trusted: this.deps.isTrusted() });
  }

  stop(): void {
    this.active?.stop();
  }

  /** Compact Conversation: summarises the chat shown (after its running turn, if any). */
  async compact(): Promise<void> {
    await this.loaded;
    this.requireActive().compact(await this.sessionConfig());
  }

  /** The keybinding's Focus Chat Input: the cursor goes to the message box (once the view is shown). */
  focusInput(): void {
    this.postToView({ type: 'focusInput' });
  }

  async newChat(): Promise<void> {
    await this.loaded;
    if (this.active && this.active.chat.items.length === 0) {
      this.postToView({ type: 'focusInput' });
      return;
    }
    await this.open(newStoredChat());
    this.postToView({ type: 'focusInput' });
  }

  /** Chat History: reopen a chat, or delete one (then the list comes back) or all of them. */
  async showHistory(): Promise<void> {
    await this.loaded;
    for (;;) {
      const current = this.requireActive().chat.id;
      const choice = await this.deps.ui.pickChat(this.deps.store.list(), current);
      if (!choice) return;
      if (choice.action === 'deleteAll') return void (await this.deleteAllChats());
      if (choice.action === 'open') return void (choice.id !== current && (await this.openChatById(choice.id)));
      await this.deleteChat(choice.id);
      if (this.deps.store.list().length === 0) return;
    }
  }

  /**
   * Deletes a chat of this workspace after asking (the one shown when no id is given): its turn stops, its
   * file and history entry go. Tasks it started keep running in Background Tasks; results it had not yet
   * received are dropped. The chat shown gives way to a new one.
   */
  async deleteChat(id = this.active?.chat.id): Promise<boolean> {
    await this.loaded;
    if (!id) return false;
    const title = this.titleOf(id) ?? 'Untitled chat';
    const running = this.runningTasksOf([id]);
    const confirmed = await this.deps.ui.confirm(`Delete the chat "${title}"?`, deletionDetail('one', running), 'Delete');
    if (!confirmed) return false;
    await this.remove([id]);
    return true;
  }

  /** Deletes every chat of this workspace after asking; a new empty chat is shown. */
  async deleteAllChats(): Promise<boolean> {
    await this.loaded;
    const ids = [...new Set([...this.deps.store.list().map((chat) => chat.id), ...this.runtimes.keys()])];
    if (ids.length === 0) return false;
    const confirmed = await this.deps.ui.confirm(`Delete all ${ids.length} chat${ids.length === 1 ? '' : 's'} of this workspace?`, deletionDetail('all', this.runningTasksOf(ids)), 'Delete All');
    if (!confirmed) return false;
    await this.remove(ids);
    return true;
  }

  /** The model picker: validated against what the picker offers (the webview is not trusted with any string). */
  async setModel(model: string): Promise<void> {
    await this.loaded;
    const runtime = this.requireActive();
    if (!this.modelChoiceOf(runtime).models.includes(model)) {
      this.deps.log(`The chat asked for model ${JSON.stringify(model).slice(0, 80)}, which the picker does not offer.`);
      return;
    }
    runtime.setModel(model);
    this.postToView({ type: 'models', models: this.modelChoiceOf(runtime) });
  }

  async openChatById(id: string): Promise<boolean> {
    const loaded = this.runtimes.get(id)?.chat ?? (await this.deps.store.load(id));
    if (!loaded) {
      this.deps.log(`Chat ${id} could not be read from storage.`);
      return false;
    }
    await this.open(loaded);
    return true;
  }

  async setApiKey(): Promise<void> {
    const stored = await this.deps.ui.promptApiKey();
    if (stored) await this.replay();
  }

  /** Settings are read on every send; auto-resume also applies to sessions already running. */
  onSettingsChanged(): void {
    const { autoResume } = this.deps.settings();
    for (const runtime of this.runtimes.values()) runtime.setAutoResume(autoResume);
    if (this.active) this.postToView({ type: 'models', models: this.modelChoiceOf(this.active) });
  }

  /** A key was set or removed elsewhere: the webview's "Set API Key" hints follow. */
  async onApiKeyChanged(): Promise<void> {
    await this.replay();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.taskEvents.dispose();
    this.deletedResults.dispose();
    for (const runtime of this.runtimes.values()) {
      this.deps.store.save(runtime.chat);
      runtime.dispose();
    }
    this.runtimes.clear();
    this.deps.store.flushSync();
    this.messages.dispose();
    this.approvalsChanged.dispose();
  }

  private async remove(ids: readonly string[]): Promise<void> {
    const showing = this.active?.chat.id;
    // Synchronously first: no message may reach a deleted chat while the files go.
    if (showing && ids.includes(showing)) this.active = undefined;
    for (const id of ids) {
      const runtime = this.runtimes.get(id);
      runtime?.stop();
      runtime?.dispose();
      this.runtimes.delete(id);
      // Results it had not received yet (and those of its tasks still running) would wait for it forever.
      this.deleted.add(id);
      this.deps.manager.notifications.drain(id);
    }
    this.approvalsChanged.fire(this.pendingApprovals);
    await this.deps.store.delete(ids);
    if (!this.active) await this.open(newStoredChat());
  }

  private runningTasksOf(ids: readonly string[]): number {
    return this.deps.manager.list().filter((task) => task.status === 'running' && task.origin.conversationId !== undefined && ids.includes(task.origin.conversationId)).length;
  }

  private modelChoiceOf(runtime: ChatRuntime): ModelChoice {
    return modelChoice(this.deps.settings().model, runtime.chat.model);
  }

  private async openInitialChat(): Promise<void> {
    const lastId = this.deps.store.activeId();
    const last = lastId ? await this.deps.store.load(lastId) : undefined;
    await this.open(last ?? newStoredChat());
    // Other chats whose tasks still run after a reload (taken over from the last window) wake on their ends too.
    const others = new Set(this.deps.manager.list().flatMap((t) => (t.status === 'running' && t.origin.conversationId ? [t.origin.conversationId] : [])));
    for (const id of others) {
      if (this.runtimes.has(id)) continue;
      const chat = await this.deps.store.load(id);
      if (chat && !this.disposed) await this.wakeable(this.runtimeOf(chat));
      // A chat deleted in an earlier window: its tasks' results have nobody to go to.
      else if (!chat) this.deleted.add(id);
    }
  }

  private async open(chat: StoredChat): Promise<void> {
    if (this.disposed) return;
    const runtime = this.runtimeOf(chat);
    this.active = runtime;
    this.deps.store.setActive(chat.id);
    await this.wakeable(runtime);
    this.pruneIdleRuntimes();
    await this.replay();
  }

  private runtimeOf(chat: StoredChat): ChatRuntime {
    let runtime = this.runtimes.get(chat.id);
    if (!runtime) {
      runtime = new ChatRuntime(chat, {
        manager: this.deps.manager,
        post: (chatId, message) => {
          if (chatId === this.active?.chat.id) this.postToView(message);
        },
        save: (c) => this.deps.store.save(c),
        createSession: (options) => this.deps.createSession(options),
        approvalPolicy: this.deps.approvalPolicy,
        rememberAlways: (request) => this.deps.rememberAlways(request),
        approvalsChanged: () => this.approvalsChanged.fire(this.pendingApprovals),
      });
      this.runtimes.set(chat.id, runtime);
    }
    return runtime;
  }

  /** Tasks of this chat still running (or results waiting) after a reload: a session must be there to wake on them. */
  private async wakeable(runtime: ChatRuntime): Promise<void> {
    const id = runtime.chat.id;
    const waiting = this.deps.manager.list().some((t) => t.origin.conversationId === id && t.status === 'running');
    if (!runtime.hasSession && (waiting || this.deps.manager.notifications.pendingCount(id) > 0)) {
      runtime.attachSession(await this.sessionConfig());
    }
  }

  /** Chats no longer shown keep their runtime only while they can still wake up. */
  private pruneIdleRuntimes(): void {
    for (const [id, runtime] of this.runtimes) {
      if (runtime === this.active || runtime.busy) continue;
      const running = this.deps.manager.list().some((t) => t.origin.conversationId === id && t.status === 'running');
      if (running) continue;
      this.deps.store.save(runtime.chat);
      runtime.dispose();
      this.runtimes.delete(id);
    }
  }

  private async replay(): Promise<void> {
    const hasApiKey = (await this.deps.apiKey()) !== undefined;
    // From here on synchronous: the items and the dropped delta buffer must describe the same moment.
    const runtime = this.active;
    if (!runtime || !this.messages.hasListeners) return;
    runtime.refreshTasks();
    runtime.dropPendingDelta();
    const state: ChatViewState = {
      chatId: runtime.chat.id,
      title: runtime.chat.title,
      items: runtime.chat.items,
      busy: runtime.busy,
      usage: runtime.chat.usage,
      ...(runtime.chat.context && { context: runtime.chat.context }),
      hasApiKey,
      trusted: this.deps.isTrusted(),
      models: this.modelChoiceOf(runtime),
    };
    this.postToView({ type: 'init', state });
  }

  private async sessionConfig(): Promise<SessionConfig> {
    const settings = this.deps.settings();
    return { ...settings, apiKey: await this.deps.apiKey(), cwd: this.deps.cwd() };
  }

  private requireActive(): ChatRuntime {
    if (!this.active) throw new Error('No chat is open.');
    return this.active;
  }

  private postToView(message: ExtensionMessage): void {
    this.messages.fire(message);
  }
}

function deletionDetail(chats: 'one' | 'all', runningTasks: number): string {
  const removed = chats === 'one' ? 'A turn it is running stops, and its messages are removed' : 'Turns they are running stop, and their messages are removed';
  const tasks = runningTasks === 0 ? '' : ` ${runningTasks} background task${runningTasks === 1 ? '' : 's'} started from ${chats === 'one' ? 'it' : 'them'} keep${runningTasks === 1 ? 's' : ''} running in Background Tasks.`;
  return `${removed} from this workspace; this cannot be undone.${tasks}`;
}

function newStoredChat(): StoredChat {
  const now = Date.now();
  return { id: `chat-${nanoid(12)}`, title: '', createdAt: now, updatedAt: now, items: [], history: [], usage: { ...EMPTY_USAGE } };
}
