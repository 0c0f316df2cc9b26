// The Background Tasks view in a real extension host: the tree provider's items, its coalesced refreshes,
// every task command, the live output document, the badge and persistence, over real child processes.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { BackgroundAgentApi } from '../../src/extension';
import type { TaskSnapshot } from '../../src/core/tasks/types';
import type { Services } from '../../src/vscode/services';
import type { TasksViewHandle } from '../../src/vscode/tasks/register';
import { TASK_OUTPUT_SCHEME, taskOutputUri } from '../../src/vscode/tasks/taskOutputDocument';
import { loadPersistedTasks } from '../../src/vscode/tasks/taskPersistence';
import { isAlive } from '../support/toolEnv';

const EXTENSION_ID = 'background-agent.background-agent';

async function extensionApi(): Promise<BackgroundAgentApi> {
  const ext = vscode.extensions.getExtension<BackgroundAgentApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function workspaceFolder(): string {
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(cwd, 'the test window has a workspace folder');
  return cwd;
}

function iconId(item: vscode.TreeItem): string {
  assert.ok(item.iconPath instanceof vscode.ThemeIcon, 'icons are theme icons');
  return item.iconPath.id;
}

describe('Background Tasks view', function () {
  let s: Services;
  let tasksView: TasksViewHandle;
  let cwd: string;

  before(async () => {
    ({ services: s, tasksView } = await extensionApi());
    cwd = workspaceFolder();
    // Earlier test files share this extension host and may have left tasks: start from an empty list.
    await s.manager.cancelAll();
    for (const task of s.manager.list()) s.manager.remove(task.id);
    // The view must be visible for item refreshes (a hidden view only refreshes when shown again).
    await vscode.commands.executeCommand('backgroundAgent.tasks.focus');
    await until(() => tasksView.view.visible, 'the Background Tasks view to be visible');
  });

  afterEach(async () => {
    // Every test leaves no process behind and an empty list for the next one.
    await s.manager.cancelAll();
    for (const task of s.manager.list()) s.manager.remove(task.id);
  });

  it('lists tasks newest first with label, state, icon, menu context and an accessible name', async () => {
    const { provider } = tasksView;
    const first = s.manager.start({ command: 'exit 0', cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(first.id);
    const failed = s.manager.start({ command: 'echo boom; exit 4', description: 'A failing step', cwd, origin: { kind: 'agent', conversationId: 'conv-a' } });
    await s.manager.waitForEnd(failed.id);
    const running = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'agent', conversationId: 'conv-a' } });

    assert.deepEqual(provider.getChildren(), [running.id, failed.id, first.id]);
    assert.deepEqual(provider.getChildren(running.id), [], 'a flat list');

    const runningItem = provider.getTreeItem(running.id);
    assert.equal(runningItem.label, 'sleep 30');
    assert.match(String(runningItem.description), /^running · \d+s$/);
    assert.equal(iconId(runningItem), 'loading~spin');
    assert.equal(runningItem.contextValue, 'task.running');
    assert.match(runningItem.accessibilityInformation?.label ?? '', /^Background task sleep 30, running for \d+ seconds?, started by the agent \(chat conv-a\)$/);

    const failedItem = provider.getTreeItem(failed.id);
    assert.equal(failedItem.label, 'A failing step', 'the description is the label when there is one');
    assert.match(String(failedItem.description), /^failed · exit 4 · \d+s$/);
    assert.equal(iconId(failedItem), 'error');
    assert.equal(failedItem.contextValue, 'task.finished');

    const userItem = provider.getTreeItem(first.id);
    assert.match(String(userItem.description), /^completed · exit 0 · [\d.]+s · you$/, 'tasks the person started say so');
    assert.equal(iconId(userItem), 'pass');
  });

  it('gives each ending its own icon and colour', async () => {
    const { provider } = tasksView;
    const cancelled = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    await s.manager.cancel(cancelled.id);
    const timedOut = s.manager.start({ command: 'sleep 30', cwd, timeoutMs: 300, origin: { kind: 'user' } });
    await s.manager.waitForEnd(timedOut.id);
    const completed = s.manager.start({ command: 'true', cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(completed.id);
    const failed = s.manager.start({ command: 'false', cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(failed.id);
    const running = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });

    const icons = [running, completed, failed, cancelled, timedOut].map((task) => provider.getTreeItem(task.id).iconPath as vscode.ThemeIcon);
    const keys = icons.map((icon) => `${icon.id}/${icon.color?.id ?? ''}`);
    assert.equal(new Set(keys).size, keys.length, `distinct icons: ${keys.join(', ')}`);
    assert.match(String(provider.getTreeItem(timedOut.id).description), /^timed out · /);
    assert.match(String(provider.getTreeItem(cancelled.id).description), /^cancelled · /);
  });

  it('shows command, folder, pid, start, duration, size, origin and the last lines of output in the tooltip', async () => {
    const { provider } = tasksView;
    const task = s.manager.start({ command: 'for i in 1 2 3 4 5; do echo "line $i"; done; exit 0', cwd, origin: { kind: 'agent', conversationId: 'conv-tip' } });
    const ended = await s.manager.waitForEnd(task.id);
    const item = provider.resolveTreeItem(provider.getTreeItem(task.id), task.id);
    assert.ok(item.tooltip instanceof vscode.MarkdownString);
    const text = item.tooltip.value;
    assert.ok(text.includes('for i in 1 2 3 4 5; do echo "line $i"; done; exit 0'), text);
    assert.ok(text.includes(`Process id: ${ended.pid}`), text);
    assert.ok(text.includes('Folder: '), text);
    assert.ok(text.includes('Started: '), text);
    assert.ok(text.includes('Duration: '), text);
    assert.ok(text.includes('Output: 35 B'), text);
    assert.ok(text.includes('chat conv\\-tip'), text);
    assert.match(text, /line 1\nline 2\nline 3\nline 4\nline 5/);
  });

  it('refreshes a flooding task item by item, never the whole tree, and batches its chunks', async () => {
    const { provider } = tasksView;
    const events: (string | string[] | undefined)[] = [];
    const listener = provider.onDidChangeTreeData((e) => events.push(e ?? undefined));
    let outputEvents = 0;
    const counter = s.manager.onEvent((e) => {
      if (e.type === 'output') outputEvents++;
    });
    try {
      const flood = s.manager.start({ command: 'yes "flooding the view" | head -c 40000000; sleep 1', cwd, origin: { kind: 'user' } });
      await until(() => events.some((e) => e === undefined), 'the root refresh for the new task');
      const startIndex = events.findIndex((e) => e === undefined);
      await s.manager.waitForEnd(flood.id);
      await until(() => events.slice(startIndex + 1).some((e) => e === flood.id), 'a refresh of the ended item');
      const later = events.slice(startIndex + 1);
      assert.ok(later.length > 0);
      for (const e of later) assert.ok(e === flood.id || (Array.isArray(e) && e.includes(flood.id)), `only the task's own item is refreshed, got ${JSON.stringify(e)}`);
      assert.ok(later.length <= outputEvents + 1 + Math.ceil((Date.now() - flood.startedAt) / 1000), 'no more refreshes than output events plus one tick a second');
      assert.ok(s.manager.get(flood.id)!.outputBytes >= 40_000_000);
    } finally {
      listener.dispose();
      counter.dispose();
    }
  });

  it('Cancel Task kills the whole tree, shows cancelled, and tells the agent that started it', async () => {
    const { provider } = tasksView;
    // The shell starts a grandchild in its own session: cancel must reach it too.
    const pidFile = `${cwd}/grandchild-${Date.now()}.pid`;
    const task = s.manager.start({ command: `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 60' & sleep 60`, cwd, origin: { kind: 'agent', conversationId: 'conv-cancel' } });
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0, 'the grandchild pid file');
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    // The launcher reports the shell's pid a moment after start().
    const shell = s.manager.get(task.id)?.pid;
    assert.ok(shell !== undefined && isAlive(grandchild) && isAlive(shell));

    const changed = new Promise<void>((resolve) => {
      const l = provider.onDidChangeTreeData((e) => {
        // The item itself, or the whole list when the start's refresh was still pending.
        if (e === undefined || e === task.id || (Array.isArray(e) && e.includes(task.id))) {
          l.dispose();
          resolve();
        }
      });
    });
    await vscode.commands.executeCommand('backgroundAgent.task.cancel', task.id);
    await changed;
    const item = provider.getTreeItem(task.id);
    assert.match(String(item.description), /^cancelled · /);
    assert.equal(item.contextValue, 'task.finished');
    assert.equal(isAlive(shell), false, 'the shell is gone');
    assert.equal(isAlive(grandchild), false, 'the setsid grandchild is gone');
    const notes = s.manager.notifications.drain('conv-cancel');
    assert.equal(notes.length, 1);
    assert.equal(notes[0].taskId, task.id);
    assert.equal(notes[0].status, 'cancelled');
    rmSync(pidFile, { force: true });
  });

  it('Cancel Task on several selected rows cancels each of them', async () => {
    const a = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    const b = s.manager.start({ command: 'sleep 31', cwd, origin: { kind: 'user' } });
    const c = s.manager.start({ command: 'sleep 32', cwd, origin: { kind: 'user' } });
    await vscode.commands.executeCommand('backgroundAgent.task.cancel', a.id, [a.id, b.id]);
    assert.equal(s.manager.get(a.id)?.status, 'cancelled');
    assert.equal(s.manager.get(b.id)?.status, 'cancelled');
    assert.equal(s.manager.get(c.id)?.status, 'running', 'an unselected task keeps running');
  });

  it('Restart Task starts the same command again, in the same folder, for the same origin', async () => {
    const original = s.manager.start({ command: 'echo again', description: 'Say again', cwd, timeoutMs: 60_000, origin: { kind: 'agent', conversationId: 'conv-restart' } });
    await s.manager.waitForEnd(original.id);
    const [restarted] = (await vscode.commands.executeCommand<TaskSnapshot[]>('backgroundAgent.task.restart', original.id)) ?? [];
    assert.ok(restarted, 'restart returns the new task');
    assert.notEqual(restarted.id, original.id);
    assert.deepEqual(
      { command: restarted.command, cwd: restarted.cwd, description: restarted.description, origin: restarted.origin, timeoutMs: restarted.timeoutMs },
      { command: original.command, cwd: original.cwd, description: original.description, origin: original.origin, timeoutMs: original.timeoutMs },
    );
    assert.equal(tasksView.provider.getChildren()[0], restarted.id, 'the new run is on top');
    assert.ok(s.manager.get(original.id), 'the old run stays as a record');
    await s.manager.waitForEnd(restarted.id);
    assert.equal(s.manager.notifications.drain('conv-restart').length, 2, 'the agent hears of both runs');
  });

  it('Restart Task does nothing to a running task', async () => {
    const running = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    const result = await vscode.commands.executeCommand<TaskSnapshot[]>('backgroundAgent.task.restart', running.id);
    assert.deepEqual(result, []);
    assert.equal(s.manager.list().length, 1);
  });

  it('Copy Command puts the full command on the clipboard', async () => {
    const command = "printf '%s\\n' \"it's copied\"";
    const task = s.manager.start({ command, cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(task.id);
    await vscode.commands.executeCommand('backgroundAgent.task.copyCommand', task.id);
    assert.equal(await vscode.env.clipboard.readText(), command);
  });

  it('Remove Task forgets a finished task and refuses a running one', async () => {
    const finished = s.manager.start({ command: 'true', cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(finished.id);
    const running = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    await vscode.commands.executeCommand('backgroundAgent.task.remove', finished.id);
    await vscode.commands.executeCommand('backgroundAgent.task.remove', running.id);
    assert.equal(s.manager.get(finished.id), undefined);
    assert.equal(s.manager.get(running.id)?.status, 'running');
    assert.deepEqual(tasksView.provider.getChildren(), [running.id]);
  });

  it('Clear Finished Tasks removes every finished task and keeps running ones; Cancel All Tasks cancels the rest', async () => {
    const done = s.manager.start({ command: 'true', cwd, origin: { kind: 'user' } });
    const failed = s.manager.start({ command: 'false', cwd, origin: { kind: 'user' } });
    await Promise.all([s.manager.waitForEnd(done.id), s.manager.waitForEnd(failed.id)]);
    const a = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    const b = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    await vscode.commands.executeCommand('backgroundAgent.clearFinishedTasks');
    assert.deepEqual(s.manager.list().map((t) => t.id).sort(), [a.id, b.id].sort());
    await vscode.commands.executeCommand('backgroundAgent.cancelAllTasks');
    assert.deepEqual(s.manager.list().map((t) => t.status), ['cancelled', 'cancelled']);
    const pids = [s.manager.get(a.id)?.pid, s.manager.get(b.id)?.pid];
    assert.ok(pids.every((pid) => pid !== undefined), 'both had started');
    assert.equal(pids.some((pid) => isAlive(pid as number)), false);
  });

  it('Run Command in Background… starts a person\'s task in the first folder, reported to the active chat', async () => {
    const config = vscode.workspace.getConfiguration('backgroundAgent');
    // The chat view provides the active chat; a stand-in takes the word for this test and gives it back.
    const standIn = s.activeChat.provide({ conversationId: 'conv-active', titleOf: () => undefined });
    try {
      const reported = await vscode.commands.executeCommand<TaskSnapshot>('backgroundAgent.runInBackground', { command: '  echo from the person  ' });
      assert.ok(reported);
      assert.equal(reported.command, 'echo from the person', 'surrounding blanks are trimmed');
      assert.equal(reported.cwd, cwd);
      assert.deepEqual(reported.origin, { kind: 'user', conversationId: 'conv-active' });
      await s.manager.waitForEnd(reported.id);
      const notes = s.manager.notifications.drain('conv-active');
      assert.equal(notes.length, 1);
      assert.match(notes[0].outputTail, /from the person/);

      await config.update('reportUserTasksToChat', false, vscode.ConfigurationTarget.Global);
      const quiet = await vscode.commands.executeCommand<TaskSnapshot>('backgroundAgent.runInBackground', { command: 'echo unreported' });
      assert.ok(quiet);
      assert.deepEqual(quiet.origin, { kind: 'user' }, 'with the setting off, no chat hears of it');
    } finally {
      standIn.dispose();
      await config.update('reportUserTasksToChat', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('Show Output opens a read-only document with command and status on top that follows the output live', async () => {
    const task = s.manager.start({ command: 'echo first line; sleep 1.5; echo second line; sleep 30', cwd, origin: { kind: 'user' } });
    await until(() => s.manager.outputPreview(task.id).includes('first line'), 'the first line');
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('backgroundAgent.task.showOutput', task.id);
    assert.ok(editor);
    const document = editor.document;
    assert.equal(document.uri.scheme, TASK_OUTPUT_SCHEME);
    assert.equal(document.uri.toString(), taskOutputUri(task).toString());
    const lines = document.getText().split('\n');
    assert.equal(lines[0], `$ ${task.command}`);
    assert.match(lines[1], new RegExp(`^Task ${task.id}: running since `));
    // Whole lines: the header's `$ <command>` line also contains both phrases, and matched them at once.
    assert.match(document.getText(), /^first line$/m);
    await until(() => /^second line$/m.test(document.getText()), 'the document to follow the output');
    await s.manager.cancel(task.id);
    await until(() => /^Task \S+: cancelled, /m.test(document.getText()), 'the header to show the end');
    // Read-only-ness is what a person sees when typing: checked in the e2e test (the API has no flag for it).
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Show Output hidden behind another editor when its task ends shows the end once it is shown again', async () => {
    const task = s.manager.start({ command: 'echo while-it-ran; sleep 30', cwd, origin: { kind: 'user' } });
    await until(() => s.manager.outputPreview(task.id).includes('while-it-ran'), 'the first line');
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('backgroundAgent.task.showOutput', task.id);
    assert.ok(editor);
    const document = editor.document;
    await until(() => /^while-it-ran$/m.test(document.getText()), 'the output');
    // Another editor in the same group hides it; the task ends meanwhile.
    const other = await vscode.workspace.openTextDocument({ content: 'another file' });
    await vscode.window.showTextDocument(other, { viewColumn: editor.viewColumn, preview: false });
    await until(() => !vscode.window.visibleTextEditors.some((e) => e.document === document), 'the output to be hidden');
    await s.manager.cancel(task.id);
    await vscode.window.showTextDocument(document, { viewColumn: editor.viewColumn });
    await until(() => /^Task \S+: cancelled, /m.test(document.getText()), 'the header to show the end');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Show Output follows a running task by appending: the header stays, the tail is the log end, every update one insertion or deletion', async () => {
    // Batches of numbered lines, each released by a `go` file once the document showed the one before
    // (no timing): small ones are appended, big ones jump ahead, and the growing document is re-based.
    const batches = [
      [1, 2000],
      [2001, 3000],
      [3001, 40000],
      [40001, 41000],
      [41001, 42000],
      [42001, 43000],
      [43001, 44000],
      [44001, 100000],
      [100001, 100100],
    ];
    const go = `${cwd}/go-${Date.now()}`;
    const script = batches.map(([a, b]) => `while [ ! -e ${go} ]; do sleep 0.02; done; rm ${go}; seq ${a} ${b}`).join('; ');
    const task = s.manager.start({ command: `${script}; sleep 60`, cwd, origin: { kind: 'user' } });
    const released = (): void => void writeFileSync(go, '');
    released();
    await until(() => s.manager.get(task.id)!.outputBytes > 0, 'the first batch');
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('backgroundAgent.task.showOutput', task.id);
    assert.ok(editor);
    const document = editor.document;
    const changes: vscode.TextDocumentContentChangeEvent[] = [];
    const listener = vscode.workspace.onDidChangeTextDocument((e) => e.document === document && changes.push(...e.contentChanges));
    try {
      const header = document.getText().split('─'.repeat(60))[0];
      assert.match(header, new RegExp(`^\\$ .*\\nTask ${task.id}: running since [^\\n]*\\.\\n`));
      for (const [index, [, last]] of batches.entries()) {
        if (index > 0) released();
        await until(() => document.getText().endsWith(`\n${last}\n`), `the document to show line ${last}`);
        const text = document.getText();
        assert.ok(text.startsWith(header), 'the header does not change while the task runs');
        assert.ok(text.length < 100_000, `${text.length} characters: VS Code diffs documents up to 100,000 only`);
        // After the header: runs of consecutive numbers from 1, broken only by lines saying output was left out.
        const body = text.slice(header.length).split('\n').slice(1, -1);
        let expected = 1;
        let leftOut = false;
        for (const line of body) {
          if (/^…|^$/.test(line)) {
            leftOut = true;
            continue;
          }
          const n = Number(line);
          assert.ok(n === expected || (leftOut && n > expected), `line ${line} after ${expected - 1} (left out: ${leftOut})`);
          expected = n + 1;
          leftOut = false;
        }
        assert.equal(expected, last + 1);
      }
      assert.match(document.getText(), /\n… output left out here\. The whole log: .*\n\n/, 'the head and the rest apart');
      assert.match(document.getText(), /\n… [\d.]+ [KM]B more not shown here …\n/, 'a jump says how much it skipped');
      // What keeps the renderer smooth: VS Code found each update to be one insertion or one deletion (a
      // replacement here would mean its editor worker gave up on the diff, which takes it 1 s).
      assert.ok(changes.length >= batches.length, `${changes.length} changes`);
      for (const change of changes) assert.ok(change.rangeLength === 0 || change.text === '', `a replacement: ${JSON.stringify(change).slice(0, 200)}`);
    } finally {
      listener.dispose();
      rmSync(go, { force: true });
    }
    await s.manager.cancel(task.id);
    await until(() => /^Task \S+: cancelled, .* of output\.$/m.test(document.getText()), 'the header to show the end and the size');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Show Output of a large log shows its head and tail with a note, not the whole log', async () => {
    // ~68 MB of numbered lines; the document must stay around 1 MB and end with the last line.
    const task = s.manager.start({ command: 'seq 1 9000000', cwd, origin: { kind: 'user' } });
    const ended = await s.manager.waitForEnd(task.id);
    assert.ok(ended.outputBytes > 60_000_000, `printed ${ended.outputBytes} bytes`);
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('backgroundAgent.task.showOutput', task.id);
    assert.ok(editor);
    const text = editor.document.getText();
    assert.ok(text.length < 1.5 * 1024 * 1024, `document of ${text.length} characters`);
    assert.match(text, /\n1\n2\n3\n/, 'the head is there');
    assert.match(text, /of output left out here\. Shown: the first 64\.0 KB and the last 1\.0 MB of /);
    assert.ok(text.includes(ended.logPath), 'the note names the full log');
    assert.match(text, /\n8999999\n9000000\n$/, 'the tail is there, ending with the last line');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Show Output of a log trimmed under backgroundAgent.maxLogSizeMB says what was dropped and keeps both ends', async () => {
    const config = vscode.workspace.getConfiguration('backgroundAgent');
    await config.update('maxLogSizeMB', 4, vscode.ConfigurationTarget.Global);
    try {
      // ~21 MB of numbered lines against a 4 MB cap.
      const ended = await s.manager.waitForEnd(s.manager.start({ command: 'seq 1 3000000', cwd, origin: { kind: 'user' } }).id);
      assert.ok(ended.droppedOutput, 'the ended task says its log was trimmed');
      await until(() => statSync(ended.logPath).blocks * 512 <= 4 * 1024 * 1024, 'the log to hold at most 4 MB on disk');
      const editor = await vscode.commands.executeCommand<vscode.TextEditor>('backgroundAgent.task.showOutput', ended.id);
      assert.ok(editor);
      const text = editor.document.getText();
      assert.match(text, /\n1\n2\n3\n/, 'the head is there');
      assert.match(text, / MB from its middle were dropped while it flooded, so it could not fill the disk\)/);
      assert.match(text, /\n2999999\n3000000\n$/, 'the tail is there, ending with the last line');
      assert.ok(!text.includes('\0'), 'no zeros from the freed part of the file');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      await config.update('maxLogSizeMB', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('Show Output of binary output shows a note and a hex dump; colours and control characters are cleaned', async () => {
    const binary = s.manager.start({ command: "printf 'BIN\\0\\1\\2'; head -c 3000 /dev/urandom", cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(binary.id);
    const shown = await vscode.commands.executeCommand<vscode.TextEditor>('backgroundAgent.task.showOutput', binary.id);
    assert.ok(shown);
    const text = shown.document.getText();
    assert.match(text, /\[Binary output: 2\.9 KB here are not text, so they are not shown\. The first bytes in hex:\]\n00000000 {2}42 49 4e 00 01 02 /);
    assert.ok(!text.includes('\uFFFD'), 'no replacement characters');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    const text2 = s.manager.start({ command: "printf '\\033[31mred\\033[0m caf\\351\\a\\n10%%\\r100%%\\n'", cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(text2.id);
    const cleaned = await vscode.commands.executeCommand<vscode.TextEditor>('backgroundAgent.task.showOutput', text2.id);
    assert.ok(cleaned);
    assert.match(cleaned.document.getText(), /^red caf\\xe9\\x07\n100%$/m);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Show Output of a removed task says so instead of failing', async () => {
    const task = s.manager.start({ command: 'true', cwd, origin: { kind: 'user' } });
    await s.manager.waitForEnd(task.id);
    const uri = taskOutputUri(task);
    s.manager.remove(task.id);
    const document = await vscode.workspace.openTextDocument(uri);
    assert.match(document.getText(), /^No background task \S+ in this window/);
  });

  it('shows the number of running tasks as the view badge, gone when none run', async () => {
    const { view } = tasksView;
    const a = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    assert.equal(view.badge?.value, 2);
    assert.equal(view.badge?.tooltip, '2 background tasks running');
    await s.manager.cancel(a.id);
    assert.equal(view.badge?.value, 1, JSON.stringify(s.manager.list().map((t) => [t.id, t.status, t.error, t.exitCode, t.signal])));
    await s.manager.cancelAll();
    assert.equal(view.badge, undefined);
  });

  it('saves the task list to workspace state for the next window', async () => {
    const task = s.manager.start({ command: 'sleep 30', cwd, origin: { kind: 'user' } });
    await until(() => loadPersistedTasks(s.context.workspaceState).some((t) => t.id === task.id && t.status === 'running'), 'the running task to be saved');
    await s.manager.cancel(task.id);
    await until(() => loadPersistedTasks(s.context.workspaceState).some((t) => t.id === task.id && t.status === 'cancelled'), 'the cancelled task to be saved');
    s.manager.remove(task.id);
    await until(() => !loadPersistedTasks(s.context.workspaceState).some((t) => t.id === task.id), 'the removed task to be dropped');
  });

  it('saves a running task again when its log is trimmed, so a reload still knows what was dropped', async () => {
    const config = vscode.workspace.getConfiguration('backgroundAgent');
    await config.update('maxLogSizeMB', 4, vscode.ConfigurationTarget.Global);
    try {
      // ~20 MB/s until cancelled: trimmed by the watcher while it runs.
      const task = s.manager.start({ command: "while :; do head -c 1048576 /dev/zero | tr '\\0' x; sleep 0.05; done", cwd, origin: { kind: 'user' } });
      await until(() => s.manager.get(task.id)?.droppedOutput !== undefined, 'the running log to be trimmed');
      await until(
        () => loadPersistedTasks(s.context.workspaceState).some((t) => t.id === task.id && t.status === 'running' && t.droppedOutput !== undefined),
        'the trim to be saved while the task runs',
      );
    } finally {
      await config.update('maxLogSizeMB', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('restored tasks of the last window show as interrupted when they were running', async () => {
    const { provider } = tasksView;
    const previous: TaskSnapshot = {
      id: `restored-${Date.now()}`,
      command: 'npm run dev',
      cwd,
      pid: 999_999,
      status: 'running',
      exitCode: null,
      signal: null,
      startedAt: Date.now() - 60_000,
      outputBytes: 0,
      logPath: `${cwd}/no-such-log.log`,
      origin: { kind: 'agent', conversationId: 'conv-old' },
    };
    s.manager.restore([previous]);
    provider.refreshAll();
    const item = provider.getTreeItem(previous.id);
    assert.match(String(item.description), /^interrupted/);
    assert.equal(iconId(item), 'debug-disconnect');
    assert.equal(item.contextValue, 'task.finished', 'an interrupted task can be restarted or removed');
  });
});
