// Which shell runs a command decides how its text is read. The policy parses with tree-sitter's bash
// grammar; other shells read some text differently, and where that difference could run something the
// bash reading does not show, that text is not judged as readable:
//   zsh: glob qualifiers `*(e:'cmd':)` run code, `=cmd` expands to a path, `${(e)x}` evaluates;
//   POSIX sh (dash, ash, ksh…): `$'…'` is no quoting there (`sh -c "echo \$'\\'; touch p #'"` runs touch);
//   others (fish, PowerShell, cmd, csh…): only a command of plain words means the same everywhere.
import { win32 } from 'node:path';

export type ShellDialect = 'bash' | 'zsh' | 'posix' | 'other';

/** The dialect of a shell's path, on any OS: `\` and `/` both separate (win32's basename reads both). */
export function dialectOf(shell: string): ShellDialect {
  const name = win32.basename(shell).toLowerCase().replace(/\.exe$/, '');
  if (name === 'bash') return 'bash';
  if (name === 'zsh') return 'zsh';
  if (['sh', 'dash', 'ash', 'ksh', 'mksh', 'pdksh', 'yash', 'posh'].includes(name)) return 'posix';
  return 'other';
}

/** Text every shell reads as the same plain words: letters, digits, spaces and a few harmless marks. */
export function isPlainWords(command: string): boolean {
  return /^[A-Za-z0-9_./:@%+,= -]+$/.test(command);
}
