// A real ChatController for integration tests: real BackgroundManager in a temp folder, real agent
// sessions over the real SDK against the scripted server, a real ChatStore on disk. The webview is
// replaced by `ViewModel`, which applies the posted protocol messages exactly as the webview does
// (append / update / textDelta / init), so tests read what a person would see.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentSession } from '../../src/core/agent/session';
import type { ApprovalRequest } from '../../src/core/approval/approvalGate';
import { ApprovalPolicy, type ApprovalSettings } from '../../src/core/approval/approvalPolicy';
import { BackgroundManager } from '../../src/core/tasks/backgroundManager';
import type { ContextMeter, ChatItem, ExtensionMessage, ModelChoice, UsageTotals } from '../../src/shared/protocol';
import { ActiveChatSlot } from '../../src/vscode/activeChat';
import { ChatController, type ChatUi, type HistoryChoice } from '../../src/vscode/chat/chatController';
import { ChatStore, type KeyValueState } from '../../src/vscode/chat/chatStore';
import { startScriptedServer, type ScriptedServer, type ScriptedServerOptions } from '../support/scriptedServer';

export class ViewModel {
  items: ChatItem[] = [];
  busy = false;
  usage: UsageTotals | undefined;
  context: ContextMeter | undefined;
  status = '';
  models: ModelChoice | undefined;
  inits = 0;
  readonly messages: ExtensionMessage[] = [];

  apply(message: ExtensionMessage): void {
    // What postMessage does: the webview gets a copy, never the controller's live objects.
    const m = structuredClone(message);
    this.messages.push(m);
    switch (m.type) {
      case 'init':
        this.inits++;
        this.items = m.state.items;
        this.busy = m.state.busy;
        this.usage = m.state.usage;
        this.context = m.state.context;
        this.models = m.state.models;
        break;
      case 'models':
        this.models = m.models;
        break;
      case 'truncate': {
        const from = this.items.findIndex((x) => x.id === m.fromId);
        if (from >= 0) this.items.splice(from);
        break;
      }
      case 'append':
        this.items.push(m.item);
        break;
      case 'update': {
        const i = this.items.findIndex((x) => x.id === m.item.id);
        if (i >= 0) this.items[i] = m.item;
        else this.items.push(m.item);
        break;
      }
      case 'textDelta': {
        const item = this.items.find((x) => x.id === m.id);
        if (item?.kind === 'assistant') item.text += m.text;
        break;
      }
      case 'busy':
        this.busy = m.busy;
        break;
      case 'usage':
        this.usage = m.usage;
        break;
      case 'context':
        this.context = m.context;
        break;
      case 'status':
        this.status = m.text;
        break;
      case 'focusInput':
        break;
    }
  }

  of<K extends ChatItem['kind']>(kind: K): Array<Extract<ChatItem, { kind: K }>> {
    return this.items.filter((i): i is Extract<ChatItem, { kind: K }> => i.kind === kind);
  }

  /** The kinds in order, e.g. ['user', 'assistant', 'tool', 'task']: the shape of the conversation. */
  get shape(): string[] {
    return this.items.map((i) => i.kind);
  }
}

/** An in-memory stand-in for workspaceState (a Memento is a key-value map; the real one is tested through the extension). */
export class MemoryState implements KeyValueState {
  private readonly map = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Thenable<void> {
    this.map.set(key, structuredClone(value));
    return Promise.resolve();
  }
}

export interface UiCalls {
  openLink: string[];
  copy: string[];
  revealTask: string[];
  pickChat: string[][];
  /** Modal questions asked (their message). */
  confirm: string[];
  insertAtCursor: string[];
  openFile: string[];
  promptApiKey: number;
  /** Paths shown in the diff editor. */
  openDiff: string[];
  manageTrust: number;
}

export interface ChatHarness {
  server: ScriptedServer;
  manager: BackgroundManager;
  controller: ChatController;
  view: ViewModel;
  store: ChatStore;
  state: MemoryState;
  /** As in the extension: every controller the harness builds provides it, the newest answering. */
  activeChat: ActiveChatSlot;
  workspace: string;
  ui: UiCalls;
  /** What Chat History answers next (default: open the oldest chat; after another answer: dismissed). */
  historyChoice: HistoryChoice | undefined | 'oldest';
  /** The answer to the next modal questions (delete a chat). */
  confirmAnswer: boolean;
  /** What `promptApiKey` stores next (undefined = the person dismisses the box). */
  keyToEnter: string | undefined;
  apiKey: string | undefined;
  autoResume: boolean;
  /** The `backgroundAgent.model` setting as the controller reads it (live). */
  model: string;
  /** The `backgroundAgent.contextWindow` setting (live; 0: the model's window). */
  contextWindow: number;
  /** The window's approval policy (mode `auto` unless the test asks for another). */
  policy: ApprovalPolicy;
  /** Always Allow requests the controller asked to store in the settings. */
  remembered: ApprovalRequest[];
  /** Workspace trust as the controller reads it. */
  trusted: boolean;
  /** A second controller on the same store and manager (a reloaded window). */
  reopen(): Promise<{ controller: ChatController; view: ViewModel }>;
  dispose(): Promise<void>;
}

