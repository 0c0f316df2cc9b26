// The change a write would make, as a unified diff a person can review in an approval card or on a
// terminal. Bounded: a rewrite of a 10,000-line file shows its first lines and says how much is left.
import { structuredPatch } from 'diff';

export interface DiffPreview {
  /** Unified diff lines (`@@ … @@`, `-old`, `+new`, ` context`), without the file header. */
  readonly text: string;
  readonly added: number;
  readonly removed: number;
  /** Lines of the diff not shown. */
  readonly hiddenLines: number;
}

export const DIFF_PREVIEW_LINES = 120;

export function diffPreview(before: string | undefined, after: string, maxLines = DIFF_PREVIEW_LINES): DiffPreview {
  const patch = structuredPatch('before', 'after', before ?? '', after, undefined, undefined, { context: 3 });
  const lines: string[] = [];
  let added = 0;
  let removed = 0;
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) {
      if (line.startsWith('\\')) continue; // "\ No newline at end of file"
      if (line.startsWith('+')) added++;
      else if (line.startsWith('-')) removed++;
      lines.push(line);
    }
  }
  const shown = lines.slice(0, maxLines);
  return { text: shown.join('\n'), added, removed, hiddenLines: lines.length - shown.length };
}
