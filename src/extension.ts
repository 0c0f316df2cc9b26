// Activation only: build the services, register the parts, hand back a small API for tests.
import * as vscode from 'vscode';
import { createServices, type Services } from './vscode/services';
import { registerTasksView } from './vscode/tasks/register';
import { registerChatView } from './vscode/chat/register';

export interface BackgroundAgentApi {
  readonly services: Services;
}

export function activate(context: vscode.ExtensionContext): BackgroundAgentApi {
  const services = createServices(context);
  context.subscriptions.push(services);
  context.subscriptions.push(registerTasksView(services));
  context.subscriptions.push(registerChatView(services));
  return { services };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
