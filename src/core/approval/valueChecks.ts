// Where bash evaluates values: assignments (which change what later commands do), declarations (whose
// options change how values are read), arithmetic (which runs commands hidden in a variable's value:
// `x='a[$(cmd)]'; echo $((x))`), tests and `${…}` expansions. Part of the walk in commandAnalysis.ts.
import type { Assignment, CommandPart } from './commandParts';
import type { ShellDialect } from './shellDialect';
import type { ShellParser, SyntaxNode } from './shellParser';
import { staticValue } from './shellWords';

export const ARITHMETIC_WHY = 'arithmetic on a variable: bash runs commands hidden in the value of a variable used there';

/** What these checks need of the walk. */
export interface Walk {
  readonly parser: ShellParser;
  readonly dialect: ShellDialect;
  visit(node: SyntaxNode): void;
  visitChildren(node: SyntaxNode): void;
  visitField(node: SyntaxNode, field: string): void;
  push(part: CommandPart): void;
  unreadable(node: SyntaxNode, why: string): void;
}

export function visitAssignment(walk: Walk, node: SyntaxNode, exported: boolean): void {
  walk.push({ kind: 'assignment', text: node.text, assignment: assignmentOf(node), exported });
  // `a[i]=…`: the index is arithmetic.
  const name = node.childForFieldName('name');
  if (name?.type === 'subscript') visitArithmetic(walk, name, name.childForFieldName('index')?.text ?? '');
  walk.visitField(node, 'value');
}

/**
 * `export A=1`, `local x`, `declare -i n=…`: assignments, also when quoted (`export "PATH=."`). Options
 * change meaning (`-n` makes a name point at another variable, `-i` evaluates values), also when quoted
 * (`declare '-n' r=PS4`). declare, local, readonly and typeset read a value in `(…)` again as code.
 */
export function visitDeclaration(walk: Walk, node: SyntaxNode): void {
  const keyword = node.children.find((c) => c !== null && !c.isNamed)?.text ?? '';
  const flags: string[] = [];
  const operands: SyntaxNode[] = [];
  for (const child of node.namedChildren) {
    if (!child) continue;
    const value = child.type === 'variable_assignment' ? undefined : staticValue(child);
    if (value !== undefined && /^[-+]/.test(value)) flags.push(value);
    else operands.push(child);
  }
  const refused = flags.find((flag) => !/^-[xraAglu]+$/.test(flag));
  if (refused) return walk.unreadable(node, `\`${keyword} ${refused}\` changes how variables behave`);
  const exported = keyword === 'export' || flags.some((flag) => flag.includes('x'));
  const reparses = keyword !== 'export';
  for (const child of operands) {
    if (child.type === 'variable_assignment') {
      const value = child.childForFieldName('value');
      const text = value ? staticValue(value) : '';
      if (reparses && value && value.type !== 'array' && (text === undefined || text.startsWith('('))) {
        walk.unreadable(node, `\`${keyword}\` reads a value in (…) again as code, and this value is one or may be one`);
        continue;
      }
      visitAssignment(walk, child, exported);
      continue;
    }
    const value = child.type === 'variable_name' ? child.text : staticValue(child);
    if (value === undefined) {
      walk.unreadable(node, `\`${keyword}\` is given a name only known at run time`);
      continue;
    }
    const at = value.indexOf('=');
    const assignment = at < 0 ? { name: value, value: undefined } : { name: value.slice(0, at), value: value.slice(at + 1) };
    if (reparses && at >= 0 && value.slice(at + 1).startsWith('(')) {
      walk.unreadable(node, `\`${keyword}\` reads a value in (…) again as code`);
      continue;
    }
    // A bare `local PATH` empties it (inside a function): judged like an assignment; `export NAME` as exported.
    walk.push({ kind: 'assignment', text: node.text, assignment, exported });
    walk.visit(child);
  }
}

/** `unset 'a[$(cmd)]'` evaluates the index; `unset PATH` makes bash look for programs in the current folder. */
export function visitUnset(walk: Walk, node: SyntaxNode): void {
  if (node.namedChildren.some((c) => c !== null && c.text.includes('['))) return walk.unreadable(node, ARITHMETIC_WHY);
  let functions = false;
  for (const child of node.namedChildren) {
    if (!child) continue;
    const name = child.type === 'variable_name' ? child.text : staticValue(child);
    if (name === undefined) return walk.unreadable(node, '`unset` is given a name only known at run time');
    if (name.startsWith('-')) {
      functions ||= name.includes('f');
      continue;
    }
    // Unsetting a variable changes it like an assignment does (functions are not variables).
    if (!functions) walk.push({ kind: 'assignment', text: node.text, assignment: { name, value: undefined }, exported: false });
  }
  walk.visitChildren(node);
}

