// A write waiting for approval, opened in VS Code's diff editor: the file as the tool read it on the left, the
// agent's version on the right (both read-only, from this provider; a file too large to read is shown from disk). Kept for the last few cards only: the text of a
// proposed file lives here until newer proposals push it out.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { WriteRequest } from '../../core/approval/approvalGate';

export const PROPOSED_SCHEME = 'background-agent-proposed';
const KEPT = 20;

export class ProposedChanges implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '(This proposed change is no longer available.)\n';
  }

  async show(approvalId: string, request: WriteRequest): Promise<void> {
    const name = basename(request.path);
    const right = this.keep(`/${approvalId}/proposed/${name}`, request.after);
    // The text the tool read through its checked descriptor, not the path read again (it may have been swapped).
    const left =
      request.beforeBytes === undefined
        ? this.keep(`/${approvalId}/new-file/${name}`, '')
        : request.before !== undefined
          ? this.keep(`/${approvalId}/current/${name}`, request.before)
          : vscode.Uri.file(request.absolute);
    const title = `${request.path} ↔ the agent's change (waiting for your approval)`;
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true });
  }

  dispose(): void {
    this.registration.dispose();
    this.texts.clear();
  }

  private keep(path: string, text: string): vscode.Uri {
    this.texts.delete(path);
    this.texts.set(path, text);
    while (this.texts.size > KEPT) this.texts.delete(this.texts.keys().next().value as string);
    return vscode.Uri.from({ scheme: PROPOSED_SCHEME, path });
  }
}
