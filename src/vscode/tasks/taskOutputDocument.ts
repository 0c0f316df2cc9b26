// Read-only documents with a task's output, on the `background-task:` scheme, that follow the log while it runs.
//
// Size: a log can be 1 GB, so a document never holds all of it. It shows a header (command, status), then the
// first HEAD_BYTES and the last TAIL_BYTES of the log with a note where the middle was left out, and the path of
// the full log. Why head *and* tail: the tail is what a person watches while a task runs and where the error of a
// failed build is; the head shows how the command started (its configuration, the first error of a cascade).
// Reads are bounded (`manager.readOutput` with maxBytes), so opening a 1 GB log costs the same as a 2 MB one.
//
// While a task runs its document follows the log (followedOutput.ts, followedDocuments.ts): checked every
// FOLLOW_MS while it is visible, it is only ever appended to (a flood: its newest lines, after a line saying how
// much was skipped) and now and then its older part deleted, so VS Code diffs and renders just the new lines.
// Measured in bench/tasksView.bench.ts (a 10 s `yes` flood, real code-server + Chromium): the old way,
// re-rendering head + 64 KB tail at most every 2 s, replaced the whole 130,000-character model each time
// (VS Code does not diff texts over 100,000 characters, and a changing byte count in the header plus new
// output made the diff of smaller ones take seconds): 1–2 renderer tasks of 60–75 ms in 8 s, an update every
// ~2 s. Appending ~2 KB twice a second: 0–1 (one 59 ms right after opening), no replacements.
// The header is frozen while the task runs (its size is in the tree) and rendered anew once it ends.
import * as vscode from 'vscode';
import type { TaskManager, TaskSnapshot } from '../../core/tasks/types';
import { formatBytes, formatDuration, statusWord, taskDurationMs } from '../../shared/taskWords';
import { FollowedDocuments } from './followedDocuments';
import { dropPartialFirstLine, dropPartialLastLine, sliceText } from './followedOutput';
import { origin, type ChatTitleLookup } from './taskText';

export const TASK_OUTPUT_SCHEME = 'background-task';
export const HEAD_BYTES = 64 * 1024;
export const TAIL_BYTES = 1024 * 1024;
const FOLLOW_MS = 500;

export function taskOutputUri(task: Pick<TaskSnapshot, 'id' | 'command' | 'description'>): vscode.Uri {
  // The file name is what the editor tab shows: make it say which task this is.
  const name = (task.description || task.command).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'output';
  return vscode.Uri.from({ scheme: TASK_OUTPUT_SCHEME, path: `/${task.id}/${name}.log` });
}

export function taskIdOf(uri: vscode.Uri): string | undefined {
  if (uri.scheme !== TASK_OUTPUT_SCHEME) return undefined;
  return uri.path.split('/')[1] || undefined;
}

interface Rendered {
  outputBytes: number;
  status: string;
}

