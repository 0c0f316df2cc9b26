// Allow and deny rules: a command prefix by whole words (`npm test` matches `npm test -- --watch`, not
// `npm tests`), or `/regex/` (flags after the last slash) tested against each simple command's text.
// `npm run build:*` and `npm test *` (Claude Code's spelling) mean the prefix before the `*`.
import type { SimpleCommand, Word } from './commandParts';

export type CommandRule =
  | { readonly kind: 'prefix'; readonly text: string; readonly words: readonly string[] }
  | { readonly kind: 'regex'; readonly text: string; readonly regex: RegExp };

export type ParsedRule = { ok: true; rule: CommandRule } | { ok: false; message: string };

export function parseRule(given: string): ParsedRule {
  const text = given.trim();
  if (text === '') return { ok: false, message: 'a rule must not be empty' };
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (regex) {
    if (/[^imsu]/.test(regex[2])) return { ok: false, message: `the rule ${text} has flags a command rule cannot use (only i, m, s, u)` };
    try {
      return { ok: true, rule: { kind: 'regex', text, regex: new RegExp(regex[1], regex[2]) } };
    } catch (error) {
      return { ok: false, message: `the rule ${text} is not a valid regular expression (${error instanceof Error ? error.message : String(error)})` };
    }
  }
  const words = text.replace(/(:\*|\s+\*)$/, '').split(/\s+/).filter(Boolean);
  if (words.length === 0) return { ok: false, message: `the rule ${text} names no command` };
  return { ok: true, rule: { kind: 'prefix', text, words } };
}

/** Valid rules, plus one sentence per rule that was left out. */
export function parseRules(texts: readonly string[]): { rules: CommandRule[]; errors: string[] } {
  const rules: CommandRule[] = [];
  const errors: string[] = [];
  for (const text of texts) {
    const parsed = parseRule(text);
    if (parsed.ok) rules.push(parsed.rule);
    else errors.push(parsed.message);
  }
  return { rules, errors };
}

/** A prefix rule needs every one of its words matched by a word known before the command runs. */
export function ruleMatches(rule: CommandRule, command: Pick<SimpleCommand, 'text' | 'words'>): boolean {
  if (rule.kind === 'regex') return rule.regex.test(command.text);
  if (command.words.length < rule.words.length) return false;
  return rule.words.every((word, i) => command.words[i] === word);
}

/** Tools whose second word is a subcommand (`git commit`, `cargo test`); for others it is an operand. */
const SUBCOMMAND_TOOLS = new Set([
  'npm', 'pnpm', 'yarn', 'bun', 'deno', 'cargo', 'go', 'git', 'gh', 'docker', 'podman', 'kubectl', 'helm', 'make', 'pip',
  'pip3', 'poetry', 'uv', 'pipenv', 'conda', 'dotnet', 'mvn', 'gradle', './gradlew', 'terraform', 'brew', 'apt', 'apt-get',
  'systemctl', 'rustup', 'bundle', 'rails', 'rake', 'mix', 'composer', 'swift', 'flutter', 'dart', 'nx', 'turbo', 'just',
]);
/** `npm run build`, `docker compose up`: the third word names what runs. */
const RUNNER_SUBCOMMANDS = new Set(['run', 'run-script', 'exec', 'compose', 'workspace', 'dlx']);

/**
 * The rule Always Allow stores for a command: its name, plus the subcommand for tools that have them
 * (`npm test`, `git commit`), plus the script for runners (`npm run build`, `docker compose up`). Undefined
 * when the name itself is only known at run time.
 */
export function suggestedRule(words: readonly Word[]): string | undefined {
  const name = words[0];
  if (name === undefined || name === '' || /\s/.test(name)) return undefined;
  const prefix = [name];
  const isWord = (word: Word): word is string => word !== undefined && /^[A-Za-z][A-Za-z0-9:_@.+-]*$/.test(word);
  if (SUBCOMMAND_TOOLS.has(name) && isWord(words[1])) {
    prefix.push(words[1]);
    if (RUNNER_SUBCOMMANDS.has(words[1]) && isWord(words[2])) prefix.push(words[2]);
  }
  return prefix.join(' ');
}

/** A command's words as one line, for a command that only exists inside another (`find -exec rm {} ;`). */
export function wordsText(words: readonly Word[]): string {
  return words.map((word) => word ?? '…').join(' ');
}
