// While an approval card waits, the person may be looking elsewhere (an auto-resumed turn started while
// they were away): the Chat view's badge and a status bar item say so, and the item leads to the chat.
import * as vscode from 'vscode';
import type { ChatController } from './chatController';
import { CHAT_VIEW_ID, type ChatViewProvider } from './chatViewProvider';

export function showWaitingApprovals(controller: ChatController, provider: ChatViewProvider): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('backgroundAgent.waitingApprovals', vscode.StatusBarAlignment.Left, 51);
  item.name = 'Background Agent Approvals';
  item.command = { command: `${CHAT_VIEW_ID}.focus`, title: 'Show the Chat' };
  const apply = (pending: number): void => {
    const text = pending === 1 ? 'The agent is waiting for your approval' : `The agent is waiting for ${pending} approvals`;
    provider.setBadge(pending > 0 ? { value: pending, tooltip: text } : undefined);
    if (pending === 0) {
      item.hide();
      return;
    }
    item.text = `$(shield) ${pending === 1 ? 'Approval needed' : `${pending} approvals needed`}`;
    item.tooltip = `${text}. Click to show the chat.`;
    item.accessibilityInformation = { label: `${text}. Show the chat`, role: 'button' };
    item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    item.show();
  };
  apply(controller.pendingApprovals);
  const subscription = controller.onApprovalsChanged(apply);
  return vscode.Disposable.from(new vscode.Disposable(() => subscription.dispose()), item);
}
