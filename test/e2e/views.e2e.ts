// A person opens VS Code with Background Agent installed: the activity bar has its container, the
// container holds the Chat view, and the Explorer has a Background Tasks view.
import * as assert from 'node:assert/strict';
import { useWorkbench } from '../support/codeServer';

describe('Background Agent views', function () {
  const wb = useWorkbench();

  it('shows the Background Agent container in the activity bar', async () => {
    const container = wb.page.getByRole('tab', { name: /^Background Agent/ });
    await container.waitFor();
    await wb.screenshot('activity-bar');
  });

  it('opens the container and shows the Chat view', async () => {
    await wb.page.getByRole('tab', { name: /^Background Agent/ }).click();
    // A container with one view merges the headers: the side bar title reads "Background Agent: Chat".
    const sidebar = wb.page.locator('#workbench\\.parts\\.sidebar');
    await sidebar.getByRole('heading', { name: 'Background Agent: Chat' }).waitFor();
    await wb.screenshot('chat-view');
  });

  it('activated the extension after startup (or earlier, when the Chat view opened), never during it', async () => {
    // onStartupFinished: the window after a reload must take over its tasks even with no view of ours shown.
    await waitForLog(() => wb.server.extensionHostLog(), /background-agent\.background-agent, startup: false, activationEvent: '(onView:backgroundAgent\.chat|onStartupFinished)'/);
  });

  it('shows the Background Tasks view in the Explorer', async () => {
    await wb.page.getByRole('tab', { name: /^Explorer/ }).click();
    const header = wb.page.locator('#workbench\\.parts\\.sidebar').getByRole('button', { name: 'Background Tasks Section' });
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    assert.equal(await header.getAttribute('aria-expanded'), 'true');
    await wb.screenshot('explorer-background-tasks');
  });
});

async function waitForLog(read: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`extension host log never matched ${pattern}:\n${read().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
