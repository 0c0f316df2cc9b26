// The Chat webview view: HTML with a strict CSP and a nonce, resources through asWebviewUri, and message
// forwarding to the controller. No retainContextWhenHidden: when the view is shown again the webview
// says `ready` and the controller replays the chat, which costs nothing while hidden.
import * as vscode from 'vscode';
import { isWebviewMessage } from '../../shared/protocol';
import type { ChatController } from './chatController';

export const CHAT_VIEW_ID = 'backgroundAgent.chat';
const NO_BADGE: vscode.ViewBadge = { value: 0, tooltip: '' };

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private viewDisposables: vscode.Disposable[] = [];
  private badge: vscode.ViewBadge | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: ChatController,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    view.badge = this.badge;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [dist, media] };
    view.webview.html = this.html(view.webview);
    this.viewDisposables.push(
      this.controller.attachView((message) => void view.webview.postMessage(message)),
      view.webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewMessage(message)) {
          this.log.warn(`Chat view sent an unknown message: ${JSON.stringify(message)?.slice(0, 200)}`);
          return;
        }
        this.controller.handle(message).catch((error: unknown) => this.log.error(`Chat: ${error instanceof Error ? error.stack ?? error.message : String(error)}`));
      }),
      view.onDidDispose(() => {
        if (this.view === view) this.disposeView();
      }),
    );
  }

  /** The view's badge (waiting approvals); kept for a view resolved later. */
  setBadge(badge: vscode.ViewBadge | undefined): void {
    // VS Code's webview view pane never clears a badge set to undefined (the activity bar keeps the old
    // count; see microsoft/vscode#331019, still so in the 1.99 we test against), while a badge of
    // 0 is drawn as none. Tree views clear fine, so the workaround lives here only.
    this.badge = badge ?? NO_BADGE;
    if (this.view) this.view.badge = this.badge;
  }

  /** Opens the view (and its container) and puts the cursor in the message box. */
  async reveal(): Promise<void> {
    if (this.view) this.view.show(false);
    else await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
  }

  dispose(): void {
    this.disposeView();
  }

  private disposeView(): void {
    for (const d of this.viewDisposables) d.dispose();
    this.viewDisposables = [];
    this.view = undefined;
  }

  private html(webview: vscode.Webview): string {
    const nonce = createNonce();
    const uri = (...path: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...path)).toString();
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('dist', 'codicons', 'codicon.css')}">
<link rel="stylesheet" href="${uri('media', 'chat.css')}">
<title>Background Agent Chat</title>
</head>
<body>
<script nonce="${nonce}" src="${uri('dist', 'webview.js')}" data-highlighter="${uri('dist', 'highlight.js')}"></script>
</body>
</html>`;
  }
}

function createNonce(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}
