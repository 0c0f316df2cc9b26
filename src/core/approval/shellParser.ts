// The shell parser behind command approval: tree-sitter's bash grammar compiled to WebAssembly
// (@vscode/tree-sitter-wasm, what VS Code's own terminal auto-approve uses). It is loaded on first use,
// never on activation: its runtime and grammar are 1.6 MB of WASM that most sessions never need before
// the agent's first command. The build copies the three files to dist/tree-sitter/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Language, Node, Parser as TreeSitterParser } from '@vscode/tree-sitter-wasm';

export type SyntaxNode = Node;

/** A parsed command: its root node, valid until `dispose()`. */
export interface ParsedShell {
  readonly root: SyntaxNode;
  dispose(): void;
}

export interface ShellParser {
  parse(source: string): ParsedShell;
}

interface TreeSitterModule {
  Parser: { init(options: { locateFile(file: string): string }): Promise<void>; new (): TreeSitterParser };
  Language: { load(path: string): Promise<Language> };
}

const RUNTIME_FILE = 'tree-sitter.js';
const GRAMMAR_FILE = 'tree-sitter-bash.wasm';

let loading: Promise<ShellParser> | undefined;

/**
 * The parser, loaded once per process. `dir` holds tree-sitter.js, tree-sitter.wasm and
 * tree-sitter-bash.wasm; by default dist/tree-sitter next to the bundle, else the package in node_modules
 * (tests and benchmarks run from out/). A failed load is not cached: the next command tries again.
 */
export function loadShellParser(dir?: string): Promise<ShellParser> {
  loading ??= load(dir ?? findParserDir()).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(dir: string): Promise<ShellParser> {
  // A runtime path, so the bundler leaves it alone: tree-sitter.js stays out of extension.js.
  const runtimePath = join(dir, RUNTIME_FILE);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(runtimePath) as TreeSitterModule;
  await module.Parser.init({ locateFile: (file) => join(dir, file) });
  const language = await module.Language.load(join(dir, GRAMMAR_FILE));
  const parser = new module.Parser();
  parser.setLanguage(language);
  return {
    parse(source) {
      const tree = parser.parse(source);
      if (!tree) throw new Error('the shell parser returned no tree');
      return { root: tree.rootNode, dispose: () => tree.delete() };
    },
  };
}

/** dist/tree-sitter beside the running bundle, else @vscode/tree-sitter-wasm in a node_modules above it. */
export function findParserDir(start = __dirname): string {
  const bundled = join(start, 'tree-sitter');
  if (existsSync(join(bundled, GRAMMAR_FILE))) return bundled;
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '@vscode', 'tree-sitter-wasm', 'wasm');
    if (existsSync(join(candidate, GRAMMAR_FILE))) return candidate;
    if (dirname(dir) === dir) return bundled;
  }
}
