// What a command line is made of, as the approval policy judges it: every simple command in it (also
// those inside `$(…)`, pipelines, subshells, `sh -c` scripts and wrappers), every redirection that writes
// a file, and whatever could not be read with certainty.

/** A word's value after quote removal; undefined when only running the command decides it ($x, *.ts). */
export type Word = string | undefined;

export interface Assignment {
  readonly name: string;
  /** Undefined when computed at run time. */
  readonly value: Word;
}

export interface SimpleCommand {
  readonly kind: 'command';
  /** The command as written (for messages and regex rules). */
  readonly text: string;
  /** Its name and arguments. */
  readonly words: readonly Word[];
  /** `NAME=value` words before it (or given through `env`). */
  readonly assignments: readonly Assignment[];
  /** An unquoted value only known at run time may become several words (or none): `test $x`, `printf $f`. */
  readonly splits?: boolean;
  /** The command a wrapper (env, time, timeout, xargs, sudo…) runs. */
  readonly wrapped?: WrappedCommand;
  /** `sh -c '…'` or `eval '…'`: the script's commands are parts of their own. */
  readonly runsScript?: boolean;
  /**
   * It runs commands this check cannot see (`bash script.sh`, `source x`, `xargs env`): why. Such a command
   * is judged by its own name, but no deny rule can be checked against what it runs.
   */
  readonly hidesCommands?: string;
}

export interface WrappedCommand {
  readonly wrapper: string;
  readonly command: SimpleCommand;
  /** xargs: the command gets more arguments at run time. */
  readonly appendsArgs: boolean;
  /** sudo and the like: only a rule naming the whole command as written can allow it. */
  readonly elevates: boolean;
}

/** A redirection that writes a file (`> out.txt`, `>> log`, `&> x`); `/dev/null` and friends are not writes. */
export interface FileWrite {
  readonly kind: 'write';
  readonly text: string;
  /** The file, when its name is known before the command runs. */
  readonly target: Word;
}

/** A standalone or exported assignment (`PATH=…;`, `export A=1`, `${X=v}`), which changes what later commands do. */
export interface ShellAssignment {
  readonly kind: 'assignment';
  readonly text: string;
  readonly assignment: Assignment;
  /** `export`, `declare -x`: every later command gets it in its environment. */
  readonly exported: boolean;
}

/** Something whose effect cannot be told from the text: it is never allowed by a rule. */
export interface UnreadablePart {
  readonly kind: 'unreadable';
  readonly text: string;
  readonly why: string;
}

export type CommandPart = SimpleCommand | FileWrite | ShellAssignment | UnreadablePart;
