// What the output document of a *running* task shows, kept so that every update is an edit VS Code applies
// cheaply: only ever an append at the end, or (rarely) a deletion of one block. No `vscode` here: plain
// Node tests check the edit shapes (test/unit/tasks-followed-output.test.ts).
//
// Why the shapes matter (VS Code 1.99's source): a content provider's change reaches the renderer as the
// whole new text; the editor worker diffs it against the model (`computeMoreMinimalEdits`: common prefix
// and suffix, then a character-level LCS of the middle), and the renderer applies the edits. A document
// over 100,000 characters is not diffed at all: the whole model is replaced, re-tokenized, re-rendered
// and sent back to the extension host. When the middle has text on both sides (a counter in the header
// plus new output at the end, or a window that slid), the LCS took 0.5–15 s for 16–80 KB here, and after
// 1 s the renderer replaces everything anyway. When one side of the middle is empty (a pure append or a
// pure deletion) the diff is a few milliseconds and the renderer only lays out what was added.
//
// So the text after the (frozen) header is: the first lines of the log (the head), a fixed line where output
// is left out (once there is a gap), then whole lines in the order they came, with a fixed "… N more not shown
// here" line where a flood outran the document (then only its newest FLOOD_TAIL_BYTES are added). New output
// is appended. When the part after the head would pass BODY_MAX_CHARS, its start is deleted (keeping
// BODY_KEEP_CHARS): a "re-base", a step of its own before the append of the same update. The line being
// printed is shown as it comes; redrawn (\r) rather than continued, it is removed in a step of its own. The
// whole text stays under VS Code's 100,000-character diff limit (about 50,000 at most).
// Measured (bench/tasksView.bench.ts, 10 s `yes` flood): 2 updates a second of ~2 KB, none replacing the
// document, no renderer task over 50 ms while following (the old whole-window re-render: 1–2 tasks of 60–75 ms
// with updates 4 times rarer; opening the editor itself costs 100–350 ms either way, VS Code's own work).
import { readableTerminalText } from '../../core/tasks/outputText';
import type { OutputSlice } from '../../core/tasks/types';
import { formatBytes } from '../../shared/taskWords';

/** The first bytes of the log a running task's document keeps (once it ends: HEAD_BYTES, 64 KB). */
export const RUNNING_HEAD_BYTES = 16 * 1024;
/** New output up to this much is appended whole (about 100 lines: a busy build is followed line by line). */
export const CHUNK_BYTES = 8 * 1024;
/**
 * More than CHUNK_BYTES since the last update is a flood: only its newest bytes are appended (about 25 lines,
 * half a screen). The renderer's cost of an update grows with the lines it adds (laying out the new lines,
 * the minimap, tokenizing), and nobody reads a flood line by line anyway.
 */
export const FLOOD_TAIL_BYTES = 2 * 1024;
/** Past this the start of the followed part is deleted, down to BODY_KEEP_CHARS. */
export const BODY_MAX_CHARS = 32 * 1024;
export const BODY_KEEP_CHARS = 8 * 1024;
/** A line without its newline yet, longer than this, is shown as it comes (and continued by the next text). */
const PENDING_MAX_CHARS = 4096;
/** A change this small on both sides is diffed in well under a millisecond: no need to split it. */
const SMALL_CHANGE_CHARS = 1024;

/** Reads the log: from `offset`, or its newest `maxBytes` when offset is undefined. */
export type LogReader = (offset: number | undefined, maxBytes: number) => Promise<OutputSlice>;

export class FollowedOutput {
  /** Whole lines of the log's start (while `separated` is false, the body continues them). */
  private head = '';
  /** Whole lines shown after the head (and after `leftOut` once separated). */
  private body = '';
  /** Raw text of the line being printed: shown (cleaned) at the end, completed by the next read. */
  private pending = '';
  /** Once true, `leftOut` stands between the head and the body: the log is not shown whole any more. */
  private separated = false;
  /** The log's byte offset read up to. */
  private end = 0;

  constructor(
    /** Frozen while the task runs: a change at the top plus an append at the end is what made diffs slow. */
    private readonly header: string,
    private readonly leftOut: string,
  ) {}

  /** The bytes of the log this has caught up with (the document is stale when the log is longer). */
  get readUpTo(): number {
    return this.end;
  }

  /** The document's text now. */
  text(): string {
    return this.stableText() + this.shownPending();
  }

