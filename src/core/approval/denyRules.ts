// Deny rules must hold in every mode, `auto` included, where nothing else stands between the model and
// the shell. A rule matches a command as written and every command it wraps; by a path's last part
// (`/bin/rm`); in any letter case and without `.exe` (`RM`, `Git.exe` run the same program on macOS and
// Windows); with options and their values in between (`git -C . push`, `git --no-pager push` match
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
  // Its arguments and the values of the variables it gets (`GIT_CONFIG_VALUE_0=push git x`), read as a shell
  // would read them again: quotes and backslashes gone (`r""m`, `\\rm`), split at blanks and separators.
  const texts = [...part.words.slice(1), ...part.assignments.map((a) => a.value)].filter((t): t is string => t !== undefined);
  const tokens = texts.flatMap((text) => text.replace(/["'\\]/g, '').split(/[\s=;&|()<>`$!,:]+/).map(programName));
  // A pattern (`/bin/r?`, `r[m]`) may name a denied program once the shell expands it.
  const pattern = tokens.find((token) => /[*?[]/.test(token));
  if (pattern) return pattern;
  for (const rule of rules) {
    if (rule.kind !== 'prefix') continue;
    const [program, ...rest] = rule.words.map((word) => word.toLowerCase());
    if (tokens.includes(program)) return rule.words[0];
    const sameProgram = part.words[0] !== undefined && programName(part.words[0]) === program;
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
function matchWords(given: readonly string[], words: readonly Word[]): 'match' | 'unknown' | 'no' {
  const rule = given.map((word) => word.toLowerCase());
  const name = words[0];
  if (name === undefined) return 'unknown';
  if (programName(name) !== rule[0]) return 'no';
  let next = 1;
  let afterOption = false;
  for (let i = 1; i < words.length && next < rule.length; i++) {
    const word = words[i];
    if (word === undefined) return 'unknown';
    if (word.toLowerCase() === rule[next]) {
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

/** `/bin/RM`, `C:\\Tools\\Git.exe` → `rm`, `git`: the program a word names, as a case-insensitive system finds it. */
function programName(word: string): string {
  return word.slice(Math.max(word.lastIndexOf('/'), word.lastIndexOf('\\')) + 1).toLowerCase().replace(/\.(exe|cmd|bat|com)$/, '');
}
