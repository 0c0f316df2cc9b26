// The packaged extension, not the development folder: `npm run package` builds the VSIX, code-server
// installs it with --install-extension into a fresh extensions folder, and it works there.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, useWorkbench } from '../support/codeServer';

describe('Background Agent installed from its VSIX', function () {
  // Made in the hook, not when mocha loads the file: a run that greps this describe away skips its `after`
  // too, and left an empty /tmp/bg-agent-vsix-* behind every time.
  let temp = '';
  let vsix = '';

  // Registered before useWorkbench's hook, so the VSIX exists when code-server installs it.
  before(function () {
    this.timeout(300_000);
    temp = mkdtempSync(join(tmpdir(), 'bg-agent-vsix-'));
    vsix = join(temp, 'background-agent.vsix');
    const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--out', vsix], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(result.status, 0, `npm run package failed:\n${result.stdout}\n${result.stderr}`);
    console.log(`      VSIX: ${(statSync(vsix).size / 1024).toFixed(1)} KiB`);
  });
  const wb = useWorkbench({ name: 'vsix', extensionDevelopmentPath: null, installVsix: () => [vsix] });
  after(() => {
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('installs only bundles, media, manifest and docs', () => {
    const installed = readdirSync(wb.server.extensionsDir).filter((name) => name.startsWith('background-agent.background-agent-'));
    assert.equal(installed.length, 1, `installed: ${readdirSync(wb.server.extensionsDir).join(', ')}`);
    const root = join(wb.server.extensionsDir, installed[0]);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => statSync(join(root, file)).isFile());
    // vsce stores README/CHANGELOG in lower case and LICENSE as LICENSE.txt.
    const lower = files.map((file) => file.toLowerCase());
    for (const required of ['package.json', 'dist/extension.js', 'readme.md', 'changelog.md', 'license.txt']) assert.ok(lower.includes(required), `${required} is missing`);
    const unexpected = files.filter((file) => !/^(dist|media)\//.test(file) && !/^(package\.json|README\.md|CHANGELOG\.md|LICENSE(\.txt)?|\.vsixmanifest)$/i.test(file));
    assert.deepEqual(unexpected, []);
    assert.deepEqual(files.filter((file) => file.endsWith('.map')), [], 'no source maps');
  });

  it('shows its container and is active once the Chat view opens', async () => {
    await wb.page.getByRole('tab', { name: /^Background Agent/ }).click();
    await wb.page.locator('#workbench\\.parts\\.sidebar').getByRole('heading', { name: 'Background Agent: Chat' }).waitFor();
    await wb.screenshot('vsix-chat-view');
    const deadline = Date.now() + 15_000;
    const activated = /ExtensionService#_doActivateExtension background-agent\.background-agent, startup: false, activationEvent: '(onView:backgroundAgent\.chat|onStartupFinished)'/;
    while (!activated.test(wb.server.extensionHostLog())) {
      if (Date.now() > deadline) assert.fail(`the installed extension never activated:\n${wb.server.extensionHostLog().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('shows the Background Tasks view in the Explorer', async () => {
    await wb.page.getByRole('tab', { name: /^Explorer/ }).click();
    await wb.page.locator('#workbench\\.parts\\.sidebar').getByRole('button', { name: 'Background Tasks Section' }).waitFor();
    await wb.screenshot('vsix-explorer');
  });
});
