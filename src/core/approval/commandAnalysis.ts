// Splits a command line into the parts the approval policy judges, from tree-sitter's bash syntax tree.
// The walk knows a fixed set of node types; any other type, a syntax error, a construct whose effect
// depends on values only known at run time, or text the tree may have misread becomes an `unreadable`
// part, which is never allowed by rule. Found on the way: commands in `$(…)`, backticks, `<(…)`, heredocs
// and `${x:-$(…)}` (they run too); commands behind wrappers; scripts given to `sh -c` and `eval` (parsed
// again, a few levels deep, in their shell's dialect); redirections that write files; assignments.
// Red-team findings that shaped it are in test/support/commandTable.ts.
import type { Assignment, CommandPart, SimpleCommand, Word } from './commandParts';
import { wordsText } from './commandRules';
import { SCRIPT_SHELLS, shellScript, unwrap } from './commandWrappers';
import { dialectOf, isPlainWords, type ShellDialect } from './shellDialect';
import type { ShellParser, SyntaxNode } from './shellParser';
import { staticValue } from './shellWords';
import { hasHiddenExpansion, isPlainDelimiter, textTheTreeMisreads, unparsedText } from './treeMisreads';
import { ARITHMETIC_WHY, assignmentOf, visitArithmetic, visitAssignment, visitDeclaration, visitExpansion, visitTest, visitUnset, type Walk } from './valueChecks';

/** Longer command lines are not judged (they ask): a person cannot review them either. */
export const MAX_JUDGED_COMMAND_CHARS = 64 * 1024;
/** `sh -c "eval 'bash -c …'"`: nesting beyond this asks. */
const MAX_SCRIPT_DEPTH = 4;

/** Node types whose children are walked with nothing else to check. */
const CONTAINERS = new Set([
  'program', 'list', 'pipeline', 'subshell', 'compound_statement', 'do_group', 'negated_command',
  'if_statement', 'elif_clause', 'else_clause', 'while_statement', 'case_statement', 'case_item',
  'redirected_statement', 'process_substitution', 'heredoc_body', 'string', 'concatenation',
  'variable_assignments', 'unary_expression', 'binary_expression', 'parenthesized_expression',
  'ternary_expression', 'postfix_expression', 'subscript',
]);

/** Leaves that nothing runs in. */
const INERT = new Set(['number', 'variable_name', 'special_variable_name', 'simple_expansion', 'comment', 'heredoc_end', 'file_descriptor', 'test_operator', 'brace_expression']);
/** Leaves whose text bash expands: if they hold `$(`, a backtick or `${`, the tree misread them. */
const EXPANDED_TEXT = new Set(['word', 'string_content', 'regex', 'extglob_pattern', 'heredoc_content']);

/** Files a redirection may name without writing anything. */
const HARMLESS_TARGETS = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty']);
/** Redirection operators that write their target. `>&` writes unless its target is a descriptor. */
const WRITING_OPERATORS = new Set(['>', '>>', '&>', '&>>', '>|', '>&']);
/** Nodes that end the search for an enclosing double quote. */
const STATEMENTS = new Set(['command', 'program', 'list', 'pipeline', 'redirected_statement', 'subshell', 'compound_statement', 'command_substitution', 'process_substitution']);

/** Builtins that change what later command names run. */
const RENAMES_COMMANDS = new Set(['alias', 'hash', 'enable', 'shopt']);

/** `shell` is the one that will run the command (its dialect decides how the text is read). */
export function analyzeCommand(parser: ShellParser, source: string, shell = 'bash'): CommandPart[] {
  if (source.length > MAX_JUDGED_COMMAND_CHARS) return [{ kind: 'unreadable', text: `${source.slice(0, 80)}…`, why: `it is longer than ${MAX_JUDGED_COMMAND_CHARS / 1024} KiB` }];
  const parts: CommandPart[] = [];
  analyzeScript(parser, source, parts, 0, shell);
  return parts;
}

