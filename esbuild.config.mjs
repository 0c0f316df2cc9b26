// One build script for every bundle. Extension and CLI are Node/CJS bundles with `vscode` external;
// the webview is a browser bundle. `--tests` and `--bench` also bundle test and benchmark entry points
// to out/ so that plain `node` can run them without a TypeScript loader.
import * as esbuild from 'esbuild';
import { readdirSync, statSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');

/** @param {string} dir @param {RegExp} pattern */
function filesUnder(dir, pattern) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return filesUnder(full, pattern);
    return pattern.test(name) ? [full] : [];
  });
}

const nodeBase = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  // The SDK and nanoid ship ESM; bundling them keeps the VSIX free of node_modules.
  mainFields: ['module', 'main'],
  // Shell scripts stay real files (src/core/tasks/ownerGuard.sh) and are bundled as text.
  loader: { '.sh': 'text' },
};

/** @type {esbuild.BuildOptions[]} */
const builds = [
  { ...nodeBase, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist' },
  { ...nodeBase, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  // The log trimmer's worker thread (src/core/tasks/logTrimWorker.ts), loaded from beside the bundles.
  { ...nodeBase, entryPoints: { logTrimWorker: 'src/core/tasks/logTrimWorker.ts' }, outdir: 'dist' },
  // The worker thread that matches output lines against the model's patterns (src/core/tasks/matchWorker.ts).
  { ...nodeBase, entryPoints: { matchWorker: 'src/core/tasks/matchWorker.ts' }, outdir: 'dist' },
];

if (existsSync('src/webview/main.ts')) {
  builds.push({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: production,
    sourcemap: production ? false : 'linked',
    logLevel: 'warning',
    // The highlighter is its own bundle, loaded on the first code block (src/webview/codeHighlight.ts).
    entryPoints: { webview: 'src/webview/main.ts', highlight: 'src/webview/highlighter.ts' },
    outdir: 'dist',
    loader: { '.css': 'css' },
  });
}

// The chat webview loads the codicon font from dist/ (the VSIX excludes node_modules).
mkdirSync('dist/codicons', { recursive: true });
for (const file of ['codicon.css', 'codicon.ttf']) copyFileSync(join('node_modules/@vscode/codicons/dist', file), join('dist/codicons', file));
// The shell parser of command approval (src/core/approval/shellParser.ts) loads these at run time, on the
// agent's first command: kept out of the bundles so activation never pays for them.
mkdirSync('dist/tree-sitter', { recursive: true });
for (const file of ['tree-sitter.js', 'tree-sitter.wasm', 'tree-sitter-bash.wasm']) copyFileSync(join('node_modules/@vscode/tree-sitter-wasm/wasm', file), join('dist/tree-sitter', file));

if (args.has('--tests')) {
  const entries = [
    ...filesUnder('test/unit', /\.test\.ts$/),
    ...filesUnder('test/integration', /\.ts$/),
    ...filesUnder('test/e2e', /\.ts$/),
    ...filesUnder('test/support', /\.ts$/),
  ];
  // mocha and playwright-core stay external: they are loaded from node_modules at run time.
  builds.push({ ...nodeBase, sourcemap: 'inline', minify: false, entryPoints: entries, outdir: 'out', outbase: '.', external: ['vscode', 'mocha', 'playwright-core'] });
}

if (args.has('--bench')) {
  builds.push({ ...nodeBase, sourcemap: false, minify: false, entryPoints: filesUnder('bench', /\.ts$/), outdir: 'out/bench', outbase: 'bench', external: ['vscode', 'playwright-core', 'esbuild'] });
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
