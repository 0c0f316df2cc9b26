// The commands that run without asking under the default rules: they read, print or compute, and write
// nothing. Curated, each tested (test/unit/approval-commands.test.ts): a command with an option that
// writes or runs something (`sort -o`, `find -exec`, `rg --pre`, `git diff --output`, `date -s`) is
// listed with those options refused, in every spelling its parser accepts (`-uo x`, `-ox`, `--out=x`,
// `--compress-prog`: GNU long options may be abbreviated). Where an option would be enough to do harm,
// arguments must be known before the command runs: `find . $x` could be `find . -delete`, and a glob could
// match a file named `-delete`. Shell builtins that run a command or set a variable (`jobs -x`, `printf
// -v`, `set -k`, `test -v 'a[$(…)]'`) are refused those forms too.
import type { Word } from './commandParts';
import { isLookup } from './commandWrappers';

interface ReadOnlySpec {
  /** Options that make it write or run something (see `refuses` for the spellings matched). */
  readonly refuse?: readonly string[];
  /** Every argument must be known before it runs (no $x, no globs): an argument could be a refused option. */
  readonly staticArgs?: boolean;
  /** A check the options alone cannot express (git's subcommands, uniq's output file). */
  readonly check?: (args: readonly Word[]) => string | undefined;
}

const ANY: ReadOnlySpec = {};

const READ_ONLY: Readonly<Record<string, ReadOnlySpec>> = {
  // Reading and printing files and text.
  cat: ANY, head: ANY, tail: ANY, wc: ANY, ls: ANY, grep: ANY, egrep: ANY, fgrep: ANY, echo: ANY, pwd: ANY,
  diff: ANY, cmp: ANY, comm: ANY, cut: ANY, nl: ANY, tr: ANY, rev: ANY, fold: ANY, column: ANY, paste: ANY,
  expand: ANY, unexpand: ANY, od: ANY, hexdump: ANY, strings: ANY, jq: ANY, basename: ANY, dirname: ANY,
  realpath: ANY, readlink: ANY, stat: ANY, du: ANY, df: ANY, md5sum: ANY, sha1sum: ANY, sha256sum: ANY,
  sha512sum: ANY, b2sum: ANY, cksum: ANY,
  // About the machine and the shell.
  whoami: ANY, id: ANY, uname: ANY, nproc: ANY, uptime: ANY, which: ANY, type: ANY, printenv: ANY,
  pgrep: ANY, true: ANY, false: ANY, ':': ANY, sleep: ANY, exit: ANY, return: ANY,
  // BSD-style `ps e` / `ps eww` prints every process's environment (the key, where it is set).
  ps: { check: (args) => (args.some((a) => a === undefined || (!a.startsWith('-') && a.includes('e')) || a.includes('env')) ? '`ps e` shows the environment of processes, which can hold the API key' : undefined) },
  // Read-only unless given an option that writes or runs something.
  find: { staticArgs: true, refuse: ['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fprint', '-fprint0', '-fprintf', '-fls'] },
  sort: { staticArgs: true, refuse: ['-o', '--output', '--compress-program'] },
  uniq: { staticArgs: true, check: (args) => (operands(args).length > 1 ? 'its second file name is a file it writes' : undefined) },
  rg: { staticArgs: true, refuse: ['--pre', '--hostname-bin'] },
  file: { staticArgs: true, refuse: ['-C', '--compile'] },
  tree: { staticArgs: true, refuse: ['-o', '-R'] },
  xxd: { staticArgs: true, check: xxdCheck },
  // `date 0101000030` (an operand that is not a +FORMAT) sets the clock, like -s.
  date: { staticArgs: true, refuse: ['-s', '--set'], check: (args) => (args.some((a) => a !== undefined && !a.startsWith('-') && !a.startsWith('+')) ? '`date MMDDhhmm` sets the clock' : undefined) },
  printf: { refuse: ['-v'], check: (args) => (args[0] === undefined && args.length > 0 ? 'its format is only known at run time (it could be `-v NAME`, which sets a variable)' : undefined) },
  env: { staticArgs: true, check: (args) => (args.length > 0 ? 'it runs a command or changes the environment' : undefined) },
  set: { staticArgs: true, check: setCheck },
  command: { check: (args) => (isLookup(['command', ...args]) ? undefined : 'it runs a command') },
  wait: { refuse: ['-p'] },
  test: { check: testCheck },
  '[': { check: testCheck },
  cd: { check: cdCheck },
  git: { staticArgs: true, check: gitCheck },
};

