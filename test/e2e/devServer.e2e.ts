// A person asks the agent for a dev server: the agent starts it with `wait_for_port`, the chat shows the
// task waiting until ready and then its answer, the Background Tasks row shows the port, and its context
// menu offers Open in Browser, which opens the server's page in a new browser tab.
import * as assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { conversation, openChat, sendMessage, useScriptedServer } from '../support/chatPage';
import { useWorkbench } from '../support/codeServer';
import { contextMenu, openTasksView } from '../support/tasksPage';
import { textReply, toolCall } from '../support/scriptedServer';
import { freePort } from '../support/freePort';


describe('A dev server started by the agent', function () {
  const scripted = useScriptedServer();
  const wb = useWorkbench({
    name: 'dev-server',
    env: () => ({ ANTHROPIC_BASE_URL: scripted.server.url, ANTHROPIC_API_KEY: 'test-key' }),
    settings: { 'backgroundAgent.approval': 'auto' },
  });
  const row = (): Locator => wb.page.getByRole('treeitem', { name: /^Background task Dev server, running/ });

  it('is waited for until its port listens; the tree shows the port and offers Open in Browser', async () => {
    const port = await freePort();
    // A small Node HTTP server that takes a moment to listen, as a real one does.
    const server = `setTimeout(() => require('http').createServer((q, s) => s.end('hello from the dev server')).listen(${port}, '127.0.0.1'), 1500)`;
    scripted.server.enqueue(
      toolCall('background_run', { command: `node -e "${server}"`, description: 'Dev server', wait_for_port: port }),
      textReply('The dev server is ready.'),
    );
    const chat = await openChat(wb);
    await sendMessage(chat, 'Start the dev server');
    // While the call waits, its chip says so.
    await chat.getByRole('button', { name: /^Background task \S+: Dev server: .*waiting until ready/ }).waitFor({ timeout: 30_000 });
    await wb.screenshot('chip-waiting-until-ready');
    await conversation(chat).getByText('The dev server is ready.', { exact: true }).waitFor({ timeout: 30_000 });
    const request = scripted.server.requests[1];
    assert.match(JSON.stringify(request.body?.messages?.at(-1)), new RegExp(`is ready after [\\d.]+s: listening on 127\\.0\\.0\\.1:${port}\\.`));

    await openTasksView(wb);
    await row().waitFor({ timeout: 20_000 });
    assert.match((await row().textContent()) ?? '', new RegExp(`:${port}`), 'the port is on the row');
    assert.match((await row().getAttribute('aria-label')) ?? '', new RegExp(`listening on port ${port}`));
    await wb.screenshot('tree-row-with-port');

    const opened = wb.page.context().waitForEvent('page', { timeout: 20_000 });
    await contextMenu(wb.page, row(), 'Open in Browser');
    const tab = await opened;
    await tab.waitForLoadState();
    // code-server forwards the port (asExternalUri): the page is the dev server's, however the URL reads.
    await tab.getByText('hello from the dev server').waitFor({ timeout: 20_000 });
    await tab.close();
  });
});
