// Wires the Background Tasks view: tree, commands, output documents, status bar, badge, context keys, persistence.
import * as vscode from 'vscode';
import type { Services } from '../services';
import { registerTaskCommands } from './taskCommands';
import { bindBadge, bindContextKeys, TaskCounts } from './taskCounts';
import { TaskOutputDocuments } from './taskOutputDocument';
import { persistTasks, restorePersistedTasks } from './taskPersistence';
import { createTasksStatusBar } from './statusBar';
import { TasksTreeProvider } from './tasksTreeProvider';

export const TASKS_VIEW_ID = 'backgroundAgent.tasks';

/** The registered view: the chat reveals tasks in it; tests and benchmarks read the tree through the extension's API. */
export interface TasksViewHandle extends vscode.Disposable {
  readonly provider: TasksTreeProvider;
  readonly view: vscode.TreeView<string>;
}

export function registerTasksView(services: Services): TasksViewHandle {
  const { manager, context, log } = services;
  // Restore first, so the tree's first render already has the last window's tasks.
  try {
    const restored = restorePersistedTasks(manager, context.workspaceState);
    if (restored > 0) log.info(`Restored ${restored} background task(s) of the last window.`);
  } catch (error) {
    log.warn(`Could not restore background tasks of the last window: ${String(error)}`);
  }

  // Late-bound: the chat registers after this view and answers for titles while it exists.
  const titleOf = (conversationId: string): string | undefined => services.activeChat.titleOf(conversationId);
  const provider = new TasksTreeProvider(manager, {}, Date.now, titleOf);
  const view = vscode.window.createTreeView(TASKS_VIEW_ID, { treeDataProvider: provider, canSelectMany: true, showCollapseAll: false });
  provider.setVisible(view.visible);
  const counts = new TaskCounts(manager);

  const disposable = vscode.Disposable.from(
    view.onDidChangeVisibility((e) => provider.setVisible(e.visible)),
    registerTaskCommands({ manager, view, activeChat: services.activeChat, log }),
    new TaskOutputDocuments(manager, titleOf),
    createTasksStatusBar(counts),
    bindBadge(view, counts),
    bindContextKeys(counts),
    persistTasks(manager, context.workspaceState, log),
    counts,
    view,
    provider,
  );
  return { provider, view, dispose: () => disposable.dispose() };
}
