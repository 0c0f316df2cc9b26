// Variables decide what commands do: `PATH=/tmp/evil ls`, `GIT_PAGER='rm -rf ~' git log`, `BASH_CMDS=([ls]=/bin/rm)`,
// `RIPGREP_CONFIG_PATH=x rg` (a config can add `--pre cmd`), `GCONV_PATH=. git log --encoding=x` (glibc
// loads a library from .), `HOME=.` (git then reads ./.gitconfig). Two rules:
//   - a variable given to a read-only command, or exported, must be one known to be harmless
//     (`LC_ALL=C grep`, `NO_COLOR=1 ls`, `GIT_PAGER=cat git log`);
//   - a plain shell assignment (`x=$(cat f)`) is fine unless it changes a variable the shell or the
//     programs it starts read: the sensitive names below, or one already in the environment (an inherited
//     variable stays exported, so assigning it changes what every later command gets).

const SENSITIVE = new RegExp(
  '^(PATH|HOME|ENV|BASH_\\w+|IFS|PS[1-4]|SHELLOPTS|BASHOPTS|PROMPT_COMMAND|CDPATH|TMPDIR|SHELL|GLOBIGNORE|EXECIGNORE' +
    '|LD_\\w+|DYLD_\\w+|GCONV_PATH|LOCPATH|NLSPATH|HOSTALIASES|TERMINFO|TERMINFO_DIRS|TERMCAP|MAGIC' +
    '|GIT_\\w+|XDG_CONFIG_HOME|XDG_CONFIG_DIRS|\\w*PAGER|EDITOR|VISUAL|BROWSER|LESSOPEN|LESSCLOSE|LESS' +
    '|NODE_OPTIONS|NODE_PATH|NPM_CONFIG_\\w+|npm_config_\\w+|PYTHON\\w*|PERL5\\w*|PERLLIB|RUBYOPT|RUBYLIB|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS' +
    '|RIPGREP_CONFIG_PATH|GREP_OPTIONS|TAR_OPTIONS|SSH_\\w+' +
    // zsh: arrays and hashes that decide which program or function a name runs, and what a bare redirection runs.
    '|path|fpath|cdpath|module_path|FPATH|MODULE_PATH|commands|functions|functions_source|aliases|galiases|saliases|dis_\\w+|builtins|READNULLCMD|NULLCMD|ZDOTDIR)$',
);

/** Always harmless in an environment: locale, colours, terminal size, time zone. */
const HARMLESS = /^(LC_\w+|LANG|LANGUAGE|TZ|NO_COLOR|FORCE_COLOR|CLICOLOR|CLICOLOR_FORCE|COLORTERM|TERM|COLUMNS|LINES|GREP_COLORS?|LS_COLORS|CI|NODE_ENV|DEBIAN_FRONTEND)$/;
/** A pager or editor that is one of these programs is harmless too (`GIT_PAGER=cat` is common and safe). */
const HARMLESS_PROGRAM = /^(cat|true|less|more|)$/;

function harmless(name: string, value: string | undefined): boolean {
  if (HARMLESS.test(name)) return true;
  return /(PAGER|EDITOR|VISUAL)$/.test(name) && value !== undefined && HARMLESS_PROGRAM.test(value);
}

/** Why giving `name=value` to a command (or exporting it) needs approval; undefined when it is harmless. */
export function whyPassedOn(name: string, value: string | undefined): string | undefined {
  return harmless(name, value) ? undefined : `it passes ${name} to the commands it runs, which can change what they run or do`;
}

/** Why assigning `name` in the shell needs approval: it is read by the shell or the programs it starts. */
export function whyRebinds(name: string, value: string | undefined, inherited: (name: string) => boolean): string | undefined {
  if (harmless(name, value)) return undefined;
  if (SENSITIVE.test(name)) return `it sets ${name}, which changes what commands run or what they do`;
  if (inherited(name)) return `it changes ${name}, which every later command gets from the environment`;
  return undefined;
}

/** Why `name=value` before a command the person allowed by rule needs approval: only the sensitive names. */
export function whySensitive(name: string, value: string | undefined): string | undefined {
  if (harmless(name, value) || !SENSITIVE.test(name)) return undefined;
  return `it sets ${name}, which changes what commands run or what they do`;
}
