// The long-lived services of one extension activation. Built once in activate(), disposed on deactivate.
import * as vscode from 'vscode';
import { ApprovalPolicy } from '../core/approval/approvalPolicy';
import { BackgroundManager } from '../core/tasks/backgroundManager';
import { readApprovalSettings, watchApprovalSettings } from './approval/approvalSettings';
import { createActiveChat, type ActiveChatHolder } from './activeChat';
import { applyLogSizeSetting } from './tasks/logSizeSetting';
import type { TasksViewHandle } from './tasks/register';
import type { ChatController } from './chat/chatController';

export interface Services extends vscode.Disposable {
  readonly context: vscode.ExtensionContext;
  readonly manager: BackgroundManager;
  readonly log: vscode.LogOutputChannel;
  /** The one approval policy of this window (settings, rules, workspace trust); every chat's tools pass it. */
  readonly approvalPolicy: ApprovalPolicy;
  /** The chat the person is looking at; the chat controller sets it, "Run Command in Background…" reports to it. */
  readonly activeChat: ActiveChatHolder;
  /** Set by registerTasksView while the view exists; tests and benchmarks read the tree through it. */
  tasksView?: TasksViewHandle;
  /** Set by registerChatView while the chat exists; integration tests drive the chat through it. */
  chat?: ChatController;
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
    activeChat: createActiveChat(),
    dispose() {
      logSize.dispose();
      approvalSettings.dispose();
      // Kills every task this window owns: no orphans after deactivation.
      manager.dispose();
      log.dispose();
    },
  };
}
