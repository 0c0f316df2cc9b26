// One task as a tree item: label, state description, icon, menu context and accessible name.
// The tooltip is built separately (on hover, through resolveTreeItem) because it reads output.
import * as vscode from 'vscode';
import { formatListeningPort } from '../../core/tasks/listeningPorts';
import type { TaskSnapshot, TaskStatus } from '../../core/tasks/types';
import { formatBytes, formatDuration, statusWord, taskDurationMs } from '../../shared/taskWords';
import { lastLines, origin, taskAccessibleLabel, taskDescription, taskLabel, type ChatTitleLookup } from './taskText';

/** `viewItem` values the menus in package.json match on. Stable: changing them breaks the menus. */
export const CONTEXT_RUNNING = 'task.running';
/** Running and listening on a TCP port: also offers Open in Browser. */
export const CONTEXT_LISTENING = 'task.running.listening';
export const CONTEXT_FINISHED = 'task.finished';

const ICONS: Record<TaskStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('loading~spin'),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  cancelled: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
  timed_out: new vscode.ThemeIcon('watch', new vscode.ThemeColor('editorWarning.foreground')),
  interrupted: new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('charts.orange')),
};

export function taskIcon(status: TaskStatus): vscode.ThemeIcon {
  return ICONS[status];
}

export function createTaskTreeItem(task: TaskSnapshot, now: number, titleOf?: ChatTitleLookup): vscode.TreeItem {
  const item = new vscode.TreeItem(taskLabel(task), vscode.TreeItemCollapsibleState.None);
  // The id keeps selection and focus on the same row when the list is re-sorted or refreshed.
  item.id = task.id;
  item.description = taskDescription(task, now);
  item.iconPath = taskIcon(task.status);
  item.contextValue = task.status !== 'running' ? CONTEXT_FINISHED : task.ports?.length ? CONTEXT_LISTENING : CONTEXT_RUNNING;
  item.accessibilityInformation = { label: taskAccessibleLabel(task, now, titleOf), role: 'treeitem' };
  // A click opens the live output: the one thing a person wants from a task row.
  item.command = { command: 'backgroundAgent.task.showOutput', title: 'Show Output', arguments: [task.id] };
  return item;
}

const PREVIEW_LINES = 12;

/** Full details for the hover. `preview` is the manager's bounded in-memory head+tail. */
export function createTaskTooltip(task: TaskSnapshot, preview: string, now: number, titleOf?: ChatTitleLookup): vscode.MarkdownString {
  // No theme icons: a command or description containing `$(name)` must show as typed, not as an icon.
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escape(taskLabel(task))}** — ${statusWord(task.status)}`);
  if (task.exitCode !== null && task.status !== 'running') md.appendMarkdown(` (exit code ${task.exitCode})`);
  if (task.signal) md.appendMarkdown(` (signal ${escape(task.signal)})`);
  md.appendMarkdown('\n\n');
  md.appendCodeblock(task.command, 'shellscript');
  const rows: [string, string][] = [
    ['Task', task.id],
    ['Folder', task.cwd],
    ['Process id', task.pid !== undefined ? String(task.pid) : '—'],
    ['Started', new Date(task.startedAt).toLocaleString()],
    [task.status === 'running' ? 'Elapsed' : 'Duration', task.status === 'interrupted' ? 'unknown (window closed)' : formatDuration(taskDurationMs(task, now))],
    ['Output', formatBytes(task.outputBytes)],
    ['Started by', origin(task.origin, titleOf)],
  ];
  if (task.status === 'running' && task.ports?.length) rows.push(['Listening on', task.ports.map(formatListeningPort).join(', ')]);
  if (task.status === 'running' && task.waitingUntilReady) rows.push(['Readiness', 'the agent is waiting until it is ready']);
  if (task.timeoutMs !== undefined) rows.push(['Time limit', formatDuration(task.timeoutMs)]);
  if (task.error) rows.push(['Error', task.error]);
  md.appendMarkdown(rows.map(([k, v]) => `${k}: ${escape(v)}`).join('  \n'));
  md.appendMarkdown('\n\n');
  const tail = lastLines(preview, PREVIEW_LINES);
  if (tail) {
    md.appendMarkdown('Last lines of output:\n');
    md.appendCodeblock(tail, 'log');
  } else {
    md.appendMarkdown('_No output yet._');
  }
  return md;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&');
}
