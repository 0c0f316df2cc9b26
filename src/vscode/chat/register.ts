// Wires the Chat view: store, API key, settings, controller, view provider and the palette commands.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { createAgentSession } from '../../core/agent/session';
import type { Services } from '../services';
import { storeAlwaysAllow } from '../approval/approvalSettings';
import { ApiKeyStore } from './apiKey';
import { showWaitingApprovals } from './approvalIndicators';
import { ChatController } from './chatController';
import { ChatStore } from './chatStore';
import { createChatUi } from './chatUi';
import { CHAT_VIEW_ID, ChatViewProvider } from './chatViewProvider';
import { ProposedChanges } from './proposedChanges';
import { onChatSettingsChanged, readChatSettings } from './settings';

/** The registered chat: integration tests drive its controller through the extension's API. */
export interface ChatViewHandle extends vscode.Disposable {
  readonly controller: ChatController;
}

/** `tasksTree`: the Background Tasks view, where a task chip's click reveals its task. */
export function registerChatView(services: Services, tasksTree: vscode.TreeView<string>): ChatViewHandle {
  const { context, manager, log } = services;
  const storageDir = vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, 'chats').fsPath;
  const store = new ChatStore(context.workspaceState, storageDir);
  const apiKeys = new ApiKeyStore(context.secrets);
  const cwd = (): string => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
  const proposed = new ProposedChanges();
  const controller = new ChatController({
    manager,
    store,
    ui: createChatUi(tasksTree, apiKeys, cwd, proposed),
    apiKey: () => apiKeys.get(),
    settings: readChatSettings,
    cwd,
    createSession: (options) => createAgentSession(options),
    log: (message) => log.warn(message),
    approvalPolicy: services.approvalPolicy,
    rememberAlways: async (request) => {
      try {
        await storeAlwaysAllow(request);
      } catch (error) {
        log.error(`Could not store Always Allow in the settings: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    isTrusted: () => vscode.workspace.isTrusted,
  });
  const provider = new ChatViewProvider(context.extensionUri, controller, log);

  const command = (id: string, run: () => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async () => {
      try {
        await run();
      } catch (error) {
        log.error(`${id} failed: ${error instanceof Error ? error.message : String(error)}`);
        void vscode.window.showErrorMessage(`Background Agent: ${error instanceof Error ? error.message : String(error)}`);
      }
    });

  const disposable = vscode.Disposable.from(
    // The tasks side asks the controller which chat is active and what chats are called, while it exists.
    services.activeChat.provide(controller),
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, provider),
    command('backgroundAgent.newChat', async () => {
      await provider.reveal();
      await controller.newChat();
    }),
    command('backgroundAgent.showHistory', async () => {
      await provider.reveal();
      await controller.showHistory();
    }),
    command('backgroundAgent.focusChatInput', async () => {
      await provider.reveal();
      controller.focusInput();
    }),
    command('backgroundAgent.deleteChat', async () => {
      await provider.reveal();
      await controller.deleteChat();
    }),
    command('backgroundAgent.deleteAllChats', () => controller.deleteAllChats()),
    command('backgroundAgent.setApiKey', () => controller.setApiKey()),
    command('backgroundAgent.stop', () => controller.stop()),
    command('backgroundAgent.compactConversation', async () => {
      await provider.reveal();
      await controller.compact();
    }),
    onChatSettingsChanged(() => controller.onSettingsChanged()),
    apiKeys.onDidChange(() => void controller.onApiKeyChanged()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => controller.onTrustChanged()),
    showWaitingApprovals(controller, provider),
    proposed,
    provider,
    controller,
  );
  return { controller, dispose: () => disposable.dispose() };
}
