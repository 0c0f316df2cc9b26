// Our background-task tools as other agents call them: through `vscode.lm.invokeTool` in a real extension
// host, as Copilot's agent mode or any chat extension would, with no chat (toolInvocationToken undefined).
// Outside a chat, VS Code 1.99 confirms an extension tool's call with its generic modal dialog; in an
// extension-test window its DialogService answers every confirm() with "confirmed" without showing anything
// and refuses every other dialog (skipDialogs). A command our approval settings ask about is asked about by
// invoke itself (a modal that names the command): here that dialog cannot be shown, so the answer is no,
// which is what this file checks (the person's yes is covered in test/unit/external-tools.test.ts).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as vscode from 'vscode';
import type { TaskSnapshot } from '../../src/core/tasks/types';
import { EXTERNAL_TOOLS, externalInputSchema, externalName, type ExternalToolName } from '../../src/core/externalTools/externalTools';
import type { BackgroundAgentApi } from '../../src/extension';
import { loadPersistedTasks } from '../../src/vscode/tasks/taskPersistence';
import { isAlive } from '../support/toolEnv';

const EXTENSION_ID = 'background-agent.background-agent';

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function textOf(result: vscode.LanguageModelToolResult): string {
  return result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('');
}

/** Calls the tool as another extension would: its result, or the error VS Code hands back. */
async function invoke(name: ExternalToolName, input: object, token?: vscode.CancellationToken): Promise<{ text?: string; error?: Error }> {
  try {
    const result = await vscode.lm.invokeTool(externalName(name), { input, toolInvocationToken: undefined }, token);
    return { text: textOf(result) };
  } catch (error) {
    return { error: error as Error };
  }
}

function ourTool(api: BackgroundAgentApi, name: ExternalToolName): vscode.LanguageModelTool<unknown> {
  const tool = api.lmTools.tools.get(externalName(name));
  assert.ok(tool, `${externalName(name)} is registered`);
  return tool;
}

const noCancel = new vscode.CancellationTokenSource().token;

/** Sets an approval setting in the user settings and waits until the policy follows it. */
async function setApproval(api: BackgroundAgentApi, key: 'approval' | 'denyCommands', value: string | string[] | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('backgroundAgent').update(key, value, vscode.ConfigurationTarget.Global);
  const now = (): unknown => (key === 'approval' ? api.services.approvalPolicy.settings.mode : api.services.approvalPolicy.settings.denyCommands);
  await until(() => JSON.stringify(now()) === JSON.stringify(value ?? (key === 'approval' ? 'ask' : [])), `the policy to follow ${key}`);
}

function externalTasks(api: BackgroundAgentApi): TaskSnapshot[] {
  return api.services.manager.list().filter((task) => task.origin.kind === 'externalAgent');
}

