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
  const manager = new BackgroundManager({ logDir });
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
      // Kills every task this window owns: no orphans after deactivation.
      manager.dispose();
      log.dispose();
    },
  };
}

