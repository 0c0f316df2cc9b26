// What a person does in the Background Tasks view and around it, shared by the e2e tests: show the view,
// right-click a task, reload the window.
import type { Locator, Page } from 'playwright-core';
import type { WorkbenchFixture } from './codeServer';
import { runFromPalette } from './palette';

export function sidebar(page: Page): Locator {
  return page.locator('#workbench\\.parts\\.sidebar');
}

/** Shows the Explorer and expands its Background Tasks section (it starts collapsed); returns its header. */
export async function openTasksView(wb: WorkbenchFixture): Promise<Locator> {
  const explorer = wb.page.getByRole('tab', { name: /^Explorer/ });
  const header = sidebar(wb.page).getByRole('button', { name: 'Background Tasks Section' });
  // Clicking the tab of the container already shown would hide the side bar: click only when it is not shown.
  const title = sidebar(wb.page).getByRole('heading', { name: 'Explorer', exact: true });
  await title.waitFor({ timeout: 3_000 }).catch(() => undefined);
  if (!(await title.isVisible())) await explorer.click();
  await header.waitFor({ timeout: 30_000 });
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  return header;
}

export async function contextMenu(page: Page, item: Locator, entry: string): Promise<void> {
  await item.click({ button: 'right' });
  const menuItem = page.locator('.context-view').getByRole('menuitem', { name: entry });
  await menuItem.waitFor();
  await menuItem.hover();
  // A loaded machine once left the menu open with the entry highlighted and nothing run (a CI run, after a
  // reload): a menu that is still open took no click, so the entry is clicked again, as a person would.
  for (let attempt = 1; ; attempt++) {
    await menuItem.click();
    const closed = await menuItem.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false);
    if (closed) return;
    if (attempt === 3) throw new Error(`the context menu stayed open after "${entry}" was clicked ${attempt} times`);
  }
}

/** Developer: Reload Window from the command palette; resolves once the new workbench is on screen. */
export async function reloadWindow(page: Page): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: 60_000 });
  await runFromPalette(page, 'Developer: Reload Window');
  await navigated;
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
}
