// `npm run package`: a .vsix with production bundles (vsce runs `vscode:prepublish`), nothing else.
// Everything the extension needs is bundled by esbuild, so no node_modules go in (--no-dependencies);
// .vscodeignore keeps the rest out. We have no public repository URL yet: --allow-missing-repository.
//   node scripts/package.mjs [--out file.vsix]
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './install-vscode.mjs';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const { name, version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out ?? join(repoRoot, `${name}-${version}.vsix`));

// Old development bundles and source maps must not sneak in: build dist/ from scratch.
rmSync(join(repoRoot, 'dist'), { recursive: true, force: true });
const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
// README's picture (media/readme/chat.png) ships inside the VSIX: keep its link relative instead of asking for a repository URL.
const result = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out], { cwd: repoRoot, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(`package: vsce failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}
console.log(`package: ${out} (${(statSync(out).size / 1024).toFixed(1)} KiB)`);
