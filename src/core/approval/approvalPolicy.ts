// The one approval policy every command and every file write passes, in the chat and in the CLI alike.
//   mode `ask` (default): commands not allowed by a rule, and every write, ask the person first;
//   `allowEdits`: writes inside the workspace go through, commands as in `ask`;
//   `auto`: everything runs except what a deny rule names.
// A deny rule refuses in every mode. Not trusted (VS Code's Restricted Mode): nothing runs, nothing is written.
// A command is judged part by part (commandAnalysis): every part must be allowed on its own.
import { taskShell } from '../tasks/directSpawn';
import { analyzeCommand } from './commandAnalysis';
import type { CommandPart, SimpleCommand } from './commandParts';
import { parseRules, ruleMatches, suggestedRule, type CommandRule } from './commandRules';
import { formsOf, matchDenyRules, mentionsDenied } from './denyRules';
import { runsNoArguments, whyNotReadOnly } from './readOnlyCommands';
import { whyPassedOn, whyRebinds, whySensitive } from './sensitiveVariables';
import { loadShellParser, type ShellParser } from './shellParser';

export type ApprovalMode = 'ask' | 'allowEdits' | 'auto';
export const APPROVAL_MODES: readonly ApprovalMode[] = ['ask', 'allowEdits', 'auto'];

export interface ApprovalSettings {
  readonly mode: ApprovalMode;
  readonly allowCommands: readonly string[];
  readonly denyCommands: readonly string[];
  /** False in VS Code's Restricted Mode: the agent may only read. */
  readonly trusted: boolean;
  /**
   * False when no folder is open and the agent works in the home folder: every write asks there (in
   * anything but `auto`), since it holds the person's settings and shell start-up files. Default true.
   */
  readonly workspaceFolder?: boolean;
}

export interface ApprovalPolicyOptions {
  /** Default: the WASM parser, loaded on first use. */
  parser?: () => Promise<ShellParser>;
  /** The shell that runs the commands (its dialect decides how text is read). Default: the tasks' shell. */
  shell?: string;
  /** Whether a variable is in the environment commands inherit. Default: this process's environment. */
  inherited?: (name: string) => boolean;
}

/** A part of a command that needs the person's approval, and why. */
export interface AskedPart {
  readonly text: string;
  readonly why: string;
}

export type CommandVerdict =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny'; readonly rule: string; readonly part: string }
  | {
      readonly kind: 'ask';
      readonly parts: readonly AskedPart[];
      /** What Always Allow stores; undefined when no rule could let this command through (a redirect, `sudo`, …). */
      readonly rules: readonly string[] | undefined;
    }
  | { readonly kind: 'restricted' };

export type WriteVerdict =
  | { readonly kind: 'allow' }
  | { readonly kind: 'ask'; readonly why: string; /** False for files no mode lets through unasked. */ readonly canAlwaysAllow: boolean }
  | { readonly kind: 'restricted' };

/**
 * Files whose change can widen what the agent may do: the workspace's settings, git configuration and hooks
 * of any repository in it (a nested `sub/.git/config` with `core.fsmonitor` runs on `git status`), and a
 * `HEAD` at the top, which with `config`, `objects/` and `refs/` beside it makes the folder itself a
 * repository whose configuration `git status` would follow.
 */
const PROTECTED_PATH = /^\.vscode(\/|$)|(^|\/)\.git(\/|$)|\.code-workspace$|^HEAD$/i;

/** Commands that change the folder the rest of a command line runs in. */
const CHANGES_FOLDER = new Set(['cd', 'pushd', 'popd']);

interface Judged {
  readonly why: string;
  /** The rule that would allow this part, or undefined when no rule can. */
  readonly rule: string | undefined;
}

export class ApprovalPolicy {
  private current: ApprovalSettings;
  /** Always Allow answers of this window or CLI run, kept apart so that a settings update keeps them. */
  private session: string[] = [];
  private allow: CommandRule[] = [];
  private deny: CommandRule[] = [];
  private errors: string[] = [];
  private readonly parser: () => Promise<ShellParser>;
  private readonly shell: string;
  private readonly inherited: (name: string) => boolean;

