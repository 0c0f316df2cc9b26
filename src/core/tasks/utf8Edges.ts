// Byte slices of UTF-8 text can start or end inside a character. These helpers move the cut to a
// character boundary so the decoded text never shows U+FFFD for a character that was merely split.
import { decodeReadable } from './outputText';

/** Number of leading continuation bytes (10xxxxxx) to skip, at most 3. */
export function leadingContinuationBytes(buf: Uint8Array): number {
  let n = 0;
  while (n < 3 && n < buf.length && (buf[n] & 0xc0) === 0x80) n++;
  return n;
}

/** Length of `buf` without a trailing incomplete character (0–3 bytes shorter). */
export function completeLength(buf: Uint8Array): number {
  const len = buf.length;
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  for (let back = 1; back <= Math.min(4, len); back++) {
    const byte = buf[len - back];
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? len - back : len;
  }
  return len;
}

/**
 * Decodes a slice whose both ends may cut characters; returns the text and how many bytes it covers.
 * Bytes that are not UTF-8 (after the edges are moved) come out as `\xNN`, never as U+FFFD.
 */
export function decodeSlice(buf: Buffer, options: { trimStart: boolean; trimEnd: boolean }): { text: string; start: number; end: number } {
  const start = options.trimStart ? leadingContinuationBytes(buf) : 0;
  const end = options.trimEnd ? Math.max(start, completeLength(buf)) : buf.length;
  return { text: decodeReadable(buf.subarray(start, end)), start, end };
}
