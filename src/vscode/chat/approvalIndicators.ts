// While an approval card waits, the person may be looking elsewhere (an auto-resumed turn started while
// they were away, or the card waits in a chat that is not the one shown): the Chat view's badge and a
// status bar item say so, and the item opens the chat whose card waits (Show Waiting Approval).
import * as vscode from 'vscode';
import type { ChatController } from './chatController';
import type { ChatViewProvider } from './chatViewProvider';

export const SHOW_WAITING_APPROVAL = 'backgroundAgent.showWaitingApproval';

export function showWaitingApprovals(controller: ChatController, provider: ChatViewProvider): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('backgroundAgent.waitingApprovals', vscode.StatusBarAlignment.Left, 51);
  item.name = 'Background Agent Approvals';
  item.command = { command: SHOW_WAITING_APPROVAL, title: 'Show Waiting Approval' };
  const apply = (pending: number): void => {
    const text = pending === 1 ? 'The agent is waiting for your approval' : `The agent is waiting for ${pending} approvals`;
    provider.setBadge(pending > 0 ? { value: pending, tooltip: text } : undefined);
    void vscode.commands.executeCommand('setContext', 'backgroundAgent.approvalWaiting', pending > 0);
    if (pending === 0) {
      item.hide();
      return;
    }
    item.text = `$(shield) ${pending === 1 ? 'Approval needed' : `${pending} approvals needed`}`;
    item.tooltip = `${text}. Click to show it.`;
    item.accessibilityInformation = { label: `${text}. Show the chat`, role: 'button' };
    item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    item.show();
  };
  apply(controller.pendingApprovals);
  const subscription = controller.onApprovalsChanged(apply);
  const command = vscode.commands.registerCommand(SHOW_WAITING_APPROVAL, async () => {
    await provider.reveal();
    if (!(await controller.showWaitingApproval())) void vscode.window.showInformationMessage('Nothing is waiting for your approval.');
  });
  return vscode.Disposable.from(new vscode.Disposable(() => subscription.dispose()), command, item);
}
