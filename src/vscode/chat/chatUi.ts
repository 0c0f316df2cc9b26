// The VS Code side of what the chat asks for: open a link the person clicked, copy, reveal a task,
// pick an old chat (or delete chats), insert a code block at the cursor, ask for the API key, show a proposed change as a diff, manage workspace trust.
import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import { resolveInWorkspace } from '../../core/files/workspacePath';
import type { ApiKeyStore } from './apiKey';
import type { ChatUi, HistoryChoice } from './chatController';
import type { ChatSummary } from './chatStore';
import type { ProposedChanges } from './proposedChanges';

export function createChatUi(tasksTree: vscode.TreeView<string>, apiKeys: ApiKeyStore, cwd: () => string, proposed: ProposedChanges): ChatUi {
  return {
    async openLink(href) {
      if (/^(https?|mailto):/i.test(href)) {
        await vscode.env.openExternal(vscode.Uri.parse(href, true));
        return;
      }
      await openWorkspaceFile(href, cwd());
    },
    async copy(text) {
      await vscode.env.clipboard.writeText(text);
    },
    async revealTask(taskId) {
      // Reveal shows the Explorer view with the task selected; it may fail if the tree has not rendered yet.
      await Promise.resolve()
        .then(() => tasksTree.reveal(taskId, { select: true, focus: false }))
        .catch(() => undefined);
      await vscode.commands.executeCommand('backgroundAgent.task.showOutput', taskId);
    },
    pickChat: (chats, currentId) => pickChat(chats, currentId),
    async confirm(message, detail, action) {
      return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
    },
    async insertAtCursor(text) {
      // The chat has the focus now; the editor the person last worked in is still the active one. Only a
      // person's own documents: never a task's output, a proposed change waiting for approval, or an output view.
      const editable = (e: vscode.TextEditor | undefined): e is vscode.TextEditor => !!e && EDITABLE_SCHEMES.has(e.document.uri.scheme);
      const active = vscode.window.activeTextEditor;
      const editor = editable(active) ? active : vscode.window.visibleTextEditors.find(editable);
      if (!editor) {
        void vscode.window.showWarningMessage('Open a file in an editor and place the cursor where the code should go, then Insert at Cursor again.');
        return;
      }
      const inserted = await editor.edit((edit) => {
        for (const selection of editor.selections) edit.replace(selection, text);
      });
      if (!inserted) void vscode.window.showWarningMessage(`Could not insert into ${editor.document.uri.path.split('/').pop() ?? 'the editor'}: it is read-only.`);
    },
    openFile: (path) => openWorkspaceFile(path, cwd(), path),
    promptApiKey: () => apiKeys.promptAndStore(),
    openDiff: (approvalId, request) => proposed.show(approvalId, request),
    async manageTrust() {
      await vscode.commands.executeCommand('workbench.trust.manage');
    },
  };
}

/** Documents Insert at Cursor may change: files and new untitled ones (also in a remote window or a notebook). */
const EDITABLE_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-notebook-cell']);

const DELETE_CHAT: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('trash'), tooltip: 'Delete Chat' };
const DELETE_ALL: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('clear-all'), tooltip: 'Delete All Chats' };

/** Chat History: Enter reopens a chat; each row's trash button deletes it, the title's button deletes them all. */
function pickChat(chats: readonly ChatSummary[], currentId: string): Promise<HistoryChoice | undefined> {
  if (chats.length === 0) {
    void vscode.window.showInformationMessage('No earlier chats in this workspace yet.');
    return Promise.resolve(undefined);
  }
  type ChatPick = vscode.QuickPickItem & { id: string };
  const pick = vscode.window.createQuickPick<ChatPick>();
  pick.title = 'Chat History';
  pick.placeholder = 'Reopen a chat of this workspace (the trash button deletes one)';
  pick.matchOnDescription = true;
  pick.buttons = [DELETE_ALL];
  pick.items = chats.map((chat) => ({
    label: chat.title || 'Untitled chat',
    description: chat.id === currentId ? 'open now' : new Date(chat.updatedAt).toLocaleString(),
    detail: `${chat.itemCount} item${chat.itemCount === 1 ? '' : 's'}`,
    id: chat.id,
    buttons: [DELETE_CHAT],
  }));
  return new Promise((resolve) => {
    let choice: HistoryChoice | undefined;
    const done = (chosen: HistoryChoice | undefined): void => {
      choice = chosen;
      pick.hide();
    };
    pick.onDidAccept(() => done(pick.selectedItems[0] && { action: 'open', id: pick.selectedItems[0].id }));
    pick.onDidTriggerItemButton((event) => done({ action: 'delete', id: event.item.id }));
    pick.onDidTriggerButton(() => done({ action: 'deleteAll' }));
    pick.onDidHide(() => {
      pick.dispose();
      resolve(choice);
    });
    pick.show();
  });
}

/**
 * A relative link in an answer (`href`, URI-encoded, optionally `#L12` or `:12`) or a code block's file
 * (`plainPath`, as written). Never leaves the workspace.
 */
async function openWorkspaceFile(href: string, root: string, plainPath?: string): Promise<void> {
  let decoded = href;
  try {
    decoded = plainPath ?? decodeURI(href);
  } catch {
    // A malformed escape: use the text as written.
  }
  const match = /^(.*?)(?:#L(\d+)|:(\d+))?$/.exec(decoded) ?? [decoded, decoded];
  // The same check the file tools make: the real file, through any symlink, must be in the workspace.
  const resolved = await resolveInWorkspace(root, match[1], 'link');
  if (!resolved.ok) {
    void vscode.window.showWarningMessage(`Not opened: ${href} is not a file inside the workspace.`);
    return;
  }
  if (!(await stat(resolved.absolute).catch(() => undefined))?.isFile()) {
    void vscode.window.showWarningMessage(`Could not open ${href}: no such file in the workspace.`);
    return;
  }
  try {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(resolved.absolute));
    const line = Math.max(0, Number(match[2] ?? match[3] ?? 1) - 1);
    const position = new vscode.Position(Math.min(line, document.lineCount - 1), 0);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position), preview: true });
  } catch {
    void vscode.window.showWarningMessage(`Could not open ${href}: no such file in the workspace.`);
  }
}
