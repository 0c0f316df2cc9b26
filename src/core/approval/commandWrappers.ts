// Commands that run another command: `env A=1 cmd`, `time cmd`, `timeout 5 cmd`, `xargs cmd`, `sudo cmd`.
// A rule judges what finally runs, so the wrapper and its options are peeled off. When a wrapper's options
// cannot be read (an option we do not know may take a value), where its command starts is unknown: then
// the command asks. `sh -c` and `eval` run a script, not a command: commandAnalysis parses those.
import type { Word } from './commandParts';

interface WrapperSpec {
  /** Options followed by a value (`-n 10`); `-n10` and `--signal=KILL` forms are understood too. */
  readonly valueOptions?: readonly string[];
  /** Options without a value. Anything else starting with `-` is unknown. */
  readonly flags?: readonly string[];
  /** Numeric flags such as nice's `-10`. */
  readonly numericFlags?: boolean;
  /** NAME=value words before the command (env). */
  readonly assignments?: boolean;
  /** Words the wrapper needs before the command (timeout's duration). */
  readonly positionals?: number;
  /** The command gets more arguments at run time (xargs reads them from stdin). */
  readonly appendsArgs?: boolean;
  /** Runs the command as another user: no allow rule for the inner command may approve it. */
  readonly elevates?: boolean;
}

const WRAPPERS: Readonly<Record<string, WrapperSpec>> = {
  env: {
    assignments: true,
    // Not -C/--chdir: the command would run in another folder (see readOnlyCommands' cd).
    valueOptions: ['-u', '--unset'],
    flags: ['-i', '--ignore-environment', '-0', '--null', '-v', '--debug', '-'],
  },
  nice: { valueOptions: ['-n', '--adjustment'], numericFlags: true },
  nohup: {},
  coproc: {},
  time: { flags: ['-p'] },
  timeout: {
    valueOptions: ['-s', '--signal', '-k', '--kill-after'],
    flags: ['--preserve-status', '--foreground', '-v', '--verbose'],
    positionals: 1,
  },
  stdbuf: { valueOptions: ['-i', '-o', '-e', '--input', '--output', '--error'] },
  command: { flags: ['-p'] },
  builtin: {},
  exec: { valueOptions: ['-a'], flags: ['-c', '-l'] },
  setsid: { flags: ['-f', '--fork', '-w', '--wait', '-c', '--ctty'] },
  ionice: { valueOptions: ['-c', '--class', '-n', '--classdata'], flags: ['-t', '--ignore'] },
  xargs: {
    appendsArgs: true,
    // Not --process-slot-var: it sets a variable of the command's choosing (PATH, even).
    valueOptions: ['-I', '-L', '-n', '-P', '-s', '-d', '-E', '-a', '--max-args', '--max-procs', '--delimiter', '--arg-file', '--replace', '--max-lines', '--max-chars', '--eof'],
    flags: ['-0', '--null', '-r', '--no-run-if-empty', '-t', '--verbose', '-x', '--exit', '-o', '--open-tty', '-i', '-e', '-l'],
  },
  sudo: {
    elevates: true,
    assignments: true,
    valueOptions: ['-u', '--user', '-g', '--group', '-h', '--host', '-p', '--prompt', '-C', '--close-from', '-U', '--other-user', '-r', '--role', '-t', '--type', '-D', '--chdir', '-R', '--chroot', '-T', '--command-timeout'],
    flags: ['-E', '--preserve-env', '-H', '--set-home', '-n', '--non-interactive', '-S', '--stdin', '-b', '--background', '-k', '--reset-timestamp', '-A', '--askpass', '-P', '--preserve-groups', '-i', '--login', '-s', '--shell'],
  },
  doas: { elevates: true, valueOptions: ['-u', '-C'], flags: ['-n', '-s'] },
  pkexec: { elevates: true, valueOptions: ['--user'], flags: ['--keep-cwd', '--disable-internal-agent'] },
  runuser: { elevates: true, valueOptions: ['-u', '--user', '-g', '--group', '-G', '--supp-group'], flags: [] },
};