/** git subcommands that only read (no network); each may still be refused an option below. */
const GIT_READ_ONLY = new Set(['status', 'diff', 'log', 'show', 'blame', 'ls-files', 'ls-tree', 'rev-parse', 'describe', 'shortlog', 'cat-file', 'grep', 'branch', 'remote', 'tag', 'rev-list', 'reflog', 'stash']);
/** `git branch x` creates a branch, `git remote add` a remote, `git remote show` contacts it: these only list. */
const GIT_LISTING_ONLY: Readonly<Record<string, RegExp>> = {
  branch: /^(-a|--all|-r|--remotes|-v|-vv|--verbose|--list|--show-current|--no-color|--color|-l)$/,
  remote: /^(-v|--verbose)$/,
  tag: /^(-l|--list)$/,
  reflog: /^(show|-n\d*|--oneline|-\d+)$/,
  // Bare `git stash` and `git stash -p` stash the changes: the first word must be list or show.
  stash: /^(list|show|-p|--patch|--stat|--name-only|stash@\{\d+\}|\d+)$/,
};
/** Options that write a file or run a program, by subcommand (`*`: every read-only subcommand). */
const GIT_REFUSED: Readonly<Record<string, readonly string[]>> = {
  // --show-signature runs gpg.
  '*': ['--output', '--ext-diff', '--exec', '--show-signature'],
  grep: ['-O', '--open-files-in-pager'],
  // Filters and textconv drivers are programs, chosen by the repository's .gitattributes.
  'cat-file': ['--filters', '--textconv'],
};

function gitCheck(given: readonly Word[]): string | undefined {
  // Harmless options before the subcommand; any other (`-c core.pager=…`, `-C dir`, `--exec-path`) can change what git runs.
  let first = 0;
  while (given[first] === '--no-pager' || given[first] === '--no-optional-locks') first++;
  const args = given.slice(first);
  const sub = args[0];
  if (sub === undefined || sub.startsWith('-')) return 'options before the git subcommand can change what git runs';
  if (!GIT_READ_ONLY.has(sub)) return `\`git ${sub}\` is not one of the read-only git commands`;
  const rest = args.slice(1) as string[];
  const listing = GIT_LISTING_ONLY[sub];
  const bareChanges = sub === 'stash' && rest[0] !== 'list' && rest[0] !== 'show';
  if (listing && (bareChanges || !rest.every((a) => listing.test(a)))) return `\`git ${sub}\` with these arguments can change the repository or contact a remote`;
  const refused = [...GIT_REFUSED['*'], ...(GIT_REFUSED[sub] ?? [])];
  const writes = rest.find((arg) => refused.some((option) => refuses(option, arg)));
  return writes ? `\`git ${sub} ${writes}\` writes a file or runs a program` : undefined;
}

/** xxd's options that take the next word as their value (`-l 16`), in every spelling xxd accepts. */
const XXD_VALUE_OPTIONS = /^--?(c|cols|g|groupsize|l|len|o|offset|s|seek|n|name)$/;

/** xxd writes its second file name, and `-r` (also spelled `-revert`, `--r`) turns a dump back into bytes. */
function xxdCheck(args: readonly Word[]): string | undefined {
  let files = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    // Options come first; after `--` or the first file name, every word is a file name, whatever it looks like.
    if (files === 0 && arg === '--') {
      files = args.length - i - 1;
      break;
    }
    if (files > 0 || !arg.startsWith('-') || arg === '-') {
      files++;
      continue;
    }
    if (/^--?r/.test(arg)) return '`xxd -r` writes bytes back';
    if (XXD_VALUE_OPTIONS.test(arg)) i++;
  }
  return files > 1 ? 'its second file name is a file it writes' : undefined;
}

/** Only shell options that change no variable and run nothing (`set -k` turns later words into environment). */
function setCheck(args: readonly Word[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (/^[-+][euxvE]+$/.test(arg) || /^[-+][euxvE]*o$/.test(arg) && /^(pipefail|errexit|nounset|xtrace|verbose|errtrace)$/.test(args[++i] ?? '')) continue;
    return `\`set ${arg}\` changes more than error handling and tracing`;
  }
  return undefined;
}

/**
 * `test -v 'a[$(cmd)]'` runs cmd (the index is arithmetic). A value only known at run time must sit where
 * it cannot become an operator: `[ -f "$f" ]`, `[ "$a" = "$b" ]`; anything else asks.
 */
