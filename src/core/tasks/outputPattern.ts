// The regular expressions a tool gives for a task's output (`wait_for`, `notify_on`): checked once, before
// anything starts, so a bad one is a clear error. They run in the match worker (patternThread.ts), where
// one that backtracks for seconds is stopped; the obvious such shape, a repeated group that itself repeats
// (star height above 1, like `(a+)+`), is refused here already (safe-regex2), with a message the model can
// act on. Patterns its parser cannot read (lookbehind, which it predates) are left to the worker's budget.
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
  // `/ready/i` is a JavaScript literal: as a pattern it would look for the slashes and never match.
  if (/^\/.+\/[dgimsuvy]+$/.test(source)) {
    return { ok: false, message: `\`${field}\` looks like a /pattern/flags literal; give the pattern alone, without slashes or flags (flags are not supported: write [Rr]eady for either case).` };
  }
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