export async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startChatHarness(
  options: { apiKey?: string | undefined; state?: MemoryState; approval?: Partial<ApprovalSettings>; server?: ScriptedServerOptions } = {},
): Promise<ChatHarness> {
  const server = await startScriptedServer(options.server);
  const root = mkdtempSync(join(tmpdir(), 'chat-test-'));
  const workspace = join(root, 'workspace');
  mkdirSync(workspace);
  const manager = new BackgroundManager({ logDir: join(root, 'logs'), killGraceMs: 500 });
  const state = options.state ?? new MemoryState();
  const store = new ChatStore(state, join(root, 'chats'));
  const ui: UiCalls = { openLink: [], copy: [], revealTask: [], pickChat: [], confirm: [], insertAtCursor: [], openFile: [], promptApiKey: 0, openDiff: [], manageTrust: 0 };
  const controllers: ChatController[] = [];

  const harness: ChatHarness = {
    server,
    manager,
    store,
    state,
    workspace,
    ui,
    keyToEnter: undefined,
    historyChoice: 'oldest',
    confirmAnswer: true,
    apiKey: 'apiKey' in options ? options.apiKey : 'test-key',
    autoResume: true,
    model: 'claude-test',
    contextWindow: 0,
    policy: new ApprovalPolicy({ mode: 'auto', allowCommands: [], denyCommands: [], trusted: true, ...options.approval }),
    remembered: [],
    trusted: options.approval?.trusted ?? true,
    activeChat: new ActiveChatSlot(),
    controller: undefined as unknown as ChatController,
    view: new ViewModel(),
    async reopen() {
      const view = new ViewModel();
      const controller = build(view);
      await controller.whenLoaded();
      return { controller, view };
    },
    async dispose() {
      for (const c of controllers) c.dispose();
      await manager.cancelAll();
      manager.dispose();
      await server.close();
      rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };

  const chatUi: ChatUi = {
    openLink: async (href) => void ui.openLink.push(href),
    copy: async (text) => void ui.copy.push(text),
    revealTask: async (taskId) => void ui.revealTask.push(taskId),
    pickChat: async (chats) => {
      ui.pickChat.push(chats.map((c) => c.title));
      const choice = harness.historyChoice;
      if (choice !== 'oldest') {
        // A chosen answer counts once; the list shown again after it is dismissed.
        harness.historyChoice = undefined;
        return choice;
      }
      const oldest = chats.at(-1);
      return oldest && { action: 'open', id: oldest.id };
    },
    confirm: async (message) => {
      ui.confirm.push(message);
      return harness.confirmAnswer;
    },
    insertAtCursor: async (text) => void ui.insertAtCursor.push(text),
    openFile: async (path) => void ui.openFile.push(path),
    promptApiKey: async () => {
      ui.promptApiKey++;
      if (harness.keyToEnter === undefined) return false;
      harness.apiKey = harness.keyToEnter;
      return true;
    },
    openDiff: async (_id, request) => void ui.openDiff.push(request.path),
    manageTrust: async () => void ui.manageTrust++,
  };

  function build(view: ViewModel): ChatController {
    const controller = new ChatController({
      manager,
      store,
      ui: chatUi,
      apiKey: async () => harness.apiKey,
      settings: () => ({ model: harness.model, maxTokens: 1024, autoResume: harness.autoResume, baseURL: server.url, contextWindow: harness.contextWindow }),
      cwd: () => workspace,
      // Short retry waits keep the error tests quick; the retry policy itself is the production one.
      createSession: (sessionOptions) => createAgentSession(sessionOptions, { retry: { initialDelayMs: 5, maxDelayMs: 20 } }),
      log: () => undefined,
      approvalPolicy: harness.policy,
      rememberAlways: async (request) => void harness.remembered.push(request),
      isTrusted: () => harness.trusted,
    });
    controllers.push(controller);
    harness.activeChat.provide(controller);
    controller.attachView((m) => view.apply(m));
    return controller;
  }

  harness.controller = build(harness.view);
  await harness.controller.whenLoaded();
  await harness.controller.handle({ type: 'ready' });
  return harness;
}