function testCheck(given: readonly Word[]): string | undefined {
  const args = given.at(-1) === ']' ? given.slice(0, -1) : given;
  if (args.includes('-v')) return '`test -v` evaluates an array index, which can run commands';
  if (args.every((a) => a !== undefined)) return undefined;
  const operatorsKnown = args.length === 1 || (args.length === 2 && args[0] !== undefined) || (args.length === 3 && args[1] !== undefined);
  return operatorsKnown ? undefined : 'a value only known at run time could become an operator of test';
}

/** Into a folder of the workspace only: git and others read the configuration of the folder they run in. */
function cdCheck(args: readonly Word[]): string | undefined {
  const [dir] = args;
  if (args.length !== 1 || dir === undefined || /^[-~/]/.test(dir) || dir.split('/').includes('..')) return 'it may leave the workspace folder';
  return undefined;
}

/** GNU style: options first (`--` ends them), then operands. */
function operands(args: readonly Word[]): Word[] {
  const end = args.indexOf('--');
  const before = end < 0 ? args : args.slice(0, end);
  return [...before.filter((a) => a === undefined || !a.startsWith('-') || a === '-'), ...(end < 0 ? [] : args.slice(end + 1))];
}

export interface Refusal {
  readonly why: string;
  /**
   * An allow rule for the command would be what the person means: it is not on the list (`npm test`) or
   * not a read-only subcommand (`git commit`). False for a refused option or argument of a listed command:
   * a rule for `rg` would let `rg --pre` through.
   */
  readonly ruleHelps: boolean;
}

/**
 * Why `words` is not a read-only command (undefined: it is). `appendsArgs`: it gets more arguments at run
 * time (from xargs); `splits`: an unquoted value may become several arguments. Both are like arguments
 * only known then.
 */
export function whyNotReadOnly(words: readonly Word[], appendsArgs = false, splits = false): Refusal | undefined {
  const name = words[0];
  if (name === undefined) return { why: 'its name is only known at run time', ruleHelps: false };
  if (!Object.prototype.hasOwnProperty.call(READ_ONLY, name)) return { why: `\`${name}\` is not on the allow list`, ruleHelps: true };
  const spec = READ_ONLY[name];
  const args = words.slice(1);
  if ((spec.staticArgs || spec.check) && (appendsArgs || splits || (spec.staticArgs && args.some((a) => a === undefined)))) {
    return { why: `\`${name}\` is given arguments only known at run time, which could be options that write or run something`, ruleHelps: false };
  }
  for (const arg of args) {
    if (arg === undefined) continue;
    const refused = spec.refuse?.find((option) => refuses(option, arg));
    if (refused) return { why: `\`${name} ${refused}\` writes a file or runs a command`, ruleHelps: false };
  }
  const why = spec.check?.(args);
  return why === undefined ? undefined : { why, ruleHelps: NOT_A_READ_ONLY_SUBCOMMAND.test(why) };
}

/** gitCheck's sentence for a subcommand that is not read-only (`git commit`): a rule for it is what the person means. */
const NOT_A_READ_ONLY_SUBCOMMAND = /is not one of the read-only git commands$/;

/**
 * How a parser may be given `option`: `--output` as itself, `--output=x`, or any prefix GNU getopt_long
 * accepts (`--out`, `--o`); a one-letter `-o` anywhere in a cluster (`-uo`, `-ox`, `-u.o`) or attached
 * (`-ofile`); a long single-dash option (`-exec`) only as itself.
 */
export function refuses(option: string, arg: string): boolean {
  if (arg === option) return true;
  if (option.startsWith('--')) {
    const name = arg.split('=')[0];
    return name.startsWith('--') && name.length >= 3 && option.startsWith(name);
  }
  if (option.length === 2) return arg.startsWith('-') && !arg.startsWith('--') && arg.slice(1).includes(option[1]);
  return false;
}

/** Listed commands that can run an argument as a program: git through aliases (`git -c alias.x='!cmd' x`), env and command when not just looking. */
const RUNS_ARGUMENTS = new Set(['git', 'env', 'command']);

/** A read-only command never runs one of its arguments as a program: deny rules need no look at its arguments. */
export function runsNoArguments(name: string | undefined): boolean {
  return name !== undefined && !RUNS_ARGUMENTS.has(name) && Object.prototype.hasOwnProperty.call(READ_ONLY, name);
}

/** The built-in list, for the README and the tests. */
export const READ_ONLY_COMMAND_NAMES: readonly string[] = Object.keys(READ_ONLY);