describe("Language-model tools (vscode.lm): other agents' background tasks", function () {
  this.timeout(60_000);
  let api: BackgroundAgentApi;

  before(async () => {
    const ext = vscode.extensions.getExtension<BackgroundAgentApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    api = await ext.activate();
  });

  afterEach(async () => {
    if (!api) return;
    await setApproval(api, 'denyCommands', undefined);
    await setApproval(api, 'approval', undefined);
    for (const task of externalTasks(api)) {
      if (task.status === 'running') await api.services.manager.cancel(task.id);
      api.services.manager.remove(task.id);
    }
  });

  it('lists the three tools under their prefixed names, with the schemas our tools validate against', () => {
    for (const name of EXTERNAL_TOOLS) {
      const info = vscode.lm.tools.find((tool) => tool.name === externalName(name));
      assert.ok(info, `${externalName(name)} is in vscode.lm.tools`);
      assert.deepEqual(info.inputSchema, externalInputSchema(name));
      assert.ok(info.description.length > 50, 'the model description');
      assert.ok(info.tags.includes('background-tasks'));
    }
  });

  it("starts an allowed command as another agent's task: in the tree and the saved list, read by check, its tree killed by cancel", async () => {
    const { manager } = api.services;
    const pidFile = `${vscode.workspace.workspaceFolders?.[0]?.uri.fsPath}/lm-grandchild-${Date.now()}.pid`;
    // Allowed without asking (mode auto, from user settings: it writes a file); the grandchild in its own
    // session tests the tree kill.
    await setApproval(api, 'approval', 'auto');
    const prepared = await ourTool(api, 'background_run').prepareInvocation?.({ input: { command: 'echo lm-hello' } }, noCancel);
    assert.equal(prepared?.confirmationMessages, undefined, 'nothing for the person to confirm on our side');
    const started = await invoke('background_run', { command: `echo lm-hello; setsid sh -c 'echo $$ > ${pidFile}; exec sleep 60' & sleep 60`, description: 'from another agent' });
    const id = /^Background task (\S+) started: echo lm-hello/.exec(started.text ?? '')?.[1];
    assert.ok(id, started.text ?? started.error?.message);
    assert.deepEqual(manager.get(id)?.origin, { kind: 'externalAgent' });

    const item = api.tasksView.provider.getTreeItem(id);
    assert.match(String(item.description), /^running · .* · other agent$/);
    assert.match(item.accessibilityInformation?.label ?? '', /started by another agent, through VS Code's language-model tools$/);
    await until(() => loadPersistedTasks(api.services.context.workspaceState).some((t) => t.id === id && t.origin.kind === 'externalAgent'), 'the task to be saved with its origin');

    await until(async () => ((await invoke('check_background', { task_id: id })).text ?? '').includes('lm-hello'), 'check_background to read its output');

    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0, 'the grandchild pid file');
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    const cancelled = await invoke('cancel_background', { task_id: id });
    assert.match(cancelled.text ?? String(cancelled.error), new RegExp(`^Task ${id} cancelled after .*: its whole process tree was killed\\.$`));
    assert.equal(manager.get(id)?.status, 'cancelled');
    assert.equal(isAlive(grandchild), false, 'the setsid grandchild is gone');
    rmSync(pidFile, { force: true });
  });

  it("neither sees nor cancels the person's or our chats' tasks", async () => {
    const { manager } = api.services;
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '/';
    const users = manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    const chats = manager.start({ command: 'sleep 31', cwd, origin: { kind: 'agent', conversationId: 'chat-lm' } });
    try {
      assert.equal((await invoke('check_background', {})).text, 'No background tasks.');
      for (const other of [users, chats]) {
        const cancel = await invoke('cancel_background', { task_id: other.id });
        assert.match(cancel.error?.message ?? '', new RegExp(`^No background task has the id "${other.id}"`));
        assert.equal(manager.get(other.id)?.status, 'running');
      }
    } finally {
      for (const other of [users, chats]) {
        await manager.cancel(other.id);
        manager.remove(other.id);
      }
    }
  });

  it('refuses a command a deny rule names, saying which rule, and starts nothing', async () => {
    await setApproval(api, 'denyCommands', ['sleep']);
    const prepared = await ourTool(api, 'background_run').prepareInvocation?.({ input: { command: 'sleep 5' } }, noCancel);
    assert.equal(prepared?.confirmationMessages, undefined, 'nothing for the person to confirm');
    assert.match(String(prepared?.invocationMessage), /^Will be refused: Refused by the deny rule "sleep"/);
    const refused = await invoke('background_run', { command: 'sleep 5' });
    assert.match(refused.error?.message ?? '', /Refused by the deny rule "sleep": `sleep 5` may not run/);
    assert.equal(externalTasks(api).length, 0);
  });

  it('answers bad input with a clear error, and starts nothing', async () => {
    const bad = await invoke('cancel_background', { task_id: 7 });
    assert.match(bad.error?.message ?? '', /^Invalid input for cancel_background: `task_id` must be a string, not a number\./);
    const notify = await invoke('background_run', { command: 'echo hi', notify_on: 'error' });
    assert.match(notify.error?.message ?? '', /`notify_on` is not available through VS Code's tools/);
    assert.equal(externalTasks(api).length, 0);
  });

  it('asks the person itself about a command the settings ask about, whatever VS Code confirmed, and runs nothing without a yes', async () => {
    const command = 'touch lm-asked.txt';
    const prepared = await ourTool(api, 'background_run').prepareInvocation?.({ input: { command } }, noCancel);
    assert.equal(prepared?.confirmationMessages, undefined, 'VS Code is not asked to stand in for the person');
    assert.equal(prepared?.invocationMessage, `Starting in the background: ${command} (Background Agent asks you first)`);
    // Through VS Code: its own confirmation says yes (test mode); ours cannot be shown here, so the answer is no.
    const refused = await invoke('background_run', { command });
    assert.match(refused.error?.message ?? String(refused.text), /^Not run: the person did not approve this command/);
    assert.equal(externalTasks(api).length, 0);
    assert.equal(existsSync(`${vscode.workspace.workspaceFolders?.[0]?.uri.fsPath}/lm-asked.txt`), false);
  });

  it('stops waiting when the caller cancels, and keeps the task running', async () => {
    const source = new vscode.CancellationTokenSource();
    const call = invoke('background_run', { command: 'sleep 30', wait_for: 'never printed' }, source.token);
    await until(() => externalTasks(api)[0]?.waitingUntilReady === true, 'the call to wait');
    source.cancel();
    assert.ok((await call).error, 'a cancelled call rejects');
    await until(() => externalTasks(api)[0]?.waitingUntilReady !== true, 'the wait to end');
    assert.equal(externalTasks(api)[0]?.status, 'running', 'the task was not killed');
    source.dispose();
  });
});
