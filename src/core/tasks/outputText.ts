// Task output as text a model (or a person) can use. A task may print anything: binary data, NUL bytes,
// invalid UTF-8, terminal escapes, progress bars redrawn with \r. Pasted raw, that costs tokens and
// means nothing (hundreds of U+FFFD, control characters). So:
//   - output that is mostly not text is described instead ("binary output, N bytes, not shown");
//   - bytes that are not UTF-8 are written as \xNN (a long run is summarized), never as U+FFFD;
//   - terminal escapes are removed, a line redrawn with \r keeps what a terminal would finally show,
//     and the control characters left are escaped.
import { isUtf8 } from 'node:buffer';

/** More than this share of suspicious bytes (NUL, control characters, invalid UTF-8) makes output binary. */
const BINARY_SHARE = 0.1;
/** ...and at least this many: a stray byte in a few bytes of text is not binary data. */
const BINARY_MIN_BYTES = 4;
/** Looked at to decide: the first and the last half of this many bytes. */
const SAMPLE_BYTES = 64 * 1024;
/** Invalid bytes in a row written out one by one; a longer run shows its first ones and its length. */
const ESCAPED_RUN = 8;

export function binaryNote(totalBytes: number): string {
  return `[binary output, ${totalBytes} bytes, not shown]`;
}

/** True when the bytes are mostly not text: NUL bytes, control characters or invalid UTF-8. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  const sample = bytes.length <= SAMPLE_BYTES ? [bytes] : [bytes.subarray(0, SAMPLE_BYTES / 2), bytes.subarray(bytes.length - SAMPLE_BYTES / 2)];
  let suspicious = 0;
  let total = 0;
  for (const part of sample) {
    total += part.length;
    suspicious += invalidUtf8Bytes(part);
    for (const byte of part) if (byte < 0x20 && !TEXT_CONTROLS.has(byte)) suspicious++;
  }
  return suspicious > total * BINARY_SHARE && suspicious >= BINARY_MIN_BYTES;
}

/** Tab, newline, carriage return, form feed, backspace and escape: normal in text output. */
const TEXT_CONTROLS = new Set([0x09, 0x0a, 0x0d, 0x0c, 0x08, 0x1b]);

/** UTF-8 text with every byte that is not part of a valid character written as `\xNN`. */
export function decodeReadable(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let out = '';
  let validStart = 0;
  for (let i = 0; i < buffer.length; ) {
    const length = sequenceLength(buffer, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += buffer.toString('utf8', validStart, i);
    let end = i + 1;
    while (end < buffer.length && sequenceLength(buffer, end) === 0) end++;
    out += escapeRun(buffer, i, end);
    i = end;
    validStart = end;
  }
  return out + buffer.toString('utf8', validStart);
}

function escapeRun(buffer: Buffer, start: number, end: number): string {
  const shown = Math.min(end - start, ESCAPED_RUN);
  let out = '';
  for (let i = start; i < start + shown; i++) out += `\\x${buffer[i].toString(16).padStart(2, '0')}`;
  return end - start > shown ? `${out}[… ${end - start - shown} more bytes that are not UTF-8]` : out;
}

/** Bytes of a valid UTF-8 character starting at `i`, or 0 when the byte there does not start one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const lead = b[i];
  if (lead < 0x80) return 1;
  const cont = (k: number, min = 0x80, max = 0xbf): boolean => i + k < b.length && b[i + k] >= min && b[i + k] <= max;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (lead === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (lead >= 0xe1 && lead <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (lead === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (lead >= 0xf1 && lead <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (lead === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

function invalidUtf8Bytes(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return 0;
  let invalid = 0;
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      invalid++;
      i++;
    } else i += length;
  }
  return invalid;
}

// CSI (colours, cursor moves), OSC (titles, links) and single-character escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Drops escape sequences and keeps what a terminal would finally show of lines redrawn with \r. */
export function cleanTerminalText(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r+$/, '');
      const cr = trimmed.lastIndexOf('\r');
      return cr >= 0 ? trimmed.slice(cr + 1) : trimmed;
    })
    .join('\n');
}

// C0 controls but tab and newline, DEL, and the C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/g;

/** Control characters left in text (a bell, a stray escape, NUL) as visible escapes: `\x07`, `\u0085`. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Output text as it should be read: terminal escapes applied, controls escaped. */
export function readableTerminalText(text: string): string {
  return escapeControls(cleanTerminalText(text));
}

/** The first bytes as a hex dump (offset, 16 bytes in hex, the printable ones), for a person looking at binary output. */
export function hexPreview(bytes: Uint8Array, offset = 0, maxBytes = 512): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, maxBytes);
  for (let at = 0; at < end; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, end));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(offset + at).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join('\n');
}
