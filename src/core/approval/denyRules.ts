// Deny rules must hold in every mode, `auto` included, where nothing else stands between the model and
// the shell. A rule matches a command as written and every command it wraps; by a path's last part
// (`/bin/rm`); with options and their values in between (`git -C . push`, `git --no-pager push` match
// `git push`). Where a word the rule needs is only known at run time (`git $x`), the answer is "unknown":
// the command then asks instead of running.
import type { CommandPart, SimpleCommand, Word } from './commandParts';
import type { CommandRule } from './commandRules';

export type DenyMatch = { kind: 'deny'; rule: string; part: string } | { kind: 'unknown'; rule: string; part: string } | undefined;

export function matchDenyRules(rules: readonly CommandRule[], command: string, parts: readonly CommandPart[]): DenyMatch {
  let unknown: DenyMatch;
  for (const rule of rules) {
    if (rule.kind === 'regex' && rule.regex.test(command)) return { kind: 'deny', rule: rule.text, part: command };
    for (const part of parts) {
      if (rule.kind === 'regex') {
        const texts = part.kind === 'command' ? formsOf(part).map((f) => f.text) : [part.text];
        if (texts.some((text) => rule.regex.test(text))) return { kind: 'deny', rule: rule.text, part: part.text };
        continue;
      }
      if (part.kind !== 'command') continue;
      for (const form of formsOf(part)) {
        const match = matchWords(rule.words, form.words);
        if (match === 'match') return { kind: 'deny', rule: rule.text, part: part.text };
        if (match === 'unknown') unknown ??= { kind: 'unknown', rule: rule.text, part: part.text };
      }
    }
  }
  return unknown;
}

/**
 * The denied program a command names in its arguments (`busybox rm x`, `echo rm x | sh`, `script -c 'rm x'`,
 * `alias x=rm`), or the rest of a denied command it may reach another way (`git -c alias.x=push x`): it may
 * run it where this check cannot see. Used in `auto`, where such a command would run unasked.
 */
export function mentionsDenied(rules: readonly CommandRule[], part: SimpleCommand): string | undefined {
  const tokens = part.words.slice(1).flatMap((word) => (word === undefined ? [] : word.split(/[\s=;&|()<>'"`$!,:]+/).map(lastPart)));
  for (const rule of rules) {
    if (rule.kind !== 'prefix') continue;
    if (tokens.includes(rule.words[0])) return rule.words[0];
    const sameProgram = part.words[0] !== undefined && lastPart(part.words[0]) === rule.words[0];
    const rest = rule.words.slice(1);
    if (sameProgram && rest.length > 0 && rest.every((word) => tokens.includes(word))) return rule.text;
  }
  return undefined;
}

/** The command as written and every command it wraps, outermost first. */
export function formsOf(command: SimpleCommand): SimpleCommand[] {
  const forms = [command];
  for (let inner = command.wrapped?.command; inner; inner = inner.wrapped?.command) forms.push(inner);
  return forms;
}

/**
 * The rule's first word against the command's name (or its last path part); each further rule word must
 * come next, with only options and the words right after options (their values) skipped in between.
 */
function matchWords(rule: readonly string[], words: readonly Word[]): 'match' | 'unknown' | 'no' {
  const name = words[0];
  if (name === undefined) return 'unknown';
  if (name !== rule[0] && lastPart(name) !== rule[0]) return 'no';
  let next = 1;
  let afterOption = false;
  for (let i = 1; i < words.length && next < rule.length; i++) {
    const word = words[i];
    if (word === undefined) return 'unknown';
    if (word === rule[next]) {
      next++;
      afterOption = false;
    } else if (word.startsWith('-') && word !== '--') {
      afterOption = !word.includes('=');
    } else if (afterOption) {
      afterOption = false;
    } else {
      return 'no';
    }
  }
  return next === rule.length ? 'match' : 'no';
}

function lastPart(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}
