// The command palette as a person uses it, shared by the e2e helpers.
import type { Page } from 'playwright-core';

/**
 * Runs a command by its title from the command palette. Keys pressed while focus sits in a webview (the chat)
 * reach the workbench only through the webview's key forwarding, which a loaded machine can drop; so when the
 * palette does not show, the focus moves to the workbench's status bar (a click on no item does nothing) and
 * the keys go again. A modal dialog that offers the same action (e.g. "Reload Window" after the extension
 * host died) is answered instead, as a person would.
 */
export async function runFromPalette(page: Page, title: string): Promise<void> {
  const palette = page.locator('.quick-input-widget');
  const input = palette.getByRole('textbox', { name: 'input' });
  const dialogButton = page.locator('.monaco-dialog-box').getByRole('button', { name: title.replace(/^.*: /, '') });
  const option = palette.getByRole('option', { name: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first();
  for (let attempt = 1; ; attempt++) {
    if (await dialogButton.isVisible()) return dialogButton.click();
    await page.keyboard.press('Control+Shift+P');
    // The palette closes when something else takes focus (a webview focusing its input a moment later):
    // then the whole step is tried again, not only the opening.
    const filled = await input.fill(`>${title}`, { timeout: 5_000 }).then(() => true, () => false);
    if (filled && (await option.click({ timeout: 10_000 }).then(() => true, () => false))) return;
    if (attempt === 4) throw new Error(`the command palette did not open or closed again before running "${title}"`);
    await page.locator('#workbench\\.parts\\.statusbar').click({ position: { x: 400, y: 5 } }).catch(() => undefined);
  }
}