  constructor(settings: ApprovalSettings, options: ApprovalPolicyOptions = {}) {
    this.current = settings;
    this.parser = options.parser ?? (() => loadShellParser());
    this.shell = options.shell ?? taskShell();
    this.inherited = options.inherited ?? ((name) => Object.prototype.hasOwnProperty.call(process.env, name));
    this.apply(settings);
  }

  get settings(): ApprovalSettings {
    return this.current;
  }

  /** Rules that were left out because they cannot be read, one sentence each. */
  get ruleErrors(): readonly string[] {
    return this.errors;
  }

  update(settings: ApprovalSettings): void {
    this.current = settings;
    this.apply(settings);
  }

  /** Always Allow: the rules count for the rest of this window or run, whatever the settings say. */
  addAllowRules(rules: readonly string[]): void {
    this.session = [...new Set([...this.session, ...rules])];
    this.apply(this.current);
  }

  /** The rules Always Allow added (they are also stored in the settings where the front end can). */
  get sessionRules(): readonly string[] {
    return this.session;
  }

  setMode(mode: ApprovalMode): void {
    this.update({ ...this.current, mode });
  }

  /** `elsewhere`: it starts in a folder other than the workspace's own (background_run's `cwd`). */
  async judgeCommand(command: string, options: { elsewhere?: boolean } = {}): Promise<CommandVerdict> {
    if (!this.current.trusted) return { kind: 'restricted' };
    const parts = analyzeCommand(await this.parser(), command, this.shell);
    const denied = matchDenyRules(this.deny, command, parts);
    if (denied?.kind === 'deny') return { kind: 'deny', rule: denied.rule, part: denied.part };
    const asked: Array<AskedPart & { rule: string | undefined }> = [];
    const ask = (text: string, judged: Judged | undefined): void => {
      if (judged && !asked.some((a) => a.text === text && a.why === judged.why)) asked.push({ text, ...judged });
    };
    if (denied) ask(denied.part, { why: `the deny rule "${denied.rule}" may apply, but a word it needs is only known at run time`, rule: undefined });
    const auto = this.current.mode === 'auto';
    // git reads the configuration of the repository it runs in (a nested one may run programs):
    // after a `cd`, or from another folder, a read-only git command asks.
    // Anywhere in the line, not only before: a loop or a function can run git after a `cd` written after it.
    const moved = (options.elsewhere ?? false) || parts.some((part) => part.kind === 'command' && formsOf(part).some((form) => CHANGES_FOLDER.has(form.words[0] ?? '')));
    for (const part of parts) ask(part.text, (auto ? undefined : this.judge(part, moved)) ?? this.uncheckedByDenyRules(part, auto));
    if (asked.length === 0) return { kind: 'allow' };
    const rules = asked.every((a) => a.rule !== undefined) ? [...new Set(asked.map((a) => a.rule as string))] : undefined;
    return { kind: 'ask', parts: asked.map(({ text, why }) => ({ text, why })), rules };
  }

  judgeWrite(relativePath: string): WriteVerdict {
    if (!this.current.trusted) return { kind: 'restricted' };
    const path = relativePath.replace(/\\/g, '/');
    if (this.current.mode === 'auto') return { kind: 'allow' };
    if (this.current.workspaceFolder === false) return { kind: 'ask', why: 'no folder is open, so the agent works in your home folder, where every change asks', canAlwaysAllow: false };
    if (PROTECTED_PATH.test(path)) return { kind: 'ask', why: 'it changes settings, git configuration or hooks, which could widen what the agent may do', canAlwaysAllow: false };
    if (this.current.mode === 'allowEdits') return { kind: 'allow' };
    return { kind: 'ask', why: 'every file change asks first (approval mode "ask")', canAlwaysAllow: true };
  }

  private apply(settings: ApprovalSettings): void {
    const allow = parseRules([...settings.allowCommands, ...this.session]);
    const deny = parseRules(settings.denyCommands);
    this.allow = allow.rules;
    this.deny = deny.rules;
    this.errors = [...allow.errors, ...deny.errors];
  }

