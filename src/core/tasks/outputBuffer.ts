// The bounded in-memory copy of a task's output: the first bytes (how it started) and the last bytes
// (how it is going). Fixed-size buffers allocated once, so memory stays flat however much a task prints;
// the full output lives only in the log file.
import { binaryNote, looksBinary, readableTerminalText } from './outputText';
import { decodeSlice } from './outputText';

export const DEFAULT_HEAD_BYTES = 16 * 1024;
export const DEFAULT_TAIL_BYTES = 64 * 1024;

export class HeadTailBuffer {
  private readonly head: Buffer;
  private headLength = 0;
  /** Ring buffer: `tailStart` is the oldest byte, `tailLength` bytes are valid. */
  private readonly tail: Buffer;
  private tailStart = 0;
  private tailLength = 0;
  private total = 0;

  constructor(
    readonly headCapacity = DEFAULT_HEAD_BYTES,
    readonly tailCapacity = DEFAULT_TAIL_BYTES,
  ) {
    this.head = Buffer.allocUnsafe(headCapacity);
    this.tail = Buffer.allocUnsafe(tailCapacity);
  }

  /** Rebuilds the buffer of a task from its log file's first and last bytes (a restored task). */
  static fromEdges(head: Uint8Array, tail: Uint8Array, totalBytes: number, headCapacity = DEFAULT_HEAD_BYTES, tailCapacity = DEFAULT_TAIL_BYTES): HeadTailBuffer {
    const buffer = new HeadTailBuffer(headCapacity, tailCapacity);
    buffer.push(head.subarray(0, headCapacity));
    buffer.pushTail(tail.subarray(Math.max(0, tail.length - tailCapacity)));
    buffer.total = totalBytes;
    return buffer;
  }

  /** Everything ever pushed, including what was dropped from memory. */
  get totalBytes(): number {
    return this.total;
  }

  /** What memory holds right now (never more than head + tail capacity). */
  get storedBytes(): number {
    return this.headLength + this.tailLength;
  }

  /** Bytes between head and tail that only the log file has. */
  get omittedBytes(): number {
    return this.total - this.headLength - this.tailLength;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    let data = chunk;
    if (this.headLength < this.headCapacity) {
      const n = Math.min(this.headCapacity - this.headLength, data.length);
      this.head.set(data.subarray(0, n), this.headLength);
      this.headLength += n;
      if (n === data.length) return;
      data = data.subarray(n);
    }
    this.pushTail(data);
  }

  private pushTail(data: Uint8Array): void {
    const cap = this.tailCapacity;
    if (data.length >= cap) {
      this.tail.set(data.subarray(data.length - cap));
      this.tailStart = 0;
      this.tailLength = cap;
      return;
    }
    const writeAt = (this.tailStart + this.tailLength) % cap;
    const first = Math.min(data.length, cap - writeAt);
    this.tail.set(data.subarray(0, first), writeAt);
    if (first < data.length) this.tail.set(data.subarray(first), 0);
    const length = this.tailLength + data.length;
    if (length > cap) {
      this.tailStart = (this.tailStart + length - cap) % cap;
      this.tailLength = cap;
    } else {
      this.tailLength = length;
    }
  }

  /** A copy of the first bytes kept. */
  headBytes(maxBytes = this.headLength): Buffer {
    return Buffer.from(this.head.subarray(0, Math.min(maxBytes, this.headLength)));
  }

  /**
   * A copy of the last `maxBytes` bytes of output that memory still holds contiguously: from the tail
   * ring, continuing into the head only when nothing was omitted between them.
   */
  lastBytes(maxBytes: number): Buffer {
    const fromTail = Math.min(maxBytes, this.tailLength);
    const fromHead = this.omittedBytes === 0 ? Math.min(maxBytes - fromTail, this.headLength) : 0;
    const out = Buffer.allocUnsafe(fromHead + fromTail);
    if (fromHead > 0) this.head.copy(out, 0, this.headLength - fromHead, this.headLength);
    const cap = this.tailCapacity;
    const begin = (this.tailStart + this.tailLength - fromTail) % cap;
    const first = Math.min(fromTail, cap - begin);
    this.tail.copy(out, fromHead, begin, begin + first);
    if (first < fromTail) this.tail.copy(out, fromHead + first, 0, fromTail - first);
    return out;
  }

  /**
   * Head and tail as readable text (outputText.ts: terminal escapes applied, binary output described),
   * joined by a cut marker when bytes were dropped between them. With a `maxBytes` smaller than what is
   * stored, a quarter goes to the head and the rest to the tail.
   */
  preview(maxBytes = this.headCapacity + this.tailCapacity): string {
    const stored = this.storedBytes;
    if (this.omittedBytes === 0 && stored <= maxBytes) return readable(this.lastBytes(stored), { trimStart: false, trimEnd: false }, this.total);
    const headBudget = stored <= maxBytes ? this.headLength : Math.min(this.headLength, Math.floor(maxBytes / 4));
    const tailBudget = Math.min(maxBytes - headBudget, this.tailLength + (this.omittedBytes === 0 ? this.headLength - headBudget : 0));
    const omitted = this.total - headBudget - tailBudget;
    // Each part on its own: binary bytes at the start do not hide the text at the end.
    const head = readable(this.headBytes(headBudget), { trimStart: false, trimEnd: true });
    const tail = readable(this.lastBytes(tailBudget), { trimStart: true, trimEnd: false });
    return `${head}${cutMarker(omitted, head)}${tail}`;
  }
}

/** Bytes as text a model can use, or the note that they are binary (`totalBytes`: the size to name). */
function readable(bytes: Buffer, edges: { trimStart: boolean; trimEnd: boolean }, totalBytes = bytes.length): string {
  // Judged without the characters cut at the edges: those are no sign of binary data.
  const { text, start, end } = decodeSlice(bytes, edges);
  return looksBinary(bytes.subarray(start, end)) ? binaryNote(totalBytes) : readableTerminalText(text);
}

/** The marker sits on its own line so that it is never mistaken for part of the output. */
export function cutMarker(omittedBytes: number, before: string): string {
  const newline = before === '' || before.endsWith('\n') ? '' : '\n';
  return `${newline}... [${omittedBytes} bytes omitted] ...\n`;
}
