// Activation only: build the services, register the parts, hand back a small API for tests.
import * as vscode from 'vscode';
import { createServices, type Services } from './vscode/services';
import { registerTasksView, type TasksViewHandle } from './vscode/tasks/register';
import { registerChatView } from './vscode/chat/register';
import { registerLmTools, type LmToolsHandle } from './vscode/lmTools/register';
import type { ChatController } from './vscode/chat/chatController';

/** What integration tests and benchmarks reach through `activate()`'s result. */
export interface BackgroundAgentApi {
  readonly services: Services;
  /** The Background Tasks view: its tree provider and TreeView. */
  readonly tasksView: TasksViewHandle;
  /** The chat controller: tests attach a recorder and drive it as the webview would. */
  readonly chat: ChatController;
  /** Our tools as other agents call them through VS Code (`vscode.lm`). */
  readonly lmTools: LmToolsHandle;
}

export function activate(context: vscode.ExtensionContext): BackgroundAgentApi {
  const services = createServices(context);
  context.subscriptions.push(services);
  const tasksView = registerTasksView(services);
  context.subscriptions.push(tasksView);
  const chatView = registerChatView(services, tasksView.view);
  context.subscriptions.push(chatView);
  const lmTools = registerLmTools(services);
  context.subscriptions.push(lmTools);
  return { services, tasksView, chat: chatView.controller, lmTools };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
