// The extension in a real VS Code extension host: lazy activation, every contributed command registered,
// settings read with the manifest's defaults, and a real background task run through its own services.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BackgroundAgentApi } from '../../src/extension';

const EXTENSION_ID = 'background-agent.background-agent';

interface Manifest {
  activationEvents?: string[];
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, { default: unknown }> };
  };
}

function extension(): vscode.Extension<BackgroundAgentApi> {
  const ext = vscode.extensions.getExtension<BackgroundAgentApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded in this extension host`);
  return ext;
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Background Agent extension', () => {
  it('activates only once startup has finished, never during it', () => {
    // After a reload the window must take over the tasks the last one left running (within the reattach
    // grace), even when none of its views is visible; `onStartupFinished` waits until the window is up.
    const manifest = extension().packageJSON as Manifest;
    assert.deepEqual(manifest.activationEvents ?? [], ['onStartupFinished']);
  });

  it('activates when its Chat view is opened', async () => {
    const started = Date.now();
    await vscode.commands.executeCommand('backgroundAgent.chat.focus');
    await until(() => extension().isActive, 'activation after opening the Chat view');
    // Reported, not asserted (no timing assertions in tests): the number goes into the issue note.
    console.log(`      (Chat view opened and extension active after ${Date.now() - started} ms)`);
    const api = await extension().activate();
    assert.ok(api.services.manager, 'activate() returns { services } with the task manager');
  });

  it('registers every command the manifest contributes', async () => {
    await extension().activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = (extension().packageJSON as Manifest).contributes.commands.map((c) => c.command);
    assert.ok(contributed.length > 0);
    assert.deepEqual(contributed.filter((id) => !registered.has(id)), [], 'contributed but not registered');
  });

  it('reads its settings with the defaults the manifest declares', () => {
    const properties = (extension().packageJSON as Manifest).contributes.configuration.properties;
    const config = vscode.workspace.getConfiguration('backgroundAgent');
    assert.equal(config.get('model'), properties['backgroundAgent.model'].default);
    for (const [key, { default: expected }] of Object.entries(properties)) {
      assert.deepEqual(config.get(key.replace(/^backgroundAgent\./, '')), expected, key);
    }
  });

  it('runs a real background task through the extension services', async () => {
    const { manager } = (await extension().activate()).services;
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(cwd, 'the test window has a workspace folder');
    const started = manager.start({ command: 'echo "hello from $PWD"; exit 3', cwd, origin: { kind: 'user' } });
    assert.equal(started.status, 'running');
    const ended = await manager.waitForEnd(started.id);
    assert.equal(ended.status, 'failed');
    assert.equal(ended.exitCode, 3);
    const output = await manager.readOutput(started.id, { offset: 0 });
    assert.match(output.text, new RegExp(`hello from ${cwd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

    const ok = manager.start({ command: 'true', cwd, origin: { kind: 'user' } });
    assert.equal((await manager.waitForEnd(ok.id)).status, 'completed');
  });
});