  /**
   * Catches up with the log: returns the texts to show one after the other (each a cheap edit of the one
   * before; the last is text()), or none when nothing changed.
   */
  async advance(read: LogReader, totalBytes: number): Promise<string[]> {
    if (totalBytes <= this.end) return [];
    const shownBefore = this.text();
    const first = this.end === 0 && this.head === '' && this.body === '';
    // A log this short is shown whole at first; a longer one gets its head and then its newest output.
    let most = first ? RUNNING_HEAD_BYTES + CHUNK_BYTES : CHUNK_BYTES;
    if (first && totalBytes > most) {
      const head = await read(0, RUNNING_HEAD_BYTES);
      this.head = head.binary ? sliceText(head) : dropPartialLastLine(readableTerminalText(head.text));
      // Escaped control bytes take 4 characters each: the bound is on characters.
      if (this.head.length > RUNNING_HEAD_BYTES) this.head = dropPartialLastLine(this.head.slice(0, RUNNING_HEAD_BYTES));
      this.separated = true;
      this.end = head.nextOffset;
      most = CHUNK_BYTES;
    }
    const flooding = totalBytes - this.end > most;
    const slice = await read(flooding ? undefined : this.end, flooding && !first ? FLOOD_TAIL_BYTES : most);
    // The log went away or was cut under us (its file removed): nothing to add, and never go back over shown lines.
    if (slice.nextOffset < this.end) return [];
    const skipped = slice.offset - this.end;
    // The line being printed changes only after the re-base below: each step changes one place.
    let added: string;
    let pending = '';
    // Before a jump or a hex dump the line being printed stays as it was shown, ended: still an append.
    const ended = this.pending ? `${this.shownPending()}\n` : '';
    if (slice.binary) {
      added = ended + (skipped > 0 ? skippedLine(skipped) : '') + sliceText(slice);
    } else if (skipped > 0) {
      // A jump: the partial first line belongs to what is skipped.
      const text = slice.offset > 0 ? dropPartialFirstLine(slice.text) : slice.text;
      const lines = wholeLines('', text);
      added = ended + skippedLine(skipped + Buffer.byteLength(slice.text.slice(0, slice.text.length - text.length))) + lines.text;
      pending = lines.pending;
    } else {
      ({ text: added, pending } = wholeLines(this.pending, slice.text));
    }
    // A read that stopped where a trimmed-out range begins: the next one starts after it, as a jump.
    this.end = slice.dropped && slice.offset < slice.dropped.from ? slice.dropped.from : slice.nextOffset;
    // Escaped control bytes take 4 characters each: the bound is on characters.
    if (added.length > BODY_MAX_CHARS - BODY_KEEP_CHARS) {
      const kept = keepEnd(added, BODY_MAX_CHARS - BODY_KEEP_CHARS - 100);
      // What is cut is said, as for a flood: the shown lines never look continuous where they are not.
      added = skippedLine(Buffer.byteLength(added.slice(0, added.length - kept.length))) + kept;
    }
    const steps = this.body.length + added.length > BODY_MAX_CHARS ? this.rebase() : [];
    const before = this.text();
    const stable = this.stableText();
    this.body += added;
    this.pending = pending;
    const after = this.text();
    if (first) return [after];
    // The line being printed may have been redrawn (\r) rather than continued: then it goes in a step of its own.
    const appendOnly = after.startsWith(before);
    const small = before.length - stable.length <= SMALL_CHANGE_CHARS && after.length - stable.length <= SMALL_CHANGE_CHARS;
    if (!appendOnly && !small) steps.push(stable);
    steps.push(after);
    // A step that changes nothing would never show up as a change to wait for.
    return steps.filter((step, i) => step !== (i === 0 ? shownBefore : steps[i - 1]));
  }

  /** Everything but the line being printed. */
  private stableText(): string {
    return this.header + this.head + (this.separated ? this.leftOut : '') + this.body;
  }

  private shownPending(): string {
    return this.pending ? readableTerminalText(this.pending) : '';
  }

  /** Deletes the start of the followed part: one step, or two (delete, then add `leftOut`) the first time. */
  private rebase(): string[] {
    const steps: string[] = [];
    if (!this.separated) {
      // The log was shown whole: its first lines become the head.
      const all = this.head + this.body;
      const headEnd = all.lastIndexOf('\n', RUNNING_HEAD_BYTES) + 1;
      this.head = all.slice(0, headEnd);
      this.body = all.slice(headEnd);
    }
    this.body = keepEnd(this.body, BODY_KEEP_CHARS);
    steps.push(this.text());
    if (!this.separated) {
      this.separated = true;
      steps.push(this.text());
    }
    return steps;
  }
}

/** Whole lines of `pending + text`, cleaned, and the raw rest after the last newline (the line being printed). */
function wholeLines(pending: string, text: string): { text: string; pending: string } {
  const raw = pending + text;
  const cut = raw.lastIndexOf('\n') + 1;
  let rest = raw.slice(cut);
  if (rest.length > PENDING_MAX_CHARS) {
    // A progress bar redraws its line (\r) without ever ending it: only its latest drawing counts.
    const redrawn = rest.lastIndexOf('\r');
    if (redrawn > 0) rest = rest.slice(redrawn);
  }
  if (rest.length <= PENDING_MAX_CHARS) return { text: cut > 0 ? readableTerminalText(raw.slice(0, cut)) : '', pending: rest };
  // A line longer than this without its newline is shown as it comes (the next text continues it), cut
  // before an escape sequence that is not complete yet.
  const escape = rest.lastIndexOf('\x1b');
  const split = escape >= 0 && rest.length - escape < 32 && !/[@-~]/.test(rest.slice(escape + 2)) ? escape : rest.length;
  return { text: readableTerminalText(raw.slice(0, cut) + rest.slice(0, split)), pending: rest.slice(split) };
}

/** The line where a flood was faster than the document: fixed once written, so later updates only append. */
function skippedLine(bytes: number): string {
  return `… ${formatBytes(bytes)} more not shown here …\n`;
}

/** A slice as a person reads it: terminal escapes applied; binary output as a note and a hex dump of its start. */
export function sliceText(slice: OutputSlice): string {
  if (!slice.binary) return readableTerminalText(slice.text);
  return `[Binary output: ${formatBytes(slice.nextOffset - slice.offset)} here are not text, so they are not shown. The first bytes in hex:]\n${slice.binary.hex}\n`;
}

/** The last `max` characters of whole lines (a single longer line is cut). */
function keepEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  const from = text.length - max;
  const lineStart = text.indexOf('\n', from - 1) + 1;
  return lineStart > 0 && lineStart < text.length ? text.slice(lineStart) : text.slice(from);
}

export function dropPartialLastLine(text: string): string {
  const end = text.lastIndexOf('\n');
  return end >= 0 ? text.slice(0, end + 1) : text;
}

export function dropPartialFirstLine(text: string): string {
  const start = text.indexOf('\n');
  return start >= 0 ? text.slice(start + 1) : text;
}