export class TaskOutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  /** What each document of an ended task showed last, by uri string: it is rendered again only when that changes. */
  private readonly rendered = new Map<string, Rendered>();
  /** Documents of running tasks. */
  private readonly followed: FollowedDocuments;
  /** Editors scrolled to the end before an update keep following the end after it. */
  private readonly following = new Set<vscode.TextEditor>();
  private followTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly manager: TaskManager,
    private readonly titleOf?: ChatTitleLookup,
  ) {
    this.followed = new FollowedDocuments(manager, (uri) => this.fire(uri));
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.registerTextDocumentContentProvider(TASK_OUTPUT_SCHEME, this),
      vscode.window.onDidChangeVisibleTextEditors(() => this.onVisibleEditorsChanged()),
      vscode.workspace.onDidChangeTextDocument((e) => this.onDocumentChanged(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        this.rendered.delete(doc.uri.toString());
        this.followed.forget(doc.uri.toString());
      }),
    );
    const events = manager.onEvent((event) => {
      if (event.type === 'ended' || event.type === 'removed') this.refreshVisible(event.type === 'ended' ? event.task.id : event.taskId);
      if (event.type === 'started') this.updateFollowing();
    });
    this.disposables.push({ dispose: () => events.dispose() });
    this.updateFollowing();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = taskIdOf(uri);
    const task = id ? this.manager.get(id) : undefined;
    const key = uri.toString();
    if (!id || !task) {
      this.rendered.delete(key);
      this.followed.forget(key);
      return `No background task ${id ?? ''} in this window (it was removed, or belongs to another window).\n`;
    }
    if (task.status === 'running') return this.followed.text(key, task, header(task, this.titleOf), leftOutLine(task));
    this.followed.forget(key);
    this.rendered.set(key, { outputBytes: task.outputBytes, status: task.status });
    let body: string;
    try {
      body = await this.readBounded(task);
    } catch (error) {
      body = `(The output could not be read: ${error instanceof Error ? error.message : String(error)})\n`;
    }
    return header(task, this.titleOf) + body;
  }

  private async readBounded(task: TaskSnapshot): Promise<string> {
    const tail = await this.manager.readOutput(task.id, { maxBytes: TAIL_BYTES });
    if (tail.offset === 0) return tail.totalBytes === 0 ? '(no output yet)\n' : sliceText(tail);
    if (tail.offset <= HEAD_BYTES) {
      // Small enough to show whole (head and tail overlap): one read from the start, still bounded.
      const whole = await this.manager.readOutput(task.id, { offset: 0, maxBytes: HEAD_BYTES + TAIL_BYTES });
      return sliceText(whole);
    }
    const head = await this.manager.readOutput(task.id, { offset: 0, maxBytes: HEAD_BYTES });
    const skipped = tail.offset - head.nextOffset;
    const note =
      `\n… ${formatBytes(skipped)} of output left out here. Shown: the first ${formatBytes(HEAD_BYTES)} and the last ` +
      `${formatBytes(TAIL_BYTES)} of ${formatBytes(tail.totalBytes)}. ` +
      `The whole log: ${task.logPath}${droppedNote(task)}\n\n`;
    // Cut lines at the edges are dropped; a hex dump has none.
    const first = head.binary ? sliceText(head) : dropPartialLastLine(sliceText(head));
    const last = tail.binary ? sliceText(tail) : dropPartialFirstLine(sliceText(tail));
    return first + note + last;
  }

  /** Re-render visible documents of one task (it ended or was removed). */
  private refreshVisible(taskId: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (taskIdOf(editor.document.uri) === taskId) this.fire(editor.document.uri);
    }
    this.updateFollowing();
  }

  private onVisibleEditorsChanged(): void {
    // A document shown again after being hidden catches up once.
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme === TASK_OUTPUT_SCHEME && this.isStale(editor.document.uri)) this.catchUp(editor.document);
    }
    this.updateFollowing();
  }

  private isStale(uri: vscode.Uri): boolean {
    const id = taskIdOf(uri);
    const task = id ? this.manager.get(id) : undefined;
    if (task?.status === 'running') return this.followed.isBehind(uri.toString(), task);
    // Followed while it ran and hidden when it ended: it still shows the running task.
    if (task && this.followed.has(uri.toString())) return true;
    const last = this.rendered.get(uri.toString());
    if (!task || !last) return false;
    return task.outputBytes !== last.outputBytes || task.status !== last.status;
  }

  /** Poll visible documents of running tasks: cheaper than reacting to every output event of a flood. */
  private updateFollowing(): void {
    const needed = vscode.window.visibleTextEditors.some((editor) => {
      const id = taskIdOf(editor.document.uri);
      return id !== undefined && this.manager.get(id)?.status === 'running';
    });
    if (needed && !this.followTimer) {
      this.followTimer = setInterval(() => this.follow(), FOLLOW_MS);
    } else if (!needed && this.followTimer) {
      clearInterval(this.followTimer);
      this.followTimer = undefined;
    }
  }

  private follow(): void {
    const seen = new Set<string>();
    for (const editor of vscode.window.visibleTextEditors) {
      const uri = editor.document.uri;
      if (uri.scheme !== TASK_OUTPUT_SCHEME || seen.has(uri.toString())) continue;
      seen.add(uri.toString());
      if (this.isStale(uri)) this.catchUp(editor.document);
    }
    this.updateFollowing();
  }

  /** A running task's document catches up (followedDocuments.ts); any other is rendered again. */
  private catchUp(document: vscode.TextDocument): void {
    const task = this.manager.get(taskIdOf(document.uri) ?? '');
    if (task?.status !== 'running' || !this.followed.catchUp(document, task)) this.fire(document.uri);
  }

  private fire(uri: vscode.Uri): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === uri.toString() && isAtEnd(editor)) this.following.add(editor);
    }
    this.changeEmitter.fire(uri);
  }

  private onDocumentChanged(document: vscode.TextDocument): void {
    if (document.uri.scheme !== TASK_OUTPUT_SCHEME) return;
    for (const editor of [...this.following]) {
      if (editor.document !== document) continue;
      this.following.delete(editor);
      scrollToEnd(editor);
    }
    this.followed.onChanged(document);
  }

  dispose(): void {
    if (this.followTimer) clearInterval(this.followTimer);
    this.followTimer = undefined;
    this.following.clear();
    this.rendered.clear();
    this.followed.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function header(task: TaskSnapshot, titleOf: ChatTitleLookup | undefined): string {
  const status =
    task.status === 'running'
      ? `running since ${new Date(task.startedAt).toLocaleTimeString()}`
      : task.status === 'interrupted'
        ? 'interrupted (the window closed while it ran)'
        : `${statusWord(task.status)}${task.exitCode !== null ? `, exit code ${task.exitCode}` : ''}${task.signal ? `, signal ${task.signal}` : ''}, after ${formatDuration(taskDurationMs(task, Date.now()))}`;
  const lines = [
    `$ ${task.command}`,
    // While it runs the header stays as it is (followedOutput.ts): the size is in the tree, and here once it ends.
    `Task ${task.id}: ${status}.${task.status === 'running' ? '' : ` ${formatBytes(task.outputBytes)} of output.`}`,
    `Folder: ${task.cwd}`,
    `Started by ${origin(task.origin, titleOf)}${task.pid !== undefined ? `, process id ${task.pid}` : ''}.`,
  ];
  if (task.error) lines.push(`Error: ${task.error}`);
  lines.push('─'.repeat(60), '');
  // Only \n: the document is compared with what was sent (a lone \r would be a line break there).
  return lines.join('\n').replace(/\r\n?/g, '\n');
}

/** Where a running task's document leaves output out: fixed text, so updates after it stay appends. */
function leftOutLine(task: TaskSnapshot): string {
  return `\n… output left out here. The whole log: ${task.logPath}\n\n`;
}

function droppedNote(task: TaskSnapshot): string {
  const dropped = task.droppedOutput;
  return dropped ? ` (${formatBytes(dropped.to - dropped.from)} from its middle were dropped while it flooded, so it could not fill the disk)` : '';
}

function isAtEnd(editor: vscode.TextEditor): boolean {
  const last = editor.visibleRanges[editor.visibleRanges.length - 1];
  return !last || last.end.line >= editor.document.lineCount - 2;
}

/** Puts the cursor at the end and scrolls there (Show Output). */
export function revealEnd(editor: vscode.TextEditor): void {
  const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(end, end);
  scrollToEnd(editor);
}

/**
 * Scrolls to the end and leaves the cursor where it is: moving it on every update made the renderer redo
 * cursor-bound work each time (the cursor's own layout read, the current line, word highlights).
 */
function scrollToEnd(editor: vscode.TextEditor): void {
  const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
  editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.Default);
}
