// A status bar item with the number of running background tasks; hidden when none; a click shows the view.
import * as vscode from 'vscode';
import { runningTooltip, type TaskCounts, type TaskCountsValue } from './taskCounts';

export function createTasksStatusBar(counts: TaskCounts): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('backgroundAgent.runningTasks', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Background Tasks';
  // `<view id>.focus` is the command VS Code generates for every view.
  item.command = { command: 'backgroundAgent.tasks.focus', title: 'Show Background Tasks' };
  const apply = ({ running }: TaskCountsValue): void => {
    if (running === 0) {
      item.hide();
      return;
    }
    item.text = `$(loading~spin) ${running}`;
    item.tooltip = `${runningTooltip(running)}. Click to show them.`;
    item.accessibilityInformation = { label: `${runningTooltip(running)}. Show Background Tasks`, role: 'button' };
    item.show();
  };
  apply(counts.value);
  const subscription = counts.onDidChange(apply);
  return vscode.Disposable.from(subscription, item);
}
