// The approval settings as the policy may use them. A folder must not be able to widen what the agent may
// do: its `allowCommands` and `approval` count only once the person trusts it (they are also listed as
// restricted configurations in package.json, for VS Code's own Restricted Mode view), `approval: auto`
// counts only from user settings, and a folder's /regex/ allow rules never count (one regex can allow
// everything). Deny rules count from anywhere: they only narrow.
import * as vscode from 'vscode';
import type { ApprovalRequest } from '../../core/approval/approvalGate';
import { APPROVAL_MODES, type ApprovalMode, type ApprovalPolicy, type ApprovalSettings } from '../../core/approval/approvalPolicy';
import { parseRule } from '../../core/approval/commandRules';

const SECTION = 'backgroundAgent';

/** What the settings give, and one sentence for each value that was left out (for the log). */
export function readApprovalSettings(): { settings: ApprovalSettings; ignored: string[] } {
  const config = vscode.workspace.getConfiguration(SECTION);
  const trusted = vscode.workspace.isTrusted;
  const ignored: string[] = [];
  const mode = config.inspect<string>('approval');
  const folderMode = trusted ? (mode?.workspaceFolderValue ?? mode?.workspaceValue) : undefined;
  let chosen = asMode(mode?.globalValue) ?? 'ask';
  if (folderMode === 'auto') ignored.push('backgroundAgent.approval "auto" in this workspace\'s settings is ignored: only user settings can turn approvals off');
  else if (asMode(folderMode)) chosen = asMode(folderMode) as ApprovalMode;
  const allow = config.inspect<string[]>('allowCommands');
  const folderAllow = trusted ? [...list(allow?.workspaceValue), ...list(allow?.workspaceFolderValue)] : [];
  const folderRegexes = folderAllow.filter(isRegexRule);
  if (folderRegexes.length > 0) ignored.push(`this workspace's /regex/ allow rules are ignored (only user settings may hold them): ${folderRegexes.join(', ')}`);
  const deny = config.inspect<string[]>('denyCommands');
  return {
    settings: {
      mode: chosen,
      allowCommands: unique([...list(allow?.globalValue), ...folderAllow.filter((rule) => !isRegexRule(rule))]),
      denyCommands: unique([...list(deny?.globalValue), ...list(deny?.workspaceValue), ...list(deny?.workspaceFolderValue)]),
      trusted,
      workspaceFolder: (vscode.workspace.workspaceFolders?.length ?? 0) > 0,
    },
    ignored,
  };
}

/** Keeps the policy in step with the settings and with workspace trust (granted without a reload). */
export function watchApprovalSettings(policy: ApprovalPolicy, log: vscode.LogOutputChannel): vscode.Disposable {
  let logged = '';
  const apply = (): void => {
    const { settings, ignored } = readApprovalSettings();
    policy.update(settings);
    // Said once per change of what is wrong, not on every settings event.
    const problems = [...ignored, ...policy.ruleErrors.map((error) => `${error}; the rule is ignored`)].join('\n');
    if (problems && problems !== logged) for (const line of problems.split('\n')) log.warn(`Approval settings: ${line}.`);
    logged = problems;
  };
  apply();
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION)) apply();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(apply),
  );
}

let storing: Promise<void> = Promise.resolve();

/**
 * Always Allow, stored where the person will find it: the command's rules in this workspace's
 * `allowCommands`, or `approval: allowEdits` for writes. One store at a time, so that two chats answering
 * at once do not overwrite each other's rule. With no folder open nothing is stored (the rule lasts for
 * this window): user settings would carry it into every workspace.
 */
export function storeAlwaysAllow(request: ApprovalRequest): Promise<void> {
  const stored = storing.then(() => store(request));
  // The next store waits for this one, whether it failed or not; the caller hears of a failure.
  storing = stored.catch(() => undefined);
  return stored;
}

async function store(request: ApprovalRequest): Promise<void> {
  if (!vscode.workspace.workspaceFolders?.length) return;
  const config = vscode.workspace.getConfiguration(SECTION);
  const target = vscode.ConfigurationTarget.Workspace;
  if (request.kind === 'write') {
    await config.update('approval', 'allowEdits', target);
    return;
  }
  const current = list(config.inspect<string[]>('allowCommands')?.workspaceValue);
  const added = (request.rules ?? []).filter((rule) => !current.includes(rule));
  if (added.length > 0) await config.update('allowCommands', [...current, ...added], target);
}

function asMode(value: unknown): ApprovalMode | undefined {
  return APPROVAL_MODES.find((mode) => mode === value);
}

function isRegexRule(rule: string): boolean {
  const parsed = parseRule(rule);
  return parsed.ok && parsed.rule.kind === 'regex';
}

/** A setting's value as a list of rules, whatever a hand-edited settings.json holds. */
function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((rule): rule is string => typeof rule === 'string') : [];
}

function unique(rules: string[]): string[] {
  return [...new Set(rules)];
}