export function visitArithmetic(walk: Walk, node: SyntaxNode, expression: string): void {
  if (/[A-Za-z_$]/.test(expression.replace(/\b0[xX][0-9a-fA-F]+\b/g, ''))) walk.unreadable(node, ARITHMETIC_WHY);
  walk.visitChildren(node);
}

/** `[[ … ]]` compares numbers arithmetically (-eq, -lt…) and `((…))` is arithmetic; `[ … ]` is the test builtin. */
export function visitTest(walk: Walk, node: SyntaxNode): void {
  const text = node.text;
  if (text.startsWith('((')) return visitArithmetic(walk, node, text.slice(2, -2));
  if (!text.startsWith('[[')) {
    visitBracketTest(walk, node);
    return walk.visitChildren(node);
  }
  if (text.startsWith('[[')) {
    const numeric = /\s-(eq|ne|lt|le|gt|ge)\s/.test(text);
    // `-v NAME` is fine; `-v $x` or `-v 'a[…]'` evaluates an index (positional parameters come from outside too).
    const arrayCheck = [...text.matchAll(/\s-v\s+(\S+)/g)].some((m) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(m[1]));
    if ((numeric && /[$A-Za-z_]/.test(text.replace(/\s-(eq|ne|lt|le|gt|ge)\s/g, ' ').slice(2, -2).replace(/\$[#?$!]/g, ''))) || arrayCheck) {
      walk.unreadable(node, ARITHMETIC_WHY);
    }
  }
  walk.visitChildren(node);
}

/**
 * `[ … ]` is the test builtin, judged like the command `test …` (its words, and whether an unquoted value
 * may split into several): `[ -v 'a[$(cmd)]' ]` runs cmd, and `[ $x ]` may become just that.
 */
export function visitBracketTest(walk: Walk, node: SyntaxNode): void {
  const parsed = walk.parser.parse(`test ${node.text.slice(1, -1)}`);
  try {
    const command = parsed.root.hasError ? undefined : parsed.root.namedChildren[0];
    if (!command || command.type !== 'command') return walk.unreadable(node, 'this check cannot read this test');
    const args = command.namedChildren.filter((c): c is SyntaxNode => c !== null && c.type !== 'command_name');
    const splits = args.some((arg) => arg.type !== 'string' && staticValue(arg) === undefined);
    walk.push({ kind: 'command', text: node.text, words: ['[', ...args.map(staticValue), ']'], assignments: [], ...(splits && { splits }) });
  } finally {
    parsed.dispose();
  }
}

/**
 * `${…}`: substring offsets, array indexes and `${!x}` are evaluated; `${x@P}` expands a prompt (runs its
 * `$(…)`); `${x=v}` assigns; defaults may run `$(…)`.
 */
export function visitExpansion(walk: Walk, node: SyntaxNode): void {
  const operators = node.children.filter((c): c is SyntaxNode => c !== null && !c.isNamed).map((c) => c.text);
  const text = node.text;
  if (walk.dialect === 'zsh' && /^\$\{[(~=^]/.test(text)) return walk.unreadable(node, 'zsh expansion flags can evaluate text');
  if (/@P\}$/.test(text)) return walk.unreadable(node, '`@P` expands the value as a prompt, running the commands in it');
  const evaluated = operators.includes(':') || node.namedChildren.some((c) => c?.type === 'subscript');
  if (operators.includes('!') || (evaluated && /[A-Za-z_$]/.test(evaluatedText(node)))) walk.unreadable(node, ARITHMETIC_WHY);
  if (operators.includes('=') || operators.includes(':=')) {
    const name = node.namedChildren.find((c) => c?.type === 'variable_name')?.text ?? '';
    walk.push({ kind: 'assignment', text, assignment: { name, value: undefined }, exported: false });
  }
  walk.visitChildren(node);
}

export function assignmentOf(node: SyntaxNode): Assignment {
  const name = node.childForFieldName('name');
  const value = node.childForFieldName('value');
  // `BASH_CMDS[ls]=/bin/rm` assigns to BASH_CMDS.
  const variable = name?.type === 'subscript' ? name.childForFieldName('name') : name;
  return { name: variable?.text ?? node.text.split(/[=[]/)[0], value: value ? staticValue(value) : '' };
}

/** The parts of `${x:off:len}` or `${a[i]}` that bash evaluates as arithmetic. */
function evaluatedText(node: SyntaxNode): string {
  const subscript = node.namedChildren.find((c) => c?.type === 'subscript');
  if (subscript) return subscript.childForFieldName('index')?.text ?? '';
  const inner = node.text.slice(2, -1);
  const colon = inner.indexOf(':');
  return colon < 0 ? '' : inner.slice(colon + 1);
}
