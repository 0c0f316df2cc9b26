// The chat's conventions as a person meets them in a real VS Code (code-server) in Chromium: highlighted code
// in dark and light themes with Copy / Insert at Cursor / Open in Editor, the model picker, Edit and resend,
// the keybinding that focuses the message box, and deleting a chat from the history.
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import { conversation, openChat, sendMessage, showChatFromPalette, useScriptedServer } from '../support/chatPage';
import { useWorkbench } from '../support/codeServer';
import { runFromPalette } from '../support/palette';
import { textReply } from '../support/scriptedServer';

const CODE_ANSWER = 'Here is the change:\n\n```ts src/app.ts\nexport function add(a: number, b: number): number {\n  // adds\n  return a + b;\n}\n```\n\nDone.';

describe('Chat conventions', function () {
  const scripted = useScriptedServer();
  const wb = useWorkbench({ env: () => ({ ANTHROPIC_BASE_URL: scripted.server.url, ANTHROPIC_API_KEY: 'test-key' }) });
  let chat: FrameLocator;

  /** Waits until a highlighted keyword is drawn in `colour` (a theme change reaches the webview a moment later). */
  async function keywordDrawnIn(block: Locator, colour: string): Promise<void> {
    const keyword = block.locator('.hljs-keyword', { hasText: 'export' });
    await keyword.waitFor();
    const drawn = await keyword.evaluate(
      (node, expected) =>
        new Promise<string>((resolve) => {
          const deadline = Date.now() + 10_000;
          const check = (): void => {
            const now = getComputedStyle(node).color;
            if (now === expected || Date.now() > deadline) resolve(now);
            else setTimeout(check, 50);
          };
          check();
        }),
      colour,
    );
    assert.equal(drawn, colour);
  }

  async function pickTheme(name: string): Promise<void> {
    await runFromPalette(wb.page, 'Preferences: Color Theme');
    const palette = wb.page.locator('.quick-input-widget');
    await palette.getByRole('textbox', { name: 'input' }).fill(name);
    await palette.getByRole('option', { name: new RegExp(`^${name}`) }).first().click();
    await palette.waitFor({ state: 'hidden' });
  }

  it('highlights a code block in the theme’s colours, dark and light, beside Copy, Insert at Cursor and Open in Editor', async () => {
    chat = await openChat(wb);
    scripted.server.enqueue(textReply(CODE_ANSWER, { chunkSize: 12 }));
    await sendMessage(chat, 'Write an add function');
    await conversation(chat).getByText('Done.').waitFor();
    const block = conversation(chat).locator('.code-block', { hasText: 'return a + b' });
    assert.equal(await block.locator('.code-lang').textContent(), 'src/app.ts');
    for (const name of ['Copy code', 'Insert at Cursor', 'Open src/app.ts in Editor']) await block.getByRole('button', { name }).waitFor();
    // Dark Modern: keywords in VS Code's dark blue, comments in green.
    await pickTheme('Dark Modern');
    await chat.locator('body.vscode-dark').waitFor();
    await keywordDrawnIn(block, 'rgb(86, 156, 214)');
    assert.equal(await block.locator('.hljs-comment').evaluate((node) => getComputedStyle(node).color), 'rgb(106, 153, 85)');
    await wb.screenshot('highlighted-dark');
    // Light Modern: Light+'s blue and green.
    await pickTheme('Light Modern');
    await chat.locator('body.vscode-light').waitFor();
    await keywordDrawnIn(block, 'rgb(0, 0, 255)');
    assert.equal(await block.locator('.hljs-comment').evaluate((node) => getComputedStyle(node).color), 'rgb(0, 128, 0)');
    await wb.screenshot('highlighted-light');
  });

  it('Insert at Cursor puts the code into the editor at the cursor; Open in Editor opens the file it names', async () => {
    const workspace = wb.server.workspace;
    mkdirSync(join(workspace, 'src'), { recursive: true });
    writeFileSync(join(workspace, 'src', 'app.ts'), '// the app\n');
    writeFileSync(join(workspace, 'notes.ts'), '// notes start\n');
    // The person opens a file and leaves the cursor at its end, then goes back to the chat.
    await runFromPalette(wb.page, 'Go to File...');
    const palette = wb.page.locator('.quick-input-widget');
    await palette.getByRole('textbox', { name: 'input' }).fill('notes.ts');
    await palette.getByRole('option', { name: /notes\.ts/ }).first().click();
    const editor = wb.page.locator('.editor-instance .monaco-editor').first();
    await editor.getByText('// notes start').waitFor();
    await wb.page.keyboard.press('Control+End');
    chat = await showChatFromPalette(wb);
    const block = conversation(chat).locator('.code-block', { hasText: 'return a + b' });
    await block.getByRole('button', { name: 'Insert at Cursor' }).click();
    await editor.getByText('export function add(a: number, b: number): number {').waitFor();
    await editor.getByText('// notes start').waitFor();
    await wb.screenshot('inserted-at-cursor');

    chat = await showChatFromPalette(wb);
    await conversation(chat).locator('.code-block', { hasText: 'return a + b' }).getByRole('button', { name: 'Open src/app.ts in Editor' }).click();
    await wb.page.getByRole('tab', { name: /^app\.ts/ }).waitFor();
    await wb.page.locator('.editor-instance .monaco-editor').getByText('// the app').waitFor();
  });

  it('the model picker sets this chat’s model, and the next request uses it', async () => {
    chat = await showChatFromPalette(wb);
    await chat.getByRole('button', { name: 'New Chat' }).click();
    const picker = chat.getByRole('combobox', { name: 'Model' });
    assert.equal(await picker.inputValue(), 'claude-sonnet-5-5', 'the setting’s model first');
    await picker.selectOption('claude-haiku-4-5');
    scripted.server.enqueue(textReply('Answered by the small model.'));
    await sendMessage(chat, 'Which model are you?');
    await conversation(chat).getByText('Answered by the small model.').waitFor();
    assert.equal(scripted.server.accepted.at(-1)?.body?.model, 'claude-haiku-4-5');
    // The choice is this chat's: a new chat starts on the setting's model.
    await chat.getByRole('button', { name: 'New Chat' }).click();
    await chat.getByText('Ask the agent to build, fix or explain something.').waitFor();
    assert.equal(await picker.inputValue(), 'claude-sonnet-5-5');
  });

  it('edit and resend: the last message comes back into the box, and sending replaces it and its answer', async () => {
    chat = await showChatFromPalette(wb);
    scripted.server.enqueue(textReply('An answer to the typo.'));
    await sendMessage(chat, 'Explain the tset');
    await conversation(chat).getByText('An answer to the typo.').waitFor();
    await conversation(chat).getByRole('button', { name: 'Edit and resend' }).click();
    const box = chat.getByRole('textbox', { name: 'Message' });
    assert.equal(await box.inputValue(), 'Explain the tset');
    await chat.getByText('Editing your last message').waitFor();
    await wb.screenshot('editing-last-message');
    scripted.server.enqueue(textReply('An answer to the fixed question.'));
    await box.fill('Explain the test');
    await box.press('Enter');
    await conversation(chat).getByText('An answer to the fixed question.').waitFor();
    assert.equal(await conversation(chat).getByText('Explain the tset').count(), 0);
    assert.equal(await conversation(chat).getByText('An answer to the typo.').count(), 0);
    const sent = JSON.stringify(scripted.server.accepted.at(-1)?.body?.messages);
    assert.match(sent, /Explain the test/);
    assert.doesNotMatch(sent, /tset|typo/);
    // Up in the empty box brings the (new) last message back; Escape leaves the edit with the box empty again.
    await box.press('ArrowUp');
    assert.equal(await box.inputValue(), 'Explain the test');
    await box.press('Escape');
    assert.equal(await box.inputValue(), '');
  });

  it('its keybinding puts the cursor in the message box from anywhere', async () => {
    chat = await showChatFromPalette(wb);
    // Focus elsewhere: the editor the previous test opened.
    await wb.page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    const box = chat.getByRole('textbox', { name: 'Message' });
    assert.equal(await box.evaluate((node) => node === document.activeElement && document.hasFocus()), false);
    await wb.page.keyboard.press('Control+Alt+A');
    await box.evaluate(
      (node) =>
        new Promise<void>((resolve, reject) => {
          const deadline = Date.now() + 10_000;
          const check = (): void => {
            if (node === document.activeElement && document.hasFocus()) resolve();
            else if (Date.now() > deadline) reject(new Error('the message box did not get the focus'));
            else setTimeout(check, 50);
          };
          check();
        }),
    );
  });

  it('deletes a chat from the history after asking', async () => {
    chat = await showChatFromPalette(wb);
    await chat.getByRole('button', { name: 'Chat History' }).click();
    const pick = wb.page.locator('.quick-input-widget');
    const row = pick.getByRole('option', { name: /Which model are you\?/ });
    await row.hover();
    await row.getByRole('button', { name: 'Delete Chat' }).click();
    const dialog = wb.page.locator('.monaco-dialog-box', { hasText: 'Delete the chat "Which model are you?"?' });
    await dialog.waitFor();
    await wb.screenshot('delete-chat-asks');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The history comes back without it.
    await pick.getByRole('option', { name: /Write an add function/ }).waitFor();
    assert.equal(await pick.getByRole('option', { name: /Which model are you\?/ }).count(), 0);
    await wb.page.keyboard.press('Escape');
  });
});
