// Keeps file tools inside the workspace. Checks the *real* location: `..` is resolved first, then the nearest
// existing ancestor is passed through realpath so a symlink pointing outside cannot be used as a door. A
// symlink whose target does not exist (yet) is refused: writing through it would create its target, which
// may be outside the workspace or in .git/hooks, while the path shown is the link's.
import { lstat, realpath } from 'node:fs/promises';
import * as path from 'node:path';

export type ResolvedPath =
  | { ok: true; /** Real absolute path to operate on. */ absolute: string; /** Path relative to the workspace, for messages. */ display: string }
  | { ok: false; message: string };

export async function resolveInWorkspace(workspace: string, requested: string, field = 'path'): Promise<ResolvedPath> {
  if (requested.includes('\0')) return { ok: false, message: `\`${field}\` must not contain a NUL character.` };
  let root: string;
  try {
    root = await realpath(workspace);
  } catch {
    return { ok: false, message: `The workspace folder ${workspace} does not exist.` };
  }
  const lexical = path.resolve(workspace, requested);
  const real = await realpathOfNearestAncestor(lexical);
  if (typeof real !== 'string') {
    return { ok: false, message: `\`${field}\` "${requested}" goes through a symbolic link (${path.relative(workspace, real.link) || real.link}) whose target does not exist; use the path the link points to.` };
  }
  if (!isInside(root, real)) {
    return { ok: false, message: `\`${field}\` "${requested}" is outside the workspace (${root}); only files inside it can be used.` };
  }
  return { ok: true, absolute: real, display: path.relative(root, real) || '.' };
}

/** realpath() of the path itself, or of its nearest existing ancestor with the missing rest appended. */
async function realpathOfNearestAncestor(absolute: string): Promise<string | { link: string }> {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(await realpath(current), ...missing.reverse());
    } catch {
      // It exists as an entry but cannot be resolved: a dangling symbolic link.
      if ((await lstat(current).catch(() => undefined))?.isSymbolicLink()) return { link: current };
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
