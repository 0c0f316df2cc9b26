// The VS Code side of what the chat asks for: open a link the person clicked, copy, reveal a task,
// pick an old chat, ask for the API key, show a proposed change as a diff, manage workspace trust.
import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import { resolveInWorkspace } from '../../core/files/workspacePath';
import type { ApiKeyStore } from './apiKey';
import type { ChatUi } from './chatController';
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
    async pickChat(chats: readonly ChatSummary[], currentId: string) {
      if (chats.length === 0) {
        void vscode.window.showInformationMessage('No earlier chats in this workspace yet.');
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        chats.map((chat) => ({
          label: chat.title || 'Untitled chat',
          description: chat.id === currentId ? 'open now' : new Date(chat.updatedAt).toLocaleString(),
          detail: `${chat.itemCount} item${chat.itemCount === 1 ? '' : 's'}`,
          id: chat.id,
        })),
        { title: 'Chat History', placeHolder: 'Reopen a chat of this workspace', matchOnDescription: true },
      );
      return picked?.id;
    },
    promptApiKey: () => apiKeys.promptAndStore(),
    openDiff: (approvalId, request) => proposed.show(approvalId, request),
    async manageTrust() {
      await vscode.commands.executeCommand('workbench.trust.manage');
    },
  };
}

/** A relative link in an answer: a workspace file, optionally `#L12` or `:12`. Never leaves the workspace. */
async function openWorkspaceFile(href: string, root: string): Promise<void> {
  let decoded = href;
  try {
    decoded = decodeURI(href);
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
