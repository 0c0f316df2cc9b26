// The regular expressions a tool gives for a task's output (`wait_for`, `notify_on`): checked once, before
// anything starts, so a bad one is a clear error and a dangerous one never runs. They run on the extension
// host's main thread, where a match that backtracks exponentially would freeze every extension: a
// pattern that repeats a group which itself repeats (star height above 1, the shape of `(a+)+`) is refused
// (safe-regex2). Patterns it cannot read (lookbehind, which its parser predates) are not judged by it.
// Lines are also cut to LINE_MATCH_CHARS before matching (outputLines.ts), which bounds the polynomial cases.
import parseRegex from 'ret';
import safeRegex from 'safe-regex2';

export type PatternCheck = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

/** `field` names the input in the message (`wait_for`). */
export function checkOutputPattern(field: string, source: string): PatternCheck {
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (error) {
    return { ok: false, message: `\`${field}\` is not a valid JavaScript regular expression: ${(error as Error).message}` };
  }
  if (source === '') return { ok: false, message: `\`${field}\` is empty; give a regular expression that matches the line you wait for.` };
  if (readable(source) && !safeRegex(source, { limit: 50 })) {
    return {
      ok: false,
      message:
        `\`${field}\` repeats a group that itself repeats (like \`(a+)+\` or \`(?:-\\w+)*\` after \`\\w+\`), which can take ` +
        'exponential time on some lines; it was not used. Match a shorter, distinctive part of the line instead (e.g. `listening on`).',
    };
  }
  return { ok: true, regex };
}

function readable(source: string): boolean {
  try {
    parseRegex(source);
    return true;
  } catch {
    return false;
  }
}
