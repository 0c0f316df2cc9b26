// Renders a growing Markdown answer without re-rendering all of it on every frame. Text up to the last
// blank line outside a code fence cannot change its meaning any more (for what answers contain), so it
// is rendered once into a frozen chunk; only the tail after it is re-rendered per frame. A 20,000-token
// answer therefore costs about one paragraph of work per frame instead of the whole message.
import { renderMarkdown } from './markdown';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

export class StreamingMarkdown {
  private text = '';
  /** Characters rendered into frozen chunks. */
  private frozenLength = 0;
  /** Where the line scanner stopped (always at a line start). */
  private scannedLength = 0;
  private openFence: string | null = null;
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

  /** Replaces everything (used for a finished message: one render, no chunks). */
  setAll(text: string): void {
    this.text = text;
    this.frozenLength = text.length;
    this.scannedLength = text.length;
    this.frozen.innerHTML = renderMarkdown(text);
    this.tail.replaceChildren();
  }

  append(delta: string): void {
    this.text += delta;
  }

  /** Called once per animation frame while the text grows. */
  flush(): void {
    const boundary = this.findStableBoundary();
    if (boundary > this.frozenLength) {
      const chunk = document.createElement('div');
      chunk.className = 'md-chunk';
      chunk.innerHTML = renderMarkdown(this.text.slice(this.frozenLength, boundary));
      this.frozen.append(chunk);
      this.frozenLength = boundary;
    }
    this.tail.innerHTML = renderMarkdown(this.text.slice(this.frozenLength));
  }

  /** Scans only the complete lines added since last time; returns the end of the last blank line outside a fence. */
  private findStableBoundary(): number {
    let boundary = this.frozenLength;
    let lineStart = this.scannedLength;
    for (;;) {
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
