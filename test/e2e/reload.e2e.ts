// A person reloads the window (Developer: Reload Window) while the agent's background tasks run: they are
// shown running again, the very same processes, can be cancelled from the tree, and one that ends after the
// reload reports its real exit code to the chat, which resumes on it. Real code-server, real Chromium, the
// real extension and agent; the model is the scripted server in this process.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { openChat, sendMessage, showChatFromPalette, useScriptedServer } from '../support/chatPage';
import { useWorkbench } from '../support/codeServer';
import { contextMenu, openTasksView, reloadWindow } from '../support/tasksPage';
import { textReply, toolCall } from '../support/scriptedServer';
import { isAlive, until } from '../support/toolEnv';

const ACTIVATED = /ExtensionService#_doActivateExtension background-agent\.background-agent/g;

describe('Reloading the window while background tasks run', function () {
  const scripted = useScriptedServer();
  const server = () => scripted.server;
  const wb = useWorkbench({
    env: () => ({ ANTHROPIC_BASE_URL: server().url, ANTHROPIC_API_KEY: 'test-key' }),
    // Commands here write pid files: no approval card in the way of what this test is about.
    settings: { 'backgroundAgent.approval': 'auto' },
  });
  const row = (description: string, state: string): Locator =>
    wb.page.getByRole('treeitem', { name: new RegExp(`^Background task ${description}, ${state}`) });
  const devCommand = 'echo $$ > dev.pid; echo dev-started; sleep 600';
  const gatedCommand = 'echo gated-waiting; while [ ! -f release-gate ]; do sleep 0.2; done; echo gated-finished; exit 3';

  it('starts two tasks from the chat', async () => {
    server().enqueue(
      toolCall('background_run', { command: devCommand, description: 'Dev server' }),
      toolCall('background_run', { command: gatedCommand, description: 'Gated build' }),
      textReply('Both run in the background.'),
    );
    const chat = await openChat(wb);
    await sendMessage(chat, 'Start the dev server and the build');
    await chat.getByText('Both run in the background.', { exact: true }).waitFor({ timeout: 30_000 });
    await openTasksView(wb);
    await row('Dev server', 'running').waitFor({ timeout: 20_000 });
    await row('Gated build', 'running').waitFor();
  });

  it('after Developer: Reload Window the same process is shown running, with its output', async () => {
    const pid = Number(readFileSync(join(wb.server.workspace, 'dev.pid'), 'utf8'));
    const activations = (wb.server.extensionHostLog().match(ACTIVATED) ?? []).length;
    // The list must be saved before the reload (what a closing window writes is lost): the pid arrives
    // a moment after the start, and the save follows it by 300 ms.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await reloadWindow(wb.page);
    await until(() => (wb.server.extensionHostLog().match(ACTIVATED) ?? []).length > activations, 'the reloaded window to activate the extension', 60_000);
    await openTasksView(wb);
    await row('Dev server', 'running').waitFor({ timeout: 30_000 });
    await row('Gated build', 'running').waitFor();
    assert.ok(isAlive(pid), 'the process lives on');
    await contextMenu(wb.page, row('Dev server', 'running'), 'Show Output');
    const editor = wb.page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'dev-started' }).waitFor({ timeout: 20_000 });
    const text = (await editor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, new RegExp(`process id ${pid}\\b`), 'the same process id');
    await wb.screenshot('running-after-reload');
  });

  it('a task that ends after the reload tells the chat its real exit code, and the agent resumes on it', async () => {
    server().enqueue(textReply('The gated build failed with exit code 3.'));
    const chat = await showChatFromPalette(wb);
    const before = server().requests.length;
    writeFileSync(join(wb.server.workspace, 'release-gate'), '');
    const requests = await server().waitForRequests(before + 1, 30_000);
    const body = JSON.stringify(requests[before]?.body?.messages ?? []);
    assert.match(body, /\[bg:\w+\] failed \(exit code 3\)/);
    assert.match(body, /gated-finished/);
    await chat.getByText('The gated build failed with exit code 3.', { exact: true }).waitFor({ timeout: 30_000 });
    await wb.screenshot('ended-after-reload');
    await openTasksView(wb);
    await row('Gated build', 'failed with exit code 3').waitFor({ timeout: 10_000 });
  });

  it('Cancel Task from the context menu still kills the process started before the reload', async () => {
    const pid = Number(readFileSync(join(wb.server.workspace, 'dev.pid'), 'utf8'));
    server().enqueue(textReply('The dev server was cancelled.'));
    await openTasksView(wb);
    await contextMenu(wb.page, row('Dev server', 'running'), 'Cancel Task');
    await row('Dev server', 'cancelled').waitFor({ timeout: 10_000 });
    assert.equal(isAlive(pid), false, 'the process is gone');
    assert.equal(server().rejected.length, 0);
  });
});

describe('Killing the extension host while a background task runs', function () {
  const scripted = useScriptedServer();
  const wb = useWorkbench({
    name: 'host-killed',
    env: () => ({ ANTHROPIC_BASE_URL: scripted.server.url, ANTHROPIC_API_KEY: 'test-key' }),
    settings: { 'backgroundAgent.approval': 'auto' },
  });
  const row = (state: string): Locator => wb.page.getByRole('treeitem', { name: new RegExp(`^Background task Watcher, ${state}`) });
  const hostPids = (): number[] => [...wb.server.extensionHostLog().matchAll(/Extension host with pid (\d+) started/g)].map((m) => Number(m[1]));

  it('the next host takes the same process over (its guard waited through the grace) and can cancel it', async () => {
    scripted.server.enqueue(
      toolCall('background_run', { command: 'echo $$ > watcher.pid; echo watching; sleep 600', description: 'Watcher' }),
      textReply('The watcher runs.'),
    );
    const chat = await openChat(wb);
    await sendMessage(chat, 'Start the watcher');
    await chat.getByText('The watcher runs.', { exact: true }).waitFor({ timeout: 30_000 });
    const pid = Number(readFileSync(join(wb.server.workspace, 'watcher.pid'), 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [host] = hostPids().slice(-1);
    // A crash: the extension host dies without a word (no deactivate). code-server cannot reconnect to a
    // killed remote host and asks for a reload, which is what a person does.
    process.kill(host, 'SIGKILL');
    await until(() => !isAlive(host), 'the extension host to be gone');
    await reloadWindow(wb.page);
    await until(() => hostPids().some((p) => p !== host), 'a new extension host', 60_000);
    await openTasksView(wb);
    await row('running').waitFor({ timeout: 30_000 });
    assert.ok(isAlive(pid), 'the same process runs on');
    await wb.screenshot('taken-over-after-crash');
    await contextMenu(wb.page, row('running'), 'Cancel Task');
    await row('cancelled').waitFor({ timeout: 10_000 });
    assert.equal(isAlive(pid), false);
  });
});
