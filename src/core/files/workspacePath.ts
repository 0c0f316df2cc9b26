// Which real file a path the model named stands for, and whether it is inside the workspace. `..` is
// resolved first, then the nearest existing ancestor goes through realpath, so a symlink pointing outside
// cannot be used as a door. Only "does not exist" lets the walk go on to the parent: any other failure
// (a chain longer than PATH_MAX, a loop, no permission) is refused, because the kernel may still open
// what realpath could not name. This is the check before use; verifiedOpen.ts checks again after opening.
import { lstat, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { platform } from '../platform';

export type ResolvedPath =
  | {
      ok: true;
      /** The real workspace folder. */
      root: string;
      /** Real absolute path to operate on (missing trailing parts appended as named). */
      absolute: string;
      /** Path relative to the workspace, for messages. */
      display: string;
    }
  | { ok: false; message: string };

export async function resolveInWorkspace(workspace: string, requested: string, field = 'path'): Promise<ResolvedPath> {
  if (requested.includes('\0')) return { ok: false, message: `\`${field}\` must not contain a NUL character.` };
  const windowsName = platform.windows ? windowsNameProblem(requested) : undefined;
  if (windowsName) return { ok: false, message: `\`${field}\` "${requested}" ${windowsName}; use the name as it is on disk.` };
  let root: string;
  try {
    root = await realpath(workspace);
  } catch {
    return { ok: false, message: `The workspace folder ${workspace} does not exist.` };
  }
  const lexical = path.resolve(workspace, requested);
  const real = await realpathOfNearestAncestor(lexical);
  if (real.kind === 'dangling') {
    return { ok: false, message: `\`${field}\` "${requested}" goes through a symbolic link (${shown(workspace, real.at)}) whose target does not exist; use the path the link points to.` };
  }
  if (real.kind === 'unresolvable') {
    return { ok: false, message: `\`${field}\` "${requested}" cannot be resolved at ${shown(workspace, real.at)} (${real.code}), so it cannot be checked to be inside the workspace; use a plain path.` };
  }
  if (!isInside(root, real.path)) {
    return { ok: false, message: `\`${field}\` "${requested}" is outside the workspace (${root}); only files inside it can be used.` };
  }
  return { ok: true, root, absolute: real.path, display: path.relative(root, real.path) || '.' };
}

/**
 * True when `candidate` is `root` or below it. Both must be absolute; `..notes` is a name, not a way up.
 * `pathApi` is this OS's by default (tests pass path.win32 or path.posix). On Windows, relative() compares
 * case-insensitively, as the file system does, and gives an absolute path for another drive or share
 * (`C:\` → `D:\`, `\\server\share` → `\\server\other`): outside.
 */
export function isInside(root: string, candidate: string, pathApi: typeof path.posix | typeof path.win32 = path): boolean {
  const rel = pathApi.relative(root, candidate);
  if (rel === '') return true;
  if (pathApi.isAbsolute(rel)) return false;
  return rel !== '..' && !rel.startsWith(`..${pathApi.sep}`);
}

/**
 * What Windows would change in a name before using it, so the path the checks see is not the file that
 * is written: a trailing dot or space is dropped (`.git.` is `.git`, `.vscode ` is `.vscode`, even when
 * they do not exist yet), `name:stream` is a hidden stream of `name`, and CON, NUL, COM1… are devices.
 */
export function windowsNameProblem(requested: string): string | undefined {
  const withoutDrive = requested.replace(/^[A-Za-z]:(?=[\\/]|$)/, '');
  for (const name of withoutDrive.split(/[\\/]/)) {
    if (name === '' || name === '.' || name === '..') continue;
    if (/[. ]$/.test(name)) return `has a name ending in a dot or a space ("${name}"), which Windows drops`;
    if (name.includes(':')) return `has a colon in a name ("${name}"), which Windows reads as a drive or a data stream`;
    if (/^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i.test(name)) return `names a Windows device ("${name}")`;
  }
  return undefined;
}

type Resolution = { kind: 'real'; path: string } | { kind: 'dangling'; at: string } | { kind: 'unresolvable'; at: string; code: string };

/** realpath() of the path itself, or of its nearest existing ancestor with the missing rest appended. */
async function realpathOfNearestAncestor(absolute: string): Promise<Resolution> {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return { kind: 'real', path: path.join(await realpath(current), ...missing.reverse()) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (code !== 'ENOENT') return { kind: 'unresolvable', at: current, code };
      const entry = await lstat(current).catch(() => undefined);
      if (entry) {
        // It exists, yet realpath says it does not: a symbolic link to nowhere, or one the kernel follows
        // where realpath gives up (a chain longer than PATH_MAX ends in ENOENT too).
        const leadsSomewhere = entry.isSymbolicLink() && (await stat(current).then(() => true, () => false));
        if (entry.isSymbolicLink() && !leadsSomewhere) return { kind: 'dangling', at: current };
        return { kind: 'unresolvable', at: current, code: 'realpath says ENOENT, yet it exists' };
      }
      const parent = path.dirname(current);
      if (parent === current) return { kind: 'unresolvable', at: current, code };
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function shown(workspace: string, at: string): string {
  const rel = path.relative(workspace, at) || '.';
  return rel.length > 200 ? `${rel.slice(0, 120)}…` : rel;
}
