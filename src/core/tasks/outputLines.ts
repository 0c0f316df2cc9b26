// Follows a running task's output line by line and finds the lines a regular expression matches: what
// `wait_for` waits for and what `notify_on` reports. The log on disk is read from where the last read
// ended (TaskLog.read skips a trimmed range), cleaned of terminal escapes only where it has any, and
// matched a chunk at a time: one `gm` search over many lines is far cheaper than one per line, and each
// hit is tried again on its line alone, so a pattern that spans lines (`\s` matches a newline) never
// reports a line that does not match by itself.
import { cleanTerminalText, escapeControls } from './outputText';
import type { TaskLog } from './taskLog';

/** Lines are matched on their first this many characters: bounds what a slow pattern costs per line. */
export const LINE_MATCH_CHARS = 4096;
/** A line this long with no newline yet is matched as it is (a progress bar redrawn with \r for minutes). */
const MAX_PENDING_CHARS = 64 * 1024;
/** One read of the log (larger reads cost fewer round trips; a flood is read at ~3 ms per MiB). */
const READ_BYTES = 1024 * 1024;
/** Past this much unread output, the reader jumps to the newest (a flood outruns any reader). */
export const DEFAULT_MAX_BACKLOG_BYTES = 64 * 1024 * 1024;

export interface MatchedLine {
  /** The line as a person reads it (escapes applied, controls shown), cut to LINE_MATCH_CHARS. */
  readonly line: string;
  /** The line before it, when there was one. */
  readonly before?: string;
  /** The line after it: filled by the next lines fed (see LineMatcher.withContext). */
  after?: string;
}

/** Finds matching lines in text made of whole lines. Remembers the last line for the next chunk's context. */
export class LineMatcher {
  private readonly search: RegExp;
  private readonly line: RegExp;
  private lastLine: string | undefined;
  /** A match still waiting for its next line. */
  private awaitingAfter: MatchedLine | undefined;

  constructor(pattern: RegExp) {
    this.search = new RegExp(pattern.source, 'gm');
    this.line = new RegExp(pattern.source);
  }

  /** Feeds whole lines (each ends with \n, or is the last pending line); returns the lines that match. */
  feed(text: string): MatchedLine[] {
    if (text === '') return [];
    const matched: MatchedLine[] = [];
    const chunk = cutLongLines(text);
    if (this.awaitingAfter) {
      this.awaitingAfter.after = readable(chunk.slice(0, lineEnd(chunk, 0)));
      this.awaitingAfter = undefined;
    }
    const search = this.search;
    search.lastIndex = 0;
    for (let hit = search.exec(chunk); hit; hit = search.exec(chunk)) {
      // The end of text that ends with a newline starts no line (`^$` matches there).
      if (hit.index === chunk.length && chunk.endsWith('\n')) break;
      // A hit that starts on a newline belongs to the line that newline ends.
      const start = lineStart(chunk, hit.index);
      const end = lineEnd(chunk, hit.index);
      const line = chunk.slice(start, end);
      if (this.line.test(line)) {
        const before = start > 0 ? chunk.slice(lineStart(chunk, start - 1), start - 1) : this.lastLine;
        const next = end + 1 < chunk.length ? chunk.slice(end + 1, lineEnd(chunk, end + 1)) : undefined;
        const match: MatchedLine = { line: readable(line), ...(before !== undefined && { before: readable(before) }), ...(next !== undefined && { after: readable(next) }) };
        if (next === undefined) this.awaitingAfter = match;
        matched.push(match);
      }
      search.lastIndex = end + 1;
      if (end + 1 >= chunk.length) break;
    }
    const trimmed = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
    this.lastLine = trimmed.slice(trimmed.lastIndexOf('\n') + 1);
    return matched;
  }
}

/** Reads a task's log forward from an offset and hands out whole, cleaned lines. */
export class LogLineReader {
  private offset: number;
  private pending = '';
  /** Bytes jumped over because the output came faster than it was read (and trimmed ranges). */
  private skippedBytes = 0;

  constructor(
    private readonly log: TaskLog,
    from = 0,
    private readonly maxBacklogBytes = DEFAULT_MAX_BACKLOG_BYTES,
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
   * `settled`: the task has ended, so a last line without a newline is complete too. `includePartial`:
   * also return the line still being written (readiness: a prompt without a newline is a line too), which
   * is kept and returned again, grown, by the next call.
   */
  async read(options: { settled: boolean; includePartial?: boolean; maxBytes?: number }): Promise<{ text: string; more: boolean }> {
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
    const more = slice.nextOffset < slice.totalBytes;
    this.offset = Math.max(this.offset, slice.nextOffset);
    // Binary output has no lines to match.
    const text = this.pending + slice.text;
    const cut = text.lastIndexOf('\n') + 1;
    let whole = text.slice(0, cut);
    this.pending = text.slice(cut);
    if (this.pending.length > MAX_PENDING_CHARS || (options.settled && !more)) {
      whole += this.pending === '' ? '' : `${this.pending}\n`;
      this.pending = '';
    } else if (options.includePartial && this.pending !== '') {
      return { text: clean(whole + this.pending), more };
    }
    return { text: clean(whole), more };
  }
}

/** Terminal escapes are applied only where there are any (most output has none; cleaning costs a split). */
function clean(text: string): string {
  return text.includes('\x1b') || text.includes('\r') ? cleanTerminalText(text) : text;
}

function readable(line: string): string {
  return escapeControls(line);
}

function lineStart(text: string, at: number): number {
  return at <= 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
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
