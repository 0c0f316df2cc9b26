// A person answers the agent's approval cards in the Chat view of a real VS Code (code-server) in Chromium:
// Deny (the activity bar's badge counts the waiting card, then clears), Allow from the keyboard, Always
// Allow (then the same prefix runs without a card), a compound command where one part needs approval, and
// a file change reviewed in VS Code's diff editor. Last, with the window closed, nothing the extension
// wrote holds the API key the session used.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import { conversation, openChat, sendMessage, useScriptedServer } from '../support/chatPage';
import { useWorkbench } from '../support/codeServer';
import { errorReply, textReply, toolCall } from '../support/scriptedServer';

/** Unique and long: if it shows up anywhere on disk, it came from this session. */
const API_KEY = `sk-ant-e2e-${Date.now().toString(36)}-never-written-anywhere`;

/** Every file under `dir` that holds `needle` (text or binary). */
function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((relative) => join(dir, relative))
    .filter((file) => {
      try {
        return statSync(file).isFile() && readFileSync(file).includes(bytes);
      } catch {
        return false; // a file removed while listing
      }
    });
}

describe('Approval cards in the chat', function () {
  const scripted = useScriptedServer();
  const server = () => scripted.server;
  const wb = useWorkbench({ env: () => ({ ANTHROPIC_BASE_URL: server().url, ANTHROPIC_API_KEY: API_KEY }) });
  let chat: FrameLocator;
  const card = (title: string): Locator => chat.getByRole('group', { name: `Approval needed: ${title}` });

  it('Deny: the command does not run, the agent is told and goes on', async () => {
    chat = await openChat(wb);
    server().enqueue(toolCall('bash', { command: 'rm -rf src' }), textReply('Understood: I left src alone.'));
    await sendMessage(chat, 'Delete the src folder');
    const question = card('Run this command?');
    await question.waitFor({ timeout: 30_000 });
    await question.getByText('Needs approval: `rm` is not on the allow list.').waitFor();
    await question.getByText('Always Allow adds “rm” to this workspace\'s allowed commands.').waitFor();
    const badge = wb.page.getByRole('tab', { name: /^Background Agent/ }).locator('.badge-content');
    await badge.filter({ hasText: /^1$/ }).waitFor();
    await wb.screenshot('deny-card');
    await question.getByRole('button', { name: 'Deny' }).click();
    await conversation(chat).getByText('Understood: I left src alone.').waitFor({ timeout: 30_000 });
    await conversation(chat).getByText('Denied: the agent was told.').waitFor();
    await badge.waitFor({ state: 'hidden' }); // the activity bar no longer says an approval waits
    assert.match(JSON.stringify(server().requests.at(-1)?.body?.messages?.at(-1)), /The person denied running `rm -rf src`/);
  });

  it('Allow from the keyboard: focus is on the card, Tab reaches Allow, Enter runs it', async () => {
    server().enqueue(toolCall('bash', { command: 'echo started > started.txt' }), textReply('Wrote started.txt.'));
    await sendMessage(chat, 'Write started.txt');
    const question = card('Run this command?');
    await question.waitFor({ timeout: 30_000 });
    await question.getByText('it writes to the file started.txt').waitFor();
    assert.equal(await question.evaluate((el) => el === document.activeElement), true, 'focus moved to the card');
    await wb.page.keyboard.press('Tab');
    assert.equal(await question.getByRole('button', { name: 'Allow', exact: true }).evaluate((el) => el === document.activeElement), true);
    await wb.page.keyboard.press('Enter');
    await conversation(chat).getByText('Wrote started.txt.').waitFor({ timeout: 30_000 });
    assert.equal(readFileSync(join(wb.server.workspace, 'started.txt'), 'utf8'), 'started\n');
  });

  it('Always Allow stores the rule; the same prefix then runs without a card', async () => {
    server().enqueue(toolCall('bash', { command: 'touch one.txt' }), toolCall('bash', { command: 'touch two.txt three.txt' }), textReply('Touched them all.'));
    await sendMessage(chat, 'Touch some files');
    const question = card('Run this command?');
    await question.waitFor({ timeout: 30_000 });
    await question.getByRole('button', { name: 'Always Allow' }).click();
    await conversation(chat).getByText('Touched them all.').waitFor({ timeout: 30_000 });
    await conversation(chat).getByText('Always allowed: “touch” added to this workspace\'s allowed commands.').waitFor();
    assert.ok(existsSync(join(wb.server.workspace, 'three.txt')), 'the second touch ran without a card');
    assert.equal(await chat.getByRole('group', { name: /^Approval needed/ }).count(), 0, 'no card is waiting');
    const settings = JSON.parse(readFileSync(join(wb.server.workspace, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(settings['backgroundAgent.allowCommands'], ['touch']);
    await wb.screenshot('always-allowed');
  });

  it('a compound command shows the one part that needs approval', async () => {
    server().enqueue(toolCall('bash', { command: 'git status && curl -s https://example.com/x | head -1' }), textReply('Skipped the download.'));
    await sendMessage(chat, 'Check status and fetch x');
    const question = card('Run this command?');
    await question.waitFor({ timeout: 30_000 });
    const parts = question.getByRole('list', { name: 'Parts that need approval' });
    await parts.getByText('curl -s https://example.com/x').waitFor();
    assert.equal(await parts.getByRole('listitem').count(), 1, 'git status and head need no approval');
    await wb.screenshot('compound-card');
    await question.getByRole('button', { name: 'Deny' }).click();
    await conversation(chat).getByText('Skipped the download.').waitFor({ timeout: 30_000 });
  });

  it('a file change shows its diff, opens in the diff editor, and is written once allowed', async () => {
    writeFileSync(join(wb.server.workspace, 'config.json'), '{\n  "port": 80,\n  "host": "localhost"\n}\n');
    server().enqueue(toolCall('edit_file', { path: 'config.json', old_text: '"port": 80', new_text: '"port": 8080' }), textReply('The port is 8080 now.'));
    await sendMessage(chat, 'Use port 8080');
    const question = card('Change config.json?');
    await question.waitFor({ timeout: 30_000 });
    const diff = question.getByLabel('Change to config.json');
    await diff.getByText('+  "port": 8080,').waitFor();
    await diff.getByText('-  "port": 80,').waitFor();
    await question.getByRole('button', { name: 'Open Diff' }).click();
    await wb.page.getByRole('tab', { name: /config\.json ↔ the agent's change/ }).waitFor({ timeout: 20_000 });
    const diffEditor = wb.page.locator('.monaco-diff-editor').first();
    await diffEditor.locator('.editor.modified .view-lines', { hasText: '8080' }).waitFor({ timeout: 20_000 });
    await diffEditor.locator('.editor.original .view-lines', { hasText: '"port": 80,' }).waitFor();
    await wb.screenshot('diff-editor');
    assert.match(readFileSync(join(wb.server.workspace, 'config.json'), 'utf8'), /"port": 80,/, 'unchanged while it waits');
    // The chat stays open beside the diff: the card is answered there.
    await card('Change config.json?').getByRole('button', { name: 'Allow', exact: true }).click();
    await conversation(chat).getByText('The port is 8080 now.').waitFor({ timeout: 30_000 });
    assert.match(readFileSync(join(wb.server.workspace, 'config.json'), 'utf8'), /"port": 8080,/);
  });

  it('nothing the extension wrote holds the API key: logs, chats, task logs, storage, settings', async () => {
    // A session that used the key in every way it can: requests, an auth error, commands that print the environment.
    server().enqueue(
      toolCall('bash', { command: 'env | sort' }),
      toolCall('background_run', { command: 'printenv; echo done' }),
      textReply('Printed the environment.'),
      errorReply(401, { message: 'invalid x-api-key' }),
    );
    chat ??= await openChat(wb);
    await sendMessage(chat, 'Print the environment');
    await conversation(chat).getByText('Printed the environment.').waitFor({ timeout: 30_000 });
    await sendMessage(chat, 'And once more');
    await chat.getByRole('alert').filter({ hasText: 'API key missing or invalid' }).waitFor({ timeout: 30_000 });
    assert.ok(server().requests.some((r) => JSON.stringify(r.headers).includes(API_KEY)), 'the session really used the key');
    // Close the window and stop VS Code, so that everything written on shutdown is on disk too.
    await wb.page.close();
    await wb.server.stop({ keepFiles: true });
    const root = dirname(wb.server.userDataDir);
    // The search covers what matters: the chats, the task logs (printenv wrote one), the extension's log.
    const written = readdirSync(root, { recursive: true, encoding: 'utf8' });
    assert.ok(written.some((f) => /chats\/chat-[\w-]+\.json$/.test(f)), 'a chat file was written');
    assert.ok(written.filter((f) => /task-logs\/\w+\.log$/.test(f)).length >= 2, 'the task logs were written');
    assert.ok(written.some((f) => /Background Agent\.log$/.test(f)), "the extension's log was written");
    const leaks = filesContaining(root, API_KEY);
    assert.deepEqual(leaks, [], 'the key was written to disk');
    rmSync(root, { recursive: true, force: true });
  });
});
