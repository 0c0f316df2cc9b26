// The long-lived services of one extension activation. Built once in activate(), disposed on deactivate.
// Nobody assigns into them: the views are handles of their own (activate() keeps them), and the active chat
// is a slot the chat view plugs itself into.
import * as vscode from 'vscode';
import { ApprovalPolicy } from '../core/approval/approvalPolicy';
import { BackgroundManager } from '../core/tasks/backgroundManager';
import { readApprovalSettings, watchApprovalSettings } from './approval/approvalSettings';
import { ActiveChatSlot } from './activeChat';
import { applyLogSizeSetting } from './tasks/logSizeSetting';

export interface Services extends vscode.Disposable {
  readonly context: vscode.ExtensionContext;
  readonly manager: BackgroundManager;
  readonly log: vscode.LogOutputChannel;
  /** The one approval policy of this window (settings, rules, workspace trust); every chat's tools pass it. */
  readonly approvalPolicy: ApprovalPolicy;
  /** The chat the person is looking at and the chats' titles, as the chat view provides them while it exists;
   *  "Run Command in Background…" reports to it, the tasks view names chats by it. */
  readonly activeChat: ActiveChatSlot;
}

export function createServices(context: vscode.ExtensionContext): Services {
  const log = vscode.window.createOutputChannel('Background Agent', { log: true });
  const logDir = vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, 'task-logs').fsPath;
  const manager = new BackgroundManager({ logDir, reattachGraceMs: reattachGraceSeconds() * 1000 });
  const logSize = applyLogSizeSetting(manager);
  // The shell parser behind it loads on the first command the agent runs, not here.
  const approvalPolicy = new ApprovalPolicy(readApprovalSettings().settings);
  const approvalSettings = watchApprovalSettings(approvalPolicy, log);
  return {
    context,
    manager,
    log,
    approvalPolicy,
    activeChat: new ActiveChatSlot(),
    dispose() {
      logSize.dispose();
      approvalSettings.dispose();
      // Running tasks outlive a reload for the grace (the window after it takes them over), never longer.
      manager.dispose();
      log.dispose();
    },
  };
}

/**
 * `backgroundAgent.reattachGraceSeconds`, read once per window (a reload applies a change). Application
 * scope, so only user settings count: a folder cannot make its tasks outlive their window.
 */
function reattachGraceSeconds(): number {
  const seconds = vscode.workspace.getConfiguration('backgroundAgent').get<number>('reattachGraceSeconds', 20);
  return Number.isFinite(seconds) ? Math.min(3600, Math.max(0, seconds)) : 20;
}
