// Which lines of a piece of output a pattern matches, one line at a time (a pattern never sees two lines
// at once, so `\s` or `[\s\S]*` cannot run across a whole chunk), each cut to LINE_MATCH_CHARS. Pure and
// synchronous: it runs in the match worker (matchWorker.ts), where a pattern that backtracks for seconds
// costs a thread that can be stopped, never the extension host's main thread.
import { escapeControls } from './outputText';

/** Lines are matched on their first this many characters: bounds what a slow pattern costs per line. */
export const LINE_MATCH_CHARS = 4096;

export interface MatchedLine {
  /** The line as a person reads it (controls shown escaped), cut to LINE_MATCH_CHARS. */
  readonly line: string;
  /** The line before it, when there was one. */
  readonly before?: string;
  /** The line after it, when there is one in the same piece (else the caller fills it from the next piece). */
  after?: string;
}

export interface LineMatchResult {
  readonly matches: MatchedLine[];
  /** The piece's last line: the `before` of a match on the next piece's first line. */
  readonly lastLine?: string;
  /** The last match is the piece's last line: its `after` is the next piece's first line. */
  readonly lastNeedsAfter: boolean;
}

/** `text` is whole lines (each ends with \n, except perhaps the last); `previousLine` came before them. */
export function matchLines(pattern: RegExp, text: string, previousLine?: string): LineMatchResult {
  const matches: MatchedLine[] = [];
  let before = previousLine;
  let lastNeedsAfter = false;
  let line: string | undefined;
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    line = text.slice(start, Math.min(end, start + LINE_MATCH_CHARS));
    if (lastNeedsAfter) matches[matches.length - 1].after = escapeControls(line);
    lastNeedsAfter = false;
    if (pattern.test(line)) {
      matches.push({ line: escapeControls(line), ...(before !== undefined && { before: escapeControls(before) }) });
      lastNeedsAfter = true;
    }
    before = line;
    start = end + 1;
  }
  return { matches, ...(line !== undefined && { lastLine: line }), lastNeedsAfter };
}
