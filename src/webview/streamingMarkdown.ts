// Renders a growing Markdown answer without re-rendering all of it on every frame. Text up to the last
// blank line outside a code fence cannot change its meaning any more (for what answers contain), so it
// is rendered once into a frozen chunk; only the tail after it is re-rendered per frame. A 20,000-token
// answer therefore costs about one paragraph of work per frame instead of the whole message.
import { highlightCodeIn } from './codeHighlight';
import { renderMarkdown } from './markdown';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** A finished message longer than this is rendered in slices of about this size. */
const SLICE_CHARS = 12_000;

export class StreamingMarkdown {
  private text = '';
  /** Characters rendered into frozen chunks. */
  private frozenLength = 0;
  /** Where the line scanner stopped (always at a line start). */
  private scannedLength = 0;
  private openFence: string | null = null;
  private sliceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly frozen: HTMLElement;
  private readonly tail: HTMLElement;

  constructor(readonly element: HTMLElement) {
    this.frozen = document.createElement('div');
    this.tail = document.createElement('div');
    element.replaceChildren(this.frozen, this.tail);
  }

  get source(): string {
    return this.text;
  }

  /**
   * Replaces everything (a finished message, e.g. when a chat is replayed). A short one is rendered at
   * once; a long one in slices of about SLICE_CHARS, one task each, so replaying a 20,000-token answer
   * does not block the page for a tenth of a second.
   */
  setAll(text: string): void {
    this.cancelSlices();
    this.text = text;
    this.openFence = null;
    this.tail.replaceChildren();
    if (text.length <= SLICE_CHARS) {
      this.frozenLength = text.length;
      this.scannedLength = text.length;
      this.frozen.innerHTML = renderMarkdown(text);
      highlightCodeIn(this.frozen);
      return;
    }
    this.frozenLength = 0;
    this.scannedLength = 0;
    this.frozen.replaceChildren();
    this.renderSlice();
  }

  private renderSlice(): void {
    this.sliceTimer = undefined;
    this.freezeUpTo(this.findStableBoundary(this.frozenLength + SLICE_CHARS));
    if (this.scannedLength < this.text.length && this.text.indexOf('\n', this.scannedLength) >= 0) {
      this.sliceTimer = setTimeout(() => this.renderSlice(), 0);
    } else {
      this.tail.innerHTML = renderMarkdown(this.text.slice(this.frozenLength));
      highlightCodeIn(this.tail);
    }
  }

  /** The view is gone (another chat opened, the page unloads): no slice may render into it any more. */
  dispose(): void {
    this.cancelSlices();
  }

  private cancelSlices(): void {
    if (this.sliceTimer) clearTimeout(this.sliceTimer);
    this.sliceTimer = undefined;
  }

  append(delta: string): void {
    this.text += delta;
  }

  /**
   * Called once per animation frame while the text grows, and with `finished` once it is complete: only then
   * is the tail's code highlighted (while streaming it is re-rendered every frame).
   */
  flush(finished = false): void {
    this.cancelSlices();
    this.freezeUpTo(this.findStableBoundary());
    this.tail.innerHTML = renderMarkdown(this.text.slice(this.frozenLength));
    if (finished) highlightCodeIn(this.tail);
  }

  private freezeUpTo(boundary: number): void {
    if (boundary <= this.frozenLength) return;
    const chunk = document.createElement('div');
    chunk.className = 'md-chunk';
    chunk.innerHTML = renderMarkdown(this.text.slice(this.frozenLength, boundary));
    highlightCodeIn(chunk);
    this.frozen.append(chunk);
    this.frozenLength = boundary;
  }

  /**
   * Scans only the complete lines added since last time; returns the end of the last blank line outside a
   * fence. With `limit`, stops at the first such boundary past it (a slice of a long finished message).
   */
  private findStableBoundary(limit = Infinity): number {
    let boundary = this.frozenLength;
    let lineStart = this.scannedLength;
    for (;;) {
      if (lineStart >= limit && boundary > this.frozenLength) break;
      const newline = this.text.indexOf('\n', lineStart);
      if (newline < 0) break;
      const line = this.text.slice(lineStart, newline);
      const fence = FENCE.exec(line);
      if (this.openFence === null) {
        if (fence) this.openFence = fence[1];
        else if (line.trim() === '' && !this.insideList(lineStart)) boundary = newline + 1;
      } else if (fence && fence[1][0] === this.openFence[0] && fence[1].length >= this.openFence.length && line.trim() === fence[1]) {
        this.openFence = null;
      }
      lineStart = newline + 1;
    }
    this.scannedLength = lineStart;
    return boundary;
  }

  /** A blank line followed by an indented or list line may continue a list: do not cut there yet. */
  private insideList(blankLineStart: number): boolean {
    const before = this.text.lastIndexOf('\n', blankLineStart - 2);
    const previousLine = this.text.slice(before + 1, blankLineStart - 1);
    return /^\s*([-*+]|\d+[.)])\s/.test(previousLine) || /^\s{2,}\S/.test(previousLine);
  }
}