function analyzeScript(parser: ShellParser, source: string, parts: CommandPart[], depth: number, shell: string): void {
  const dialect = dialectOf(shell);
  const misread = textTheTreeMisreads(source) ?? (dialect === 'zsh' && /\$[A-Za-z_][A-Za-z0-9_]*\[/.test(source) ? 'zsh evaluates `$name[…]` as an arithmetic subscript, which can run commands' : undefined);
  if (misread) {
    parts.push({ kind: 'unreadable', text: source, why: misread });
    return;
  }
  if (dialect === 'other' && !isPlainWords(source)) {
    parts.push({ kind: 'unreadable', text: source, why: `it runs in ${shell}, whose syntax this check reads only for plain words` });
    return;
  }
  const parsed = parser.parse(source);
  try {
    if (parsed.root.hasError) {
      parts.push({ kind: 'unreadable', text: source, why: 'it is not valid shell syntax (or uses syntax this check cannot read)' });
      return;
    }
    new Walker(parser, parts, depth, dialect, shell).visit(parsed.root);
  } finally {
    parsed.dispose();
  }
}

class Walker implements Walk {
  constructor(
    readonly parser: ShellParser,
    private readonly parts: CommandPart[],
    private readonly depth: number,
    readonly dialect: ShellDialect,
    /** The shell that runs this script: `eval` re-reads text in the same shell. */
    private readonly shell: string,
  ) {}

  push(part: CommandPart): void {
    this.parts.push(part);
  }

  visit(node: SyntaxNode): void {
    const type = node.type;
    if (INERT.has(type)) return;
    if (EXPANDED_TEXT.has(type)) return this.expandedText(node);
    if (CONTAINERS.has(type)) return this.visitChildren(node);
    switch (type) {
      case 'command':
        return this.command(node);
      case 'command_name':
        return this.visitChildren(node);
      case 'variable_assignment':
        return visitAssignment(this, node, false);
      case 'declaration_command':
        return visitDeclaration(this, node);
      case 'unset_command':
        return visitUnset(this, node);
      case 'file_redirect':
        return this.redirect(node);
      case 'heredoc_redirect':
        return this.heredoc(node);
      case 'herestring_redirect':
        if (this.dialect === 'posix') return this.unreadable(node, 'sh has no `<<<`: it reads it as a heredoc');
        return this.visitChildren(node);
      case 'raw_string':
        return this.rawString(node);
      case 'ansi_c_string':
      case 'translated_string':
        if (this.dialect === 'posix') return this.unreadable(node, "sh has no `$'…'` or `$\"…\"` quoting: it reads the text differently");
        return this.visitChildren(node);
      case 'command_substitution':
        // Backticks inside backticks are escaped, and the tree does not read inside them.
        if (node.text.startsWith('`') && node.text.slice(1, -1).includes('\\`')) return this.unreadable(node, 'it nests backticks, which this check cannot read');
        return this.visitChildren(node);
      case 'function_definition': {
        // Its name is not a command; its body (and any redirection after it) runs whenever it is called.
        const name = node.childForFieldName('name');
        for (const child of node.namedChildren) if (child && child !== name) this.visit(child);
        return;
      }
      case 'array':
        // `a=([x]=1)`: an index in a compound assignment is arithmetic.
        if (/\[[^\]]*[A-Za-z_$][^\]]*\]=/.test(node.text)) this.unreadable(node, ARITHMETIC_WHY);
        return this.visitChildren(node);
      case 'for_statement': {
        // `for PATH in .; do …` assigns its variable on every round.
        const variable = node.childForFieldName('variable');
        if (variable) this.parts.push({ kind: 'assignment', text: node.text, assignment: { name: variable.text, value: undefined }, exported: false });
        for (const child of node.namedChildren) if (child && child !== variable) this.visit(child);
        return;
      }
      case 'arithmetic_expansion':
        return visitArithmetic(this, node, node.text.replace(/^\$(\(\(|\[)|(\)\)|\])$/g, ''));
      case 'c_style_for_statement':
        visitArithmetic(this, node, node.text.slice(0, node.text.indexOf('))') + 2));
        return this.visitField(node, 'body');
      case 'test_command':
        return visitTest(this, node);
      case 'expansion':
        return visitExpansion(this, node);
      default:
        this.unreadable(node, `this check cannot read its ${type.replace(/_/g, ' ')}`);
    }
  }

  unreadable(node: SyntaxNode, why: string): void {
    this.parts.push({ kind: 'unreadable', text: node.text, why });
  }

  visitChildren(node: SyntaxNode): void {
    for (const child of node.namedChildren) if (child) this.visit(child);
  }

  visitField(node: SyntaxNode, field: string): void {
    const child = node.childForFieldName(field);
    if (child) this.visit(child);
  }

  /** Text bash expands but the tree kept as one leaf: if it holds code, the tree misread it. */
  private expandedText(node: SyntaxNode): void {
    if (hasHiddenExpansion(node.text)) return this.unreadable(node, `this check cannot read the substitution in \`${node.text}\``);
    // zsh: `*(e:'cmd':)` glob qualifiers run code, `=cmd` expands to a path.
    if (this.dialect === 'zsh' && node.type === 'word' && (/(^|[^\\])\(/.test(node.text) || node.text.startsWith('='))) {
      this.unreadable(node, 'zsh reads `(…)` after a word as a glob qualifier, which can run code');
    }
  }

  /** '…' quotes only outside double quotes; inside them (and in a heredoc) its text is expanded. */
  private rawString(node: SyntaxNode): void {
    for (let up = node.parent; up && !STATEMENTS.has(up.type); up = up.parent) {
      if ((up.type === 'string' || up.type === 'heredoc_body') && hasHiddenExpansion(node.text)) {
        return this.unreadable(node, `inside double quotes ${node.text} is not quoting, and this check cannot read what it runs`);
      }
    }
  }

  private command(node: SyntaxNode): void {
    const assignments: Assignment[] = [];
    const words: Word[] = [];
    let splits = false;
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'variable_assignment') {
        assignments.push(assignmentOf(child));
        this.visitField(child, 'value');
      } else if (child.type === 'command_name') {
        const name = child.namedChildren[0];
        words.push(name ? staticValue(name) : undefined);
        if (name) this.visit(name);
      } else if (child.type === 'file_redirect' || child.type === 'heredoc_redirect' || child.type === 'herestring_redirect') {
        this.visit(child);
      } else {
        const value = staticValue(child);
        // Unquoted, a value only known at run time is split into words and globbed; in "…" it stays one word.
        if (value === undefined && child.type !== 'string') splits = true;
        words.push(value);
        this.visit(child);
      }
    }
    const command = this.simpleCommand(node.text, words, assignments);
    this.parts.push(splits ? { ...command, splits } : command);
  }

  /** A command as judged: wrappers peeled, scripts parsed, `find -exec` commands added as parts of their own. */
  private simpleCommand(text: string, words: readonly Word[], assignments: readonly Assignment[]): SimpleCommand {
    const name = words[0];
    if (name !== undefined && SCRIPT_SHELLS.has(name)) {
      const script = shellScript(words);
      if (script.kind === 'script') {
        this.script(text, script.script, name);
        return { kind: 'command', text, words, assignments, runsScript: true };
      }
      if (script.kind === 'unclear') this.parts.push({ kind: 'unreadable', text, why: script.why });
      return { kind: 'command', text, words, assignments, hidesCommands: `\`${name}\` runs a script from a file or its input, which this check cannot see` };
    }
    if (name === 'eval') {
      const args = words.slice(1);
      if (args.every((w): w is string => w !== undefined)) {
        this.script(text, args.join(' '), this.shell);
        return { kind: 'command', text, words, assignments, runsScript: true };
      }
      this.parts.push({ kind: 'unreadable', text, why: 'eval runs text that is only known at run time' });
    }
    if (name === 'source' || name === '.') return { kind: 'command', text, words, assignments, hidesCommands: `\`${name}\` runs a script file, which this check cannot see` };
    // `alias x=rm`, `hash -p /bin/rm ls`, `enable -f`, `shopt -s expand_aliases`: later names mean other commands.
    if (name !== undefined && RENAMES_COMMANDS.has(name)) return { kind: 'command', text, words, assignments, hidesCommands: `\`${name}\` changes which program a command name runs` };
    if (name === 'find') this.findExec(words);
    const unwrapped = unwrap(words);
    if (unwrapped.kind === 'unclear') {
      this.parts.push({ kind: 'unreadable', text, why: unwrapped.why });
      return { kind: 'command', text, words, assignments };
    }
    if (unwrapped.kind === 'none') return { kind: 'command', text, words, assignments };
    // Its own text, so that a regex rule about the wrapper's line is not taken as one about this command.
    const inner = this.simpleCommand(wordsText(unwrapped.words), unwrapped.words, unwrapped.assignments);
    // `xargs env`, `xargs sh`: the command itself comes from xargs' input; `xargs -I{} sh -c '{}'` puts it in the script.
    const replaces = name === 'xargs' && words.some((w) => w === undefined || /^(-I|-i|--replace)/.test(w));
    const hides = unwrapped.appendsArgs && (replaces || inner.hidesCommands !== undefined || unwrap([...unwrapped.words, 'x']).kind === 'command');
    return {
      kind: 'command',
      text,
      words,
      assignments,
      wrapped: { wrapper: unwrapped.wrapper, command: inner, appendsArgs: unwrapped.appendsArgs, elevates: unwrapped.elevates },
      ...(hides && { hidesCommands: `\`${unwrapped.wrapper}\` gives it a command from its input, which this check cannot see` }),
    };
  }

  private script(text: string, script: string, shell: string): void {
    if (this.depth >= MAX_SCRIPT_DEPTH) {
      this.parts.push({ kind: 'unreadable', text, why: `scripts nested more than ${MAX_SCRIPT_DEPTH} levels deep` });
      return;
    }
    analyzeScript(this.parser, script, this.parts, this.depth + 1, shell);
  }

  /** `find … -exec cmd {} ;` runs cmd: it is judged like any command (its `{}` is a file name). */
  private findExec(words: readonly Word[]): void {
    for (let i = 1; i < words.length; i++) {
      if (!['-exec', '-execdir', '-ok', '-okdir'].includes(words[i] ?? '')) continue;
      const end = words.findIndex((w, j) => j > i && (w === ';' || w === '+'));
      const inner = words.slice(i + 1, end < 0 ? undefined : end);
      if (inner.length > 0) this.parts.push(this.simpleCommand(wordsText(inner), inner, []));
      if (end < 0) break;
      i = end;
    }
  }

  private redirect(node: SyntaxNode): void {
    const operator = node.children.find((c) => c !== null && !c.isNamed)?.text ?? '';
    const destination = node.childForFieldName('destination');
    if (destination) this.visit(destination);
    if (!destination) return;
    const target = staticValue(destination);
    if (target !== undefined && /^\/dev\/(tcp|udp)\//.test(target)) return this.unreadable(node, `it opens a network connection (${target})`);
    if (target !== undefined && target.startsWith('/proc/')) return this.unreadable(node, 'it reads process information under /proc, which can hold the API key');
    // `2>&1`, `>&2`, `<&3`: a descriptor, not a file.
    if ((operator === '>&' || operator === '<&') && (destination.type === 'number' || destination.text === '-')) return;
    if (!WRITING_OPERATORS.has(operator)) {
      // Reading a file whose name is computed: it could be /dev/tcp/…, a network connection.
      if (target === undefined) this.unreadable(node, 'it reads from a file whose name is only known at run time (it could be a network connection)');
      return;
    }
    if (target !== undefined && HARMLESS_TARGETS.has(target)) return;
    this.parts.push({ kind: 'write', text: node.text, target });
  }

  /** A heredoc's text is expanded unless its end marker is quoted; an odd marker may end it elsewhere than the tree thinks. */
  private heredoc(node: SyntaxNode): void {
    const start = node.namedChildren.find((c) => c?.type === 'heredoc_start')?.text ?? '';
    if (!isPlainDelimiter(start)) return this.unreadable(node, `this check cannot tell where the heredoc that ends with ${start} ends`);
    const quoted = /['"\\]/.test(start);
    for (const child of node.namedChildren) {
      if (!child || child.type === 'heredoc_start' || (quoted && child.type === 'heredoc_body')) continue;
      if (child.type === 'heredoc_body' && hasHiddenExpansion(unparsedText(child))) {
        this.unreadable(node, 'its heredoc holds a substitution (backticks) that this check cannot read');
        continue;
      }
      this.visit(child);
    }
  }

}
