// What e2e tests do with the Chat view as a person would: open it, type, read the conversation; and the
// scripted model server a describe block talks to. Shared by every test/e2e file that uses the chat.
import type { FrameLocator, Locator, Page } from 'playwright-core';
import type { WorkbenchFixture } from './codeServer';
import { runFromPalette } from './palette';
import { startScriptedServer, type ScriptedServer } from './scriptedServer';

/** The Chat webview is two iframes deep inside the workbench. */
export function chatFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
}

/** Opens the chat from the activity bar (closes it if its container is already shown: use showChatFromPalette then). */
export async function openChat(wb: WorkbenchFixture): Promise<FrameLocator> {
  await wb.page.getByRole('tab', { name: /^Background Agent/ }).click();
  const chat = chatFrame(wb.page);
  await chat.getByRole('textbox', { name: 'Message' }).waitFor({ timeout: 30_000 });
  return chat;
}

/**
 * Shows the chat through the command palette, the way it comes back after a reload whatever the restored
 * layout: unlike the activity bar tab, which closes a container that is already open, this only opens.
 */
export async function showChatFromPalette(wb: WorkbenchFixture): Promise<FrameLocator> {
  await runFromPalette(wb.page, 'Background Agent: Focus on Chat View');
  const chat = chatFrame(wb.page);
  await chat.getByRole('textbox', { name: 'Message' }).waitFor({ timeout: 30_000 });
  return chat;
}

/** The conversation list (the aria-live region repeats answers, so text is looked up here only). */
export function conversation(chat: FrameLocator): Locator {
  return chat.getByRole('main', { name: 'Conversation' });
}

export async function sendMessage(chat: FrameLocator, text: string): Promise<void> {
  const box = chat.getByRole('textbox', { name: 'Message' });
  await box.click();
  await box.fill(text);
  await box.press('Enter');
}

/** A scripted model server for one describe block (mocha hooks): started before its tests, closed after. */
export function useScriptedServer(options: Parameters<typeof startScriptedServer>[0] = {}): { readonly server: ScriptedServer } {
  let server: ScriptedServer | undefined;
  before(async () => {
    server = await startScriptedServer(options);
  });
  after(async () => {
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('scripted server not started');
      return server;
    },
  };
}
