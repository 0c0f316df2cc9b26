// The chat as the extension registers it: palette commands, the active chat shared with the tasks view,
// a task the person starts reported to the open chat as a chip, and chats kept in the real workspaceState.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BackgroundAgentApi } from '../../src/extension';
import type { TaskSnapshot } from '../../src/core/tasks/types';
import { until, ViewModel } from './chatHarness';

const EXTENSION_ID = 'background-agent.background-agent';

async function extensionApi(): Promise<BackgroundAgentApi> {
  const ext = vscode.extensions.getExtension<BackgroundAgentApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

describe('Chat in the extension', function () {
  this.timeout(60_000);

  it('registers the chat commands in the palette', async () => {
    await extensionApi();
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['backgroundAgent.newChat', 'backgroundAgent.showHistory', 'backgroundAgent.setApiKey', 'backgroundAgent.stop', 'backgroundAgent.compactConversation']) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
  });

  it('New Chat opens a fresh chat and makes it the active chat for tasks the person starts', async () => {
    const { services: s, chat } = await extensionApi();
    await chat.whenLoaded();
    await vscode.commands.executeCommand('backgroundAgent.newChat');
    const id = chat.activeChatId;
    assert.ok(id);
    assert.equal(s.activeChat.conversationId, id);
  });

  it('shows a task the person starts from the palette as a chip in the open chat, following it to the end', async () => {
    const { chat } = await extensionApi();
    const view = new ViewModel();
    const detach = chat.attachView((m) => view.apply(m));
    try {
      await chat.handle({ type: 'ready' });
      const task = (await vscode.commands.executeCommand('backgroundAgent.runInBackground', { command: 'sleep 1; echo person-task', description: 'My task' })) as TaskSnapshot;
      assert.equal(task.origin.conversationId, chat.activeChatId);
      await until(() => view.of('task').some((t) => t.taskId === task.id), 'the chip');
      const chip = view.of('task').find((t) => t.taskId === task.id);
      assert.equal(chip?.byUser, true);
      assert.equal(chip?.description, 'My task');
      await until(() => view.of('task').find((t) => t.taskId === task.id)?.status === 'completed', 'the chip to complete');
      // Stop from the palette is harmless while nothing runs.
      await vscode.commands.executeCommand('backgroundAgent.stop');
      assert.equal(chat.busy, false);
    } finally {
      detach.dispose();
    }
  });

  it('keeps the chat in the workspace storage: the index lists it after its items are saved', async () => {
    const { services: s, chat } = await extensionApi();
    const id = chat.activeChatId;
    await until(() => (s.context.workspaceState.get<Array<{ id: string }>>('backgroundAgent.chats.index') ?? []).some((c) => c.id === id), 'the chat in the index', 5000);
    assert.equal(s.context.workspaceState.get('backgroundAgent.chats.active'), id);
  });

  it('names the chat that started a task by its title in the tasks view and the output header', async () => {
    const { services: s, tasksView } = await extensionApi();
    // A chat of this workspace known only from the stored index (not loaded): its title is still found.
    const index = s.context.workspaceState.get<Array<{ id: string }>>('backgroundAgent.chats.index') ?? [];
    await s.context.workspaceState.update('backgroundAgent.chats.index', [...index, { id: 'chat-titled', title: 'Fix the flaky tests', updatedAt: 1, itemCount: 2 }]);
    const task = s.manager.start({ command: 'echo titled', cwd: process.cwd(), origin: { kind: 'agent', conversationId: 'chat-titled' } });
    try {
      await until(() => s.manager.get(task.id)?.status === 'completed', 'the task to end');
      const label = tasksView.provider.getTreeItem(task.id).accessibilityInformation?.label ?? '';
      assert.match(label, /started by the agent \(chat “Fix the flaky tests”\)$/);
      const shown = (await vscode.commands.executeCommand('backgroundAgent.task.showOutput', task.id)) as vscode.TextEditor;
      assert.match(shown.document.getText(), /^Started by the agent \(chat “Fix the flaky tests”\)/m);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      s.manager.remove(task.id);
    }
  });
});
