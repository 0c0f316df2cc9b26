// The commands of the Background Tasks view: per-task (context menu, inline) and view-wide (title bar).
// Per-task commands take a task id (the tree's element); with several rows selected they act on all of them.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { formatListeningPort } from '../../core/tasks/listeningPorts';
import type { TaskManager, TaskSnapshot } from '../../core/tasks/types';
import type { ActiveChat } from '../activeChat';
import { revealEnd, taskOutputUri } from './taskOutputDocument';

export interface TaskCommandDeps {
  readonly manager: TaskManager;
  readonly view: vscode.TreeView<string>;
  readonly activeChat: ActiveChat;
  readonly log: vscode.LogOutputChannel;
}

/** What "Run Command in Background…" accepts from a keybinding or another extension instead of asking. */
export interface RunInBackgroundArgs {
  command: string;
  description?: string;
  cwd?: string;
}

export function registerTaskCommands(deps: TaskCommandDeps): vscode.Disposable {
  const { manager, log } = deps;
  const register = (id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        // A failing command says so instead of failing silently in the console.
        const message = error instanceof Error ? error.message : String(error);
        log.error(`${id} failed: ${message}`);
        void vscode.window.showErrorMessage(`Background Agent: ${message}`);
        return undefined;
      }
    });

  /** Tasks a per-task command acts on: the clicked row, or every selected row if it is one of them. */
  const targets = (arg: unknown, selected: unknown): TaskSnapshot[] => {
    const clicked = idOf(arg);
    const selection = Array.isArray(selected) ? selected.map(idOf).filter((id): id is string => !!id) : [];
    const ids = clicked ? (selection.includes(clicked) ? selection : [clicked]) : deps.view.selection;
    return ids.map((id) => manager.get(id)).filter((task): task is TaskSnapshot => !!task);
  };

  return vscode.Disposable.from(
    register('backgroundAgent.task.cancel', async (arg, selected) => {
      const running = targets(arg, selected).filter((task) => task.status === 'running');
      return Promise.all(running.map((task) => manager.cancel(task.id)));
    }),

    register('backgroundAgent.task.showOutput', async (arg) => {
      const task = targets(arg, undefined)[0];
      if (!task) throw new Error('That background task no longer exists.');
      const document = await vscode.workspace.openTextDocument(taskOutputUri(task));
      const editor = await vscode.window.showTextDocument(document, { preview: true });
      // Start at the end, where a running task's newest output is; the document then follows it.
      revealEnd(editor);
      return editor;
    }),

    register('backgroundAgent.task.restart', async (arg, selected) => {
      requireTrust('Restart Task');
      const finished = targets(arg, selected).filter((task) => task.status !== 'running');
      // The old row stays (its log is a record of that run); the new run appears on top.
      return finished.map((task) =>
        manager.start({
          command: task.command,
          cwd: task.cwd,
          description: task.description,
          timeoutMs: task.timeoutMs,
          origin: task.origin,
          notifyOn: task.notifyOn,
        }),
      );
    }),

    register('backgroundAgent.task.openInBrowser', async (arg) => {
      const task = targets(arg, undefined)[0];
      const port = task && (await choosePort(task));
      if (port === undefined) return undefined;
      // Through the remote's port forwarding where there is one (code-server, Remote windows): localhost
      // there is not the person's localhost.
      const uri = await vscode.env.asExternalUri(vscode.Uri.parse(`http://localhost:${port}/`));
      return vscode.env.openExternal(uri);
    }),

    register('backgroundAgent.task.copyCommand', async (arg, selected) => {
      const commands = targets(arg, selected).map((task) => task.command);
      if (commands.length === 0) return undefined;
      await vscode.env.clipboard.writeText(commands.join('\n'));
      vscode.window.setStatusBarMessage(commands.length === 1 ? 'Command copied' : `${commands.length} commands copied`, 2000);
      return commands.join('\n');
    }),

    register('backgroundAgent.task.remove', async (arg, selected) => {
      const finished = targets(arg, selected).filter((task) => task.status !== 'running');
      for (const task of finished) manager.remove(task.id);
      return finished.length;
    }),

    register('backgroundAgent.cancelAllTasks', async () => {
      await manager.cancelAll();
    }),

    register('backgroundAgent.clearFinishedTasks', async () => {
      const finished = manager.list().filter((task) => task.status !== 'running');
      for (const task of finished) manager.remove(task.id);
      return finished.length;
    }),

    register('backgroundAgent.runInBackground', async (arg) => {
      // The person's own command needs no approval, but a folder that is not trusted runs nothing.
      requireTrust('Run Command in Background');
      const given = runArgsOf(arg);
      const command = given?.command ?? (await askForCommand());
      if (command === undefined) return undefined; // dismissed: nothing to do
      const report = vscode.workspace.getConfiguration('backgroundAgent').get<boolean>('reportUserTasksToChat', true);
      const conversationId = report ? deps.activeChat.conversationId : undefined;
      const task = manager.start({
        command,
        cwd: given?.cwd ?? defaultCwd(),
        description: given?.description,
        origin: conversationId ? { kind: 'user', conversationId } : { kind: 'user' },
      });
      if (task.status === 'failed' && task.error) void vscode.window.showErrorMessage(`Could not start "${command}": ${task.error}`);
      return task;
    }),
  );
}

/** The menus are disabled in Restricted Mode (`enablement`); a keybinding or another extension may still call. */
function requireTrust(what: string): void {
  if (!vscode.workspace.isTrusted) throw new Error(`${what} is not available in Restricted Mode: trust this folder first (Manage Workspace Trust).`);
}

async function askForCommand(): Promise<string | undefined> {
  const value = await vscode.window.showInputBox({
    title: 'Run Command in Background',
    prompt: `Runs in ${defaultCwd()}; it appears in Background Tasks and keeps running while you work.`,
    placeHolder: 'e.g. npm test',
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() ? undefined : 'Type a command to run, e.g. npm test.'),
  });
  const command = value?.trim();
  return command ? command : undefined;
}

/** The first workspace folder, like the agent; with no folder open, the home directory, like a new terminal. */
function defaultCwd(): string {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'id' in value && typeof value.id === 'string') return value.id;
  return undefined;
}

/**
 * Only an object `{ command }` counts: a bare string could be the tree element VS Code hands to title-bar
 * actions (the focused task's id), which must never be run as a command.
 */
function runArgsOf(value: unknown): RunInBackgroundArgs | undefined {
  if (!value || typeof value !== 'object' || !('command' in value) || typeof value.command !== 'string' || !value.command.trim()) return undefined;
  const args = value as { command: string; description?: unknown; cwd?: unknown };
  return {
    command: args.command.trim(),
    description: typeof args.description === 'string' ? args.description : undefined,
    cwd: typeof args.cwd === 'string' ? args.cwd : undefined,
  };
}

/** The one port a task listens on, or the person's pick of several; undefined when none (or the pick was dismissed). */
async function choosePort(task: TaskSnapshot): Promise<number | undefined> {
  const byPort = new Map<number, string[]>();
  for (const p of task.ports ?? []) byPort.set(p.port, [...(byPort.get(p.port) ?? []), formatListeningPort(p)]);
  if (byPort.size === 0) throw new Error(`Task ${task.id} does not listen on a TCP port now.`);
  if (byPort.size === 1) return [...byPort.keys()][0];
  const picked = await vscode.window.showQuickPick(
    [...byPort].map(([port, addresses]) => ({ label: `:${port}`, description: addresses.join(', '), port })),
    { title: `Open which port of "${task.description ?? task.command}" in the browser?`, placeHolder: 'Port' },
  );
  return picked?.port;
}