  /**
   * What could hide a denied command asks while deny rules exist, even where nothing else would (in `auto`,
   * or allowed by a rule): a computed name, a script this check cannot see; and in `auto`, where no
   * read-only check looks at arguments, a command that can run its arguments (anything but a read-only
   * one) given a denied name (`busybox rm`, `git -c alias.x=push x`) or values only known at run time.
   */
  private uncheckedByDenyRules(part: CommandPart, auto: boolean): Judged | undefined {
    if (this.deny.length === 0) return undefined;
    const cannotCheck = (why: string): Judged => ({ why: `${why}, so the deny rules cannot be checked`, rule: undefined });
    // Unreadable parts already ask outside `auto`.
    if (part.kind === 'unreadable') return auto ? cannotCheck(part.why) : undefined;
    if (part.kind !== 'command') return undefined;
    for (const form of formsOf(part)) {
      if (form.words[0] === undefined) return cannotCheck('its name is only known at run time');
      if (form.hidesCommands) return cannotCheck(form.hidesCommands);
      // In `auto` nothing else looks at what a program is given; read-only commands run none of it.
      if (!auto || runsNoArguments(form.words[0])) continue;
      if (form.words.some((word) => word === undefined) || form.assignments.some((a) => a.value === undefined)) {
        return cannotCheck('it is given values only known at run time, which could name a command a deny rule forbids');
      }
      const mentioned = mentionsDenied(this.deny, form);
      if (mentioned) return cannotCheck(`it is given \`${mentioned}\`, which could name a command a deny rule forbids, and may run it`);
    }
    return undefined;
  }

  private judge(part: CommandPart, moved: boolean): Judged | undefined {
    switch (part.kind) {
      case 'unreadable':
        return { why: part.why, rule: undefined };
      case 'write':
        return { why: part.target === undefined ? 'it writes to a file whose name is only known at run time' : `it writes to the file ${part.target}`, rule: undefined };
      case 'assignment': {
        const { name, value } = part.assignment;
        const why = part.exported ? whyPassedOn(name, value) : whyRebinds(name, value, this.inherited);
        return why ? { why, rule: undefined } : undefined;
      }
      case 'command':
        return this.judgeCommandPart(part, false, moved);
    }
  }

  private judgeCommandPart(command: SimpleCommand, appendsArgs: boolean, moved: boolean): Judged | undefined {
    const byRule = this.allow.some((rule) => ruleMatches(rule, command));
    // A command the person allowed runs project code anyway: only what changes which program runs asks.
    // A built-in read-only command must get nothing that could change what it does.
    for (const { name, value } of command.assignments) {
      const why = byRule ? whySensitive(name, value) : whyPassedOn(name, value);
      if (why) return { why, rule: undefined };
    }
    if (byRule) return undefined;
    // `bash x.sh`, `xargs -I{} sh -c '… {} …'`: what runs is not on the command line.
    // No rule is offered: one for `xargs` or `bash` would let every such hidden command through.
    if (command.hidesCommands) return { why: command.hidesCommands, rule: undefined };
    if (command.runsScript) return undefined;
    const wrapped = command.wrapped;
    if (wrapped?.elevates) return { why: `\`${wrapped.wrapper}\` runs it as another user`, rule: suggestedRule(command.words) };
    if (wrapped) return this.judgeCommandPart(wrapped.command, appendsArgs || wrapped.appendsArgs, moved);
    if (moved && command.words[0] === 'git') return { why: 'git after `cd` (or in another folder) reads the configuration of the repository there, which can run programs', rule: suggestedRule(command.words) };
    // Reading /proc/<pid>/environ (or the like) would show the environment of the processes around it, key included.
    if (/\/proc\//.test(command.text)) return { why: 'it reads process information under /proc, which can hold the API key', rule: undefined };
    const refusal = whyNotReadOnly(command.words, appendsArgs, command.splits);
    // A rule for `rg` would let `rg --pre x` through: no rule is offered for a refused option.
    return refusal ? { why: refusal.why, rule: refusal.ruleHelps ? suggestedRule(command.words) : undefined } : undefined;
  }
}
