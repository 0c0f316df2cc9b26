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

export function registerChatView(services: Services): vscode.Disposable {
  const { context, manager, log } = services;
  const storageDir = vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, 'chats').fsPath;
  const store = new ChatStore(context.workspaceState, storageDir);
  const apiKeys = new ApiKeyStore(context.secrets);
  const cwd = (): string => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
  const proposed = new ProposedChanges();
  const controller = new ChatController({
    manager,
    store,
    activeChat: services.activeChat,
    ui: createChatUi(services, apiKeys, cwd, proposed),
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
  services.chat = controller;
  services.activeChat.titleOf = (id) => controller.chatTitle(id);
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

  return vscode.Disposable.from(
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, provider),
    command('backgroundAgent.newChat', async () => {
      await provider.reveal();
      await controller.newChat();
    }),
    command('backgroundAgent.showHistory', async () => {
      await provider.reveal();
      await controller.showHistory();
    }),
    command('backgroundAgent.setApiKey', () => controller.setApiKey()),
    command('backgroundAgent.stop', () => controller.stop()),
    onChatSettingsChanged(() => controller.onSettingsChanged()),
    apiKeys.onDidChange(() => void controller.onApiKeyChanged()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => controller.onTrustChanged()),
    showWaitingApprovals(controller, provider),
    proposed,
    provider,
    controller,
    new vscode.Disposable(() => {
      if (services.chat === controller) {
        services.chat = undefined;
        services.activeChat.titleOf = () => undefined;
      }
      if (services.activeChat.conversationId === controller.activeChatId) services.activeChat.conversationId = undefined;
    }),
  );
}