export type Unwrapped =
  | { kind: 'none' }
  | {
      kind: 'command';
      wrapper: string;
      /** The wrapped command's words. */
      words: Word[];
      /** NAME=value given to the wrapped command through the wrapper (env, sudo). */
      assignments: Array<{ name: string; value: string | undefined }>;
      appendsArgs: boolean;
      elevates: boolean;
    }
  | { kind: 'unclear'; why: string };

/** The command a wrapper runs, or `none` when `words` is not a wrapper (or one that runs nothing: plain `env`). */
export function unwrap(words: readonly Word[]): Unwrapped {
  // `/usr/bin/env` is env: wrappers are known by their program name.
  const name = words[0]?.slice(words[0].lastIndexOf('/') + 1);
  if (name === undefined || !Object.prototype.hasOwnProperty.call(WRAPPERS, name)) return { kind: 'none' };
  const spec = WRAPPERS[name];
  // `command -v x` looks a name up; it runs nothing. Only options before the name count (`command rm -v` runs rm).
  if (name === 'command' && isLookup(words)) return { kind: 'none' };
  const assignments: Array<{ name: string; value: string | undefined }> = [];
  let i = 1;
  while (i < words.length) {
    const word = words[i];
    if (word === undefined) return { kind: 'unclear', why: `an option of \`${name}\` is only known at run time` };
    if (spec.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
      const at = word.indexOf('=');
      assignments.push({ name: word.slice(0, at), value: word.slice(at + 1) });
      i++;
      continue;
    }
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-' && !(spec.flags ?? []).includes('-')) break;
    const option = optionKind(word, spec);
    if (option === 'unknown') return { kind: 'unclear', why: `\`${name}\` is given an option this check does not know (${word})` };
    i += option === 'takes-next' ? 2 : 1;
  }
  i += spec.positionals ?? 0;
  if (i >= words.length) return { kind: 'none' };
  return { kind: 'command', wrapper: name, words: words.slice(i), assignments, appendsArgs: spec.appendsArgs ?? false, elevates: spec.elevates ?? false };
}

/** `command -v name` / `command -pV name`: the options before the first operand ask for a lookup. */
export function isLookup(words: readonly Word[]): boolean {
  for (const word of words.slice(1)) {
    if (word === undefined || !word.startsWith('-') || word === '--') return false;
    if (/^-[pvV]+$/.test(word) && /[vV]/.test(word)) return true;
  }
  return false;
}

function optionKind(word: string, spec: WrapperSpec): 'flag' | 'takes-next' | 'unknown' {
  if ((spec.flags ?? []).includes(word)) return 'flag';
  if (spec.numericFlags && /^-\d+$/.test(word)) return 'flag';
  for (const option of spec.valueOptions ?? []) {
    if (word === option) return 'takes-next';
    // `--signal=KILL`, and `-n10` for short options.
    if (word.startsWith(`${option}=`) || (option.length === 2 && !option.startsWith('--') && word.startsWith(option))) return 'flag';
  }
  return 'unknown';
}

/** Shells whose `-c` argument is a script: commandAnalysis parses it and judges every command in it. */
export const SCRIPT_SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash']);

/**
 * The script a shell runs with `-c` (`bash -lc 'npm test'`), `none` when it is not given one (it runs a
 * file or reads stdin: an ordinary command then), or unclear when options hide where it is.
 */
export function shellScript(words: readonly Word[]): { kind: 'script'; script: string } | { kind: 'none' } | { kind: 'unclear'; why: string } {
  let sawC = false;
  for (let i = 1; i < words.length; i++) {
    const word = words[i];
    if (word === undefined) return { kind: 'unclear', why: `\`${words[0]}\` is given an argument that is only known at run time` };
    if (sawC) return { kind: 'script', script: word };
    if (word === '--') return { kind: 'none' };
    if (word === '-o' || word === '+o' || word === '-O' || word === '+O') {
      i++;
      continue;
    }
    if (word === '--rcfile' || word === '--init-file') return { kind: 'unclear', why: `\`${words[0]} ${word}\` runs a start-up file` };
    if (/^[-+][A-Za-z]+$/.test(word)) {
      if (word.startsWith('-') && word.includes('c')) sawC = true;
      continue;
    }
    if (word.startsWith('--')) continue;
    return { kind: 'none' };
  }
  return sawC ? { kind: 'unclear', why: `\`${words[0]} -c\` is given no script` } : { kind: 'none' };
}
