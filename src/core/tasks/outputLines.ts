// Follows a running task's output line by line and finds the lines a regular expression matches: what
// `wait_for` waits for and what `notify_on` reports. The log on disk is read from where the last read
// ended (TaskLog.read skips a trimmed range) and cleaned of terminal escapes only where it has any; the
// matching itself runs in the match worker (patternThread.ts), a piece of whole lines at a time.
import { cleanTerminalText, escapeControls } from './outputText';
import { LINE_MATCH_CHARS, type MatchedLine } from './lineMatch';
import type { PatternThread } from './patternThread';
import type { TaskLog } from './taskLog';

export { LINE_MATCH_CHARS, type MatchedLine } from './lineMatch';

/** A line this long with no newline yet is matched as it is (a progress bar redrawn with \r for minutes). */
const MAX_PENDING_CHARS = 64 * 1024;
/** One read of the log (larger reads cost fewer round trips). */
const READ_BYTES = 1024 * 1024;
/** Output sent to the worker at once: a pattern's time is judged per piece (PatternThread's budget). */
const MAX_PIECE_CHARS = 128 * 1024;

/** Finds matching lines, a line of context either side; remembers the last line for the next text's context. */
export class LineMatcher {
  private lastLine: string | undefined;
  /** A match still waiting for its next line. */
  private awaitingAfter: MatchedLine | undefined;

  constructor(
    private readonly pattern: RegExp,
    private readonly thread: PatternThread,
  ) {}

  /** Feeds whole lines (each ends with \n, except perhaps the last); resolves with the lines that match. Rejects with PatternTooSlowError. */
  async feed(text: string): Promise<MatchedLine[]> {
    const matched: MatchedLine[] = [];
    const lines = cutLongLines(text);
    for (let start = 0; start < lines.length; ) {
      // Whole lines only (each at most LINE_MATCH_CHARS + 1 characters now).
      let end = Math.min(lines.length, start + MAX_PIECE_CHARS);
      const newline = end < lines.length ? lines.lastIndexOf('\n', end - 1) : -1;
      if (newline >= start) end = newline + 1;
      const piece = lines.slice(start, end);
      start = end;
      if (this.awaitingAfter) {
        this.awaitingAfter.after = escapeControls(piece.slice(0, lineEnd(piece, 0)));
        this.awaitingAfter = undefined;
      }
      const result = await this.thread.match(this.pattern.source, piece, this.lastLine);
      matched.push(...result.matches);
      if (result.lastNeedsAfter) this.awaitingAfter = result.matches.at(-1);
      this.lastLine = result.lastLine ?? this.lastLine;
    }
    return matched;
  }
}

/** Reads a task's log forward from an offset and hands out whole, cleaned lines. */
export class LogLineReader {
  private offset: number;
  private pending = '';
  /** The line being written as the previous read left it: unchanged now = it stands (includeStablePartial). */
  private previousPending = '';
  /** Bytes jumped over because the output came faster than it was read (and trimmed ranges). */
  private skippedBytes = 0;

  constructor(
    private readonly log: TaskLog,
    from: number,
    /** Past this much unread output, the reader jumps to the newest (a flood outruns any reader); Infinity: never. */
    private readonly maxBacklogBytes: number,
  ) {
    this.offset = from;
  }

  /** How far the log was read, in bytes of the whole output. */
  get position(): number {
    return this.offset;
  }

  /** Bytes of output never read since the last call (and resets the count). */
  takeSkipped(): number {
    const skipped = this.skippedBytes;
    this.skippedBytes = 0;
    return skipped;
  }

  /**
   * Reads at most `maxBytes` more and returns the whole lines among them (with their newlines), cleaned.
   * `settled`: the task has ended, so a last line without a newline is complete too.
   * `includeStablePartial`: also return the line still being written once it stood unchanged since the
   * previous read with nothing after it (readiness: a prompt without a newline is a line too); it is kept
   * and returned again by the next call.
   */
  async read(options: { settled: boolean; includeStablePartial?: boolean; maxBytes?: number }): Promise<{ text: string; more: boolean }> {
    const size = this.log.outputBytes;
    if (size - this.offset > this.maxBacklogBytes) {
      this.skippedBytes += size - READ_BYTES - this.offset;
      this.offset = size - READ_BYTES;
      this.pending = '';
    }
    const slice = await this.log.read({ offset: this.offset, maxBytes: options.maxBytes ?? READ_BYTES, settled: options.settled });
    if (slice.offset > this.offset) {
      // A trimmed range (or a split character) was stepped over: a line cannot be joined across it.
      this.skippedBytes += slice.offset - this.offset;
      if (slice.offset - this.offset > 3) this.pending = '';
    }
    // A read that stopped where a trimmed range begins continues after it: what it cut is a line of its own.
    const hole = slice.dropped && slice.nextOffset === slice.dropped.to && slice.offset < slice.dropped.from ? slice.dropped : undefined;
    const more = slice.nextOffset < slice.totalBytes;
    this.offset = Math.max(this.offset, slice.nextOffset);
    // Binary output has no lines to match (its slice has no text).
    const text = this.pending + slice.text;
    const cut = text.lastIndexOf('\n') + 1;
    let whole = text.slice(0, cut);
    this.pending = text.slice(cut);
    const stable = this.pending !== '' && this.pending === this.previousPending && !more;
    this.previousPending = this.pending;
    if (hole) this.skippedBytes += hole.to - hole.from;
    if (hole || this.pending.length > MAX_PENDING_CHARS || (options.settled && !more)) {
      whole += this.pending === '' ? '' : `${this.pending}\n`;
      this.pending = '';
    } else if (options.includeStablePartial && stable) {
      return { text: clean(whole + this.pending), more };
    }
    return { text: clean(whole), more };
  }
}

/** Terminal escapes are applied only where there are any (most output has none; cleaning costs a split). */
function clean(text: string): string {
  return text.includes('\x1b') || text.includes('\r') ? cleanTerminalText(text) : text;
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end < 0 ? text.length : end;
}

/** Lines longer than LINE_MATCH_CHARS are cut to it (only when there are any: a scan of newlines is cheap). */
function cutLongLines(text: string): string {
  let start = 0;
  let out: string[] | undefined;
  let copiedTo = 0;
  while (start < text.length) {
    const end = lineEnd(text, start);
    if (end - start > LINE_MATCH_CHARS) {
      out ??= [];
      out.push(text.slice(copiedTo, start + LINE_MATCH_CHARS));
      copiedTo = end;
    }
    start = end + 1;
  }
  if (!out) return text;
  out.push(text.slice(copiedTo));
  return out.join('');
}
