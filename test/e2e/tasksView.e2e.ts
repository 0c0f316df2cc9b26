// A person watches and cancels background tasks in the Explorer of a real VS Code (code-server) in Chromium.
// The agent is real (the extension's agent loop over the real SDK); the model is the scripted server in this
// process. The person only clicks, right-clicks, types and reads, as they would.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { openChat, useScriptedServer } from '../support/chatPage';
import { useWorkbench } from '../support/codeServer';
import { contextMenu, openTasksView, sidebar } from '../support/tasksPage';
import { textReply, toolCall } from '../support/scriptedServer';
import { isAlive } from '../support/toolEnv';

describe('Background Tasks view', function () {
  const scripted = useScriptedServer();
  const server = () => scripted.server;
  const wb = useWorkbench({ env: () => ({ ANTHROPIC_BASE_URL: server().url, ANTHROPIC_API_KEY: 'test-key' }) });

  // The agent's long task writes its shell's and its child's pids into the workspace, so the test can check them.
  const longCommand = 'echo $$ > shell.pid; sleep 300 & echo $! > child.pid; echo started-line; echo second-line; wait';
  const taskRow = (state: string): Locator => wb.page.getByRole('treeitem', { name: new RegExp(`^Background task Long server, ${state}`) });

  it('shows a welcome text with a Run button when there are no tasks', async () => {
    await openTasksView(wb);
    await sidebar(wb.page).getByText('No background tasks yet.').waitFor({ timeout: 30_000 });
    await sidebar(wb.page).locator('.welcome-view-content').getByRole('button', { name: 'Run Command in Background…' }).waitFor();
    await wb.screenshot('welcome');
  });

  it('asks before starting the agent\'s task (it writes files); Allow starts it and lists it as running', async () => {
    server().enqueue(
      toolCall('background_run', { command: longCommand, description: 'Long server' }),
      textReply('The server runs in the background.'),
      // The auto-resumed turn after the person cancels it.
      textReply('I see the server was cancelled.'),
    );
    const chat = await openChat(wb);
    const box = chat.getByRole('textbox', { name: 'Message' });
    await box.fill('Start the long server');
    await box.press('Enter');
    // The command writes pid files (`> shell.pid`): that is a write, so it asks, and no rule could cover it.
    const card = chat.getByRole('group', { name: 'Approval needed: Start this command in the background?' });
    await card.waitFor({ timeout: 30_000 });
    assert.equal(await card.evaluate((el) => el === document.activeElement), true, 'focus moved to the card');
    await card.getByText('it writes to the file shell.pid').waitFor();
    assert.equal(await card.getByRole('button', { name: 'Always Allow' }).isDisabled(), true);
    // While it waits, the status bar says so (the person may be looking elsewhere).
    await wb.page.getByRole('button', { name: 'The agent is waiting for your approval. Show the chat' }).waitFor();
    assert.equal(wb.server.workspace && existsSync(join(wb.server.workspace, 'shell.pid')), false, 'nothing ran before the answer');
    await wb.screenshot('approval-card-background-task');
    await card.getByRole('button', { name: 'Allow', exact: true }).click();
    await chat.getByText('Allowed once.').waitFor();
    await chat.getByText('The server runs in the background.', { exact: true }).waitFor({ timeout: 30_000 });
    await wb.page.getByRole('button', { name: 'The agent is waiting for your approval. Show the chat' }).waitFor({ state: 'hidden' });

    // From the chat, the status bar item (the running count) is the way to the task.
    await wb.page.getByRole('button', { name: '1 background task running. Show Background Tasks' }).click();
    await taskRow('running').waitFor({ timeout: 20_000 });
    await wb.screenshot('agent-task-running');
  });

  it('Show Output from the context menu shows the lines the task printed, read-only, under its command', async () => {
    await contextMenu(wb.page, taskRow('running'), 'Show Output');
    const editor = wb.page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'second-line' }).waitFor({ timeout: 20_000 });
    const text = (await editor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, /^\$ echo \$\$ > shell\.pid/, 'the command is on top');
    assert.match(text, /Task \S+: running since/);
    assert.match(text, /started-line\s+second-line/);
    // A person who types into it changes nothing.
    await editor.locator('.view-lines').click();
    await wb.page.keyboard.type('typed');
    assert.equal((await editor.locator('.view-lines').innerText()).includes('typed'), false, 'the output editor is read-only');
    await wb.screenshot('show-output');
  });

  it('Cancel Task from the context menu turns it cancelled, kills its processes, and tells the agent', async () => {
    const workspace = wb.server.workspace;
    const shellPid = Number(readFileSync(join(workspace, 'shell.pid'), 'utf8'));
    assert.ok(existsSync(join(workspace, 'child.pid')));
    const childPid = Number(readFileSync(join(workspace, 'child.pid'), 'utf8'));
    assert.ok(isAlive(shellPid) && isAlive(childPid), 'the task runs before the cancel');
    const requestsBefore = server().requests.length;

    await openTasksView(wb);
    await contextMenu(wb.page, taskRow('running'), 'Cancel Task');
    await taskRow('cancelled').waitFor({ timeout: 5_000 });
    assert.equal(isAlive(shellPid), false, 'the shell is gone');
    assert.equal(isAlive(childPid), false, 'its child is gone');
    await wb.screenshot('cancelled');

    // The agent auto-resumes with the cancellation in its next request.
    const requests = await server().waitForRequests(requestsBefore + 1, 30_000);
    const body = JSON.stringify(requests[requestsBefore]?.body?.messages ?? []);
    assert.match(body, /<background-results>/);
    assert.match(body, /\[bg:\w+\] was cancelled after/);
    assert.equal(server().rejected.length, 0);
  });

  it('Run Command in Background… from the title bar asks for a command and starts it', async () => {
    const header = await openTasksView(wb);
    await header.hover();
    const pane = sidebar(wb.page).locator('.pane', { has: wb.page.getByRole('button', { name: 'Background Tasks Section' }) });
    await pane.locator('.pane-header .actions').getByRole('button', { name: 'Run Command in Background…' }).click();
    const input = wb.page.locator('.quick-input-widget').getByRole('textbox');
    await input.waitFor();
    // An empty command is refused with a clear message and the box stays open.
    await input.press('Enter');
    await wb.page.locator('.quick-input-widget').getByText('Type a command to run, e.g. npm test.').waitFor();
    await input.fill('echo from-the-person');
    await input.press('Enter');
    const row = wb.page.getByRole('treeitem', { name: /^Background task echo from-the-person, completed with exit code 0 .*started by you/ });
    await row.waitFor({ timeout: 20_000 });
    await wb.screenshot('person-task');
    // The agent's cancelled task is still listed under it (newest first).
    const names = await sidebar(wb.page).getByRole('treeitem').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
    const person = names.findIndex((n) => n.includes('echo from-the-person'));
    const agent = names.findIndex((n) => n.includes('Long server'));
    assert.ok(person >= 0 && agent > person, `newest first: ${names.join(' | ')}`);
  });
});
