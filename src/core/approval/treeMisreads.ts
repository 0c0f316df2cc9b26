// Where tree-sitter's bash grammar and bash itself read the same text differently. The walk trusts the tree
// only where they agree; these checks find the places they may not, so that such text asks instead of
// being judged from a misread tree (each was a red-team finding: test/support/commandTable.ts).
import type { SyntaxNode } from './shellParser';

/**
 * Text bash and tree-sitter read differently, found before parsing: a line continuation (`\\` at a line's
 * end) inside a word, which bash joins and the tree splits (`-ex\\<newline>ec`); and a carriage return,
 * vertical tab or form feed, which the tree takes as a blank and bash as part of a word (`ls\r# ; rm x`);
 * and a named file descriptor (`{PATH}<file`), which the tree takes as an argument and bash as an assignment.
 */
export function textTheTreeMisreads(source: string): string | undefined {
  if (/[\r\v\f]/.test(source)) return 'it contains a carriage return, vertical tab or form feed, which bash reads as part of a word';
  // `{PATH}</dev/null` stores a file descriptor in PATH; the tree reads `{PATH}` as an argument.
  if (/\{[A-Za-z_][A-Za-z0-9_]*\}[<>]/.test(source)) return '`{NAME}<` or `{NAME}>` stores a file descriptor in the variable NAME';
  for (let at = source.indexOf('\\\n'); at >= 0; at = source.indexOf('\\\n', at + 1)) {
    let start = at;
    while (start > 0 && source[start - 1] === '\\') start--;
    const continues = (at - start) % 2 === 0;
    if (continues && start > 0 && !/[ \t\n]/.test(source[start - 1])) return 'a line continuation (a backslash at the end of a line) joins a word that this check reads as two';
  }
  return undefined;
}

/**
 * True when text that bash expands (an unquoted word, the inside of double quotes or of an unquoted heredoc,
 * a pattern in `${x#…}`) holds a command substitution, an expansion or arithmetic that the syntax tree did
 * not show as such: the tree then misread it, and what would run cannot be told.
 */
export function hasHiddenExpansion(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '`') return true;
    if (ch === '$' && (text[i + 1] === '(' || text[i + 1] === '{' || text[i + 1] === '[')) return true;
    if ((ch === '<' || ch === '>') && text[i + 1] === '(') return true;
  }
  return false;
}

/** A heredoc's end marker as bash and the tree read it alike: a plain word, quoted or not (`$'EOF'` is not). */
export function isPlainDelimiter(start: string): boolean {
  return /^(?:[A-Za-z0-9_.-]+|'[A-Za-z0-9_.-]+'|"[A-Za-z0-9_.-]+"|\\[A-Za-z0-9_.-]+)$/.test(start);
}

/** A node's text without the parts the tree did parse (expansions, substitutions): what it left as plain text. */
export function unparsedText(node: SyntaxNode): string {
  let text = '';
  let at = node.startIndex;
  for (const child of node.namedChildren) {
    if (!child || child.type === 'heredoc_content') continue;
    text += node.text.slice(at - node.startIndex, child.startIndex - node.startIndex);
    at = child.endIndex;
  }
  return text + node.text.slice(at - node.startIndex);
}
