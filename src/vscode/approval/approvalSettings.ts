// The approval settings as the policy may use them. A folder must not be able to widen what the agent may
// do: its `allowCommands` and `approval` count only once the person trusts it (they are also listed as
// restricted configurations in package.json, for VS Code's own Restricted Mode view), and `approval: auto`
// counts only from user settings. Deny rules count from anywhere: they only narrow.
import * as vscode from 'vscode';
import type { ApprovalRequest } from '../../core/approval/approvalGate';
import { APPROVAL_MODES, type ApprovalMode, type ApprovalPolicy, type ApprovalSettings } from '../../core/approval/approvalPolicy';

const SECTION = 'backgroundAgent';

export function readApprovalSettings(log?: vscode.LogOutputChannel): ApprovalSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const trusted = vscode.workspace.isTrusted;
  const mode = config.inspect<string>('approval');
  const folderMode = trusted ? (mode?.workspaceFolderValue ?? mode?.workspaceValue) : undefined;
  let chosen = asMode(mode?.globalValue) ?? 'ask';
  if (folderMode === 'auto') log?.warn('backgroundAgent.approval "auto" in this workspace\'s settings is ignored: only user settings can turn approvals off.');
  else if (asMode(folderMode)) chosen = asMode(folderMode) as ApprovalMode;
  return {
    mode: chosen,
    allowCommands: merged(config.inspect<string[]>('allowCommands'), trusted),
    denyCommands: merged(config.inspect<string[]>('denyCommands'), true),
    trusted,
  };
}

/** Keeps the policy in step with the settings and with workspace trust (granted without a reload). */
export function watchApprovalSettings(policy: ApprovalPolicy, log: vscode.LogOutputChannel): vscode.Disposable {
  const apply = (): void => {
    policy.update(readApprovalSettings(log));
    for (const error of policy.ruleErrors) log.warn(`Background Agent approval rules: ${error}; the rule is ignored.`);
  };
  for (const error of policy.ruleErrors) log.warn(`Background Agent approval rules: ${error}; the rule is ignored.`);
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION)) apply();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(apply),
  );
}

/**
 * Always Allow, stored where the person will find it: the command's rules in this workspace's
 * `allowCommands`, or `approval: allowEdits` for writes (user settings when no folder is open).
 */
export async function storeAlwaysAllow(request: ApprovalRequest): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  if (request.kind === 'write') {
    await config.update('approval', 'allowEdits', target);
    return;
  }
  const inspected = config.inspect<string[]>('allowCommands');
  const current = (target === vscode.ConfigurationTarget.Workspace ? inspected?.workspaceValue : inspected?.globalValue) ?? [];
  const added = (request.rules ?? []).filter((rule) => !current.includes(rule));
  if (added.length > 0) await config.update('allowCommands', [...current, ...added], target);
}

function asMode(value: unknown): ApprovalMode | undefined {
  return APPROVAL_MODES.find((mode) => mode === value);
}

function merged(inspected: { globalValue?: string[]; workspaceValue?: string[]; workspaceFolderValue?: string[] } | undefined, includeFolder: boolean): string[] {
  const lists = [inspected?.globalValue, ...(includeFolder ? [inspected?.workspaceValue, inspected?.workspaceFolderValue] : [])];
  return [...new Set(lists.flatMap((list) => (Array.isArray(list) ? list.filter((rule): rule is string => typeof rule === 'string') : [])))];
}
