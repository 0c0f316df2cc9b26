// What a word of a shell command means before it runs, when that can be known from its text alone.
// `r''m`, `"rm"` and `\rm` all run rm; `$x`, `*.ts`, `{a,b}` and `~/x` become something else at run time.
// A rule can only be matched against words whose value is known, so every other word is `undefined`.
import type { SyntaxNode } from './shellParser';

/** The word's value after quote removal, or undefined when expansion (variables, globs, braces, ~) decides it. */
export function staticValue(node: SyntaxNode): string | undefined {
  switch (node.type) {
    case 'word':
      return unquotedWord(node.text);
    case 'number':
      return node.text;
    case 'raw_string':
      return node.text.slice(1, -1);
    case 'ansi_c_string':
      return ansiCString(node.text.slice(2, -1));
    case 'string':
    case 'translated_string': {
      let value = '';
      for (const child of node.namedChildren) {
        if (!child || child.type !== 'string_content') return undefined;
        value += doubleQuotedText(child.text);
      }
      return value;
    }
    case 'concatenation': {
      let value = '';
      for (const child of node.namedChildren) {
        const part = child ? staticValue(child) : undefined;
        if (part === undefined) return undefined;
        value += part;
      }
      // Quoted pieces around a brace (`{"a",b}`) still expand: judge the joined text once more.
      return hasUnquotedExpansion(node) ? undefined : value;
    }
    default:
      return undefined;
  }
}

/** An unquoted word: backslash escapes removed; globs, brace expansion and a leading ~ make it dynamic. */
function unquotedWord(text: string): string | undefined {
  if (text.startsWith('~')) return undefined;
  let value = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[i + 1];
      i++;
      if (next !== undefined && next !== '\n') value += next;
      continue;
    }
    if (ch === '*' || ch === '?' || ch === '[') return undefined;
    if (ch === '{' && isBraceExpansion(text, i)) return undefined;
    value += ch;
  }
  return value;
}

/** `{a,b}` or `{1..3}` starting at `open` (unescaped), as bash expands it. */
function isBraceExpansion(text: string, open: number): boolean {
  const close = text.indexOf('}', open);
  if (close < 0) return false;
  const inner = text.slice(open + 1, close);
  return inner.includes(',') || inner.includes('..');
}

/** Brace expansion spread over the parts of a concatenation (`{r,}m`, `{"r",}m`). */
function hasUnquotedExpansion(node: SyntaxNode): boolean {
  const unquoted = node.namedChildren
    .filter((child): child is SyntaxNode => child !== null && child.type === 'word')
    .map((child) => child.text)
    .join('');
  return unquoted.includes('{') && (unquoted.includes(',') || unquoted.includes('..'));
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

/**
 * `$'…'` as bash decodes it; undefined for an escape this check does not decode (\c, \u…), as if dynamic.
 * Bash ends the word at a NUL (`$'-exec\0'` is `-exec`), so the value ends there too.
 */
function ansiCString(body: string): string | undefined {
  const value = ansiCEscapes(body);
  return value === undefined ? undefined : value.split('\0')[0];
}

function ansiCEscapes(body: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      out += body[i];
      continue;
    }
    const next = body[++i];
    if (next !== undefined && next in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[next];
      continue;
    }
    const hex = /^x([0-9a-fA-F]{1,2})/.exec(body.slice(i));
    const octal = /^[0-7]{1,3}/.exec(body.slice(i));
    if (hex) {
      out += String.fromCharCode(parseInt(hex[1], 16));
      i += hex[0].length - 1;
    } else if (octal) {
      out += String.fromCharCode(parseInt(octal[0], 8));
      i += octal[0].length - 1;
    } else return undefined;
  }
  return out;
}

/** Inside double quotes a backslash only escapes $ ` " \ and a newline. */
function doubleQuotedText(text: string): string {
  return text.replace(/\\([$`"\\\n])/g, (_, ch: string) => (ch === '\n' ? '' : ch));
}
