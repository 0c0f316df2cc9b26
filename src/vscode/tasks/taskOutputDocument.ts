// Read-only documents with a task's output, on the `background-task:` scheme, that follow the log while it runs.
//
// Size: a log can be 1 GB, so a document never holds all of it. It shows a header (command, status), then the
// first HEAD_BYTES and the last TAIL_BYTES of the log with a note where the middle was left out, and the path of
// the full log. Why head *and* tail: the tail is what a person watches while a task runs and where the error of a
// failed build is; the head shows how the command started (its configuration, the first error of a cascade).
// Reads are bounded (`manager.readOutput` with maxBytes), so opening a 1 GB log costs the same as a 2 MB one.
//
// While a task runs the tail is smaller (RUNNING_TAIL_BYTES) and a flood re-renders at most every FLOOD_FOLLOW_MS:
// each update replaces the document in the renderer, and bench/tasksView.bench.ts measured a 1 MB window
// refreshed twice a second keeping the workbench's main thread busy half the time (1.1 s long tasks).
import * as vscode from 'vscode';
import { readableTerminalText } from '../../core/tasks/outputText';
import type { OutputSlice, TaskManager, TaskSnapshot } from '../../core/tasks/types';
import { formatBytes, formatDuration, statusWord, taskDurationMs } from '../../shared/taskWords';
import { origin, type ChatTitleLookup } from './taskText';

export const TASK_OUTPUT_SCHEME = 'background-task';
export const HEAD_BYTES = 64 * 1024;
export const TAIL_BYTES = 1024 * 1024;
export const RUNNING_TAIL_BYTES = 64 * 1024;
const FOLLOW_MS = 500;
/** When the whole window would be new text anyway (a flood), nobody reads it faster than this. */
const FLOOD_FOLLOW_MS = 2000;

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
  /** Date.now() of the render. */
  at: number;
}

export class TaskOutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  /** What each document showed last, by uri string: a tick re-renders only documents whose task moved on. */
  private readonly rendered = new Map<string, Rendered>();
  /** Editors scrolled to the end before an update keep following the end after it. */
  private readonly following = new Set<vscode.TextEditor>();
  private followTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly manager: TaskManager,
    private readonly titleOf?: ChatTitleLookup,
  ) {
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.registerTextDocumentContentProvider(TASK_OUTPUT_SCHEME, this),
      vscode.window.onDidChangeVisibleTextEditors(() => this.onVisibleEditorsChanged()),
      vscode.workspace.onDidChangeTextDocument((e) => this.onDocumentChanged(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.rendered.delete(doc.uri.toString())),
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
    if (!id || !task) {
      this.rendered.delete(uri.toString());
      return `No background task ${id ?? ''} in this window (it was removed, or belongs to another window).\n`;
    }
    this.rendered.set(uri.toString(), { outputBytes: task.outputBytes, status: task.status, at: Date.now() });
    let body: string;
    try {
      body = await this.readBounded(task);
    } catch (error) {
      body = `(The output could not be read: ${error instanceof Error ? error.message : String(error)})\n`;
    }
    return header(task, this.titleOf) + body;
  }

  private async readBounded(task: TaskSnapshot): Promise<string> {
    const tailBytes = task.status === 'running' ? RUNNING_TAIL_BYTES : TAIL_BYTES;
    const tail = await this.manager.readOutput(task.id, { maxBytes: tailBytes });
    if (tail.offset === 0) return tail.totalBytes === 0 ? '(no output yet)\n' : shown(tail);
    if (tail.offset <= HEAD_BYTES) {
      // Small enough to show whole (head and tail overlap): one read from the start, still bounded.
      const whole = await this.manager.readOutput(task.id, { offset: 0, maxBytes: HEAD_BYTES + tailBytes });
      return shown(whole);
    }
    const head = await this.manager.readOutput(task.id, { offset: 0, maxBytes: HEAD_BYTES });
    const skipped = tail.offset - head.nextOffset;
    const note =
      `\n… ${formatBytes(skipped)} of output left out here. Shown: the first ${formatBytes(HEAD_BYTES)} and the last ` +
      `${formatBytes(tailBytes)} of ${formatBytes(tail.totalBytes)}${task.status === 'running' ? ' so far (more once it ends)' : ''}. ` +
      `The whole log: ${task.logPath}${droppedNote(task)}\n\n`;
    // Cut lines at the edges are dropped; a hex dump has none.
    const first = head.binary ? shown(head) : dropPartialLastLine(shown(head));
    const last = tail.binary ? shown(tail) : dropPartialFirstLine(shown(tail));
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
      if (editor.document.uri.scheme === TASK_OUTPUT_SCHEME && this.isStale(editor.document.uri)) this.fire(editor.document.uri);
    }
    this.updateFollowing();
  }

  private isStale(uri: vscode.Uri): boolean {
    const id = taskIdOf(uri);
    const task = id ? this.manager.get(id) : undefined;
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
      if (this.isStale(uri) && !this.floodingTooFast(uri)) this.fire(uri);
    }
    this.updateFollowing();
  }

  /** True when the next render would replace the whole window again sooner than FLOOD_FOLLOW_MS. */
  private floodingTooFast(uri: vscode.Uri): boolean {
    const last = this.rendered.get(uri.toString());
    const id = taskIdOf(uri);
    const task = id ? this.manager.get(id) : undefined;
    if (!last || !task || task.status !== 'running') return false;
    return task.outputBytes - last.outputBytes > RUNNING_TAIL_BYTES && Date.now() - last.at < FLOOD_FOLLOW_MS;
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
      revealEnd(editor);
    }
  }

  dispose(): void {
    if (this.followTimer) clearInterval(this.followTimer);
    this.followTimer = undefined;
    this.following.clear();
    this.rendered.clear();
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
    `Task ${task.id}: ${status}. ${formatBytes(task.outputBytes)} of output.`,
    `Folder: ${task.cwd}`,
    `Started by ${origin(task.origin, titleOf)}${task.pid !== undefined ? `, process id ${task.pid}` : ''}.`,
  ];
  if (task.error) lines.push(`Error: ${task.error}`);
  lines.push('─'.repeat(60), '');
  return lines.join('\n');
}

/** A slice as a person reads it: terminal escapes applied; binary output as a note and a hex dump of its start. */
function shown(slice: OutputSlice): string {
  if (!slice.binary) return readableTerminalText(slice.text);
  return `[Binary output: ${formatBytes(slice.nextOffset - slice.offset)} here are not text, so they are not shown. The first bytes in hex:]\n${slice.binary.hex}\n`;
}

function droppedNote(task: TaskSnapshot): string {
  const dropped = task.droppedOutput;
  return dropped ? ` (${formatBytes(dropped.to - dropped.from)} from its middle were dropped while it flooded, so it could not fill the disk)` : '';
}

function dropPartialLastLine(text: string): string {
  const end = text.lastIndexOf('\n');
  return end >= 0 ? text.slice(0, end + 1) : text;
}

function dropPartialFirstLine(text: string): string {
  const start = text.indexOf('\n');
  return start >= 0 ? text.slice(start + 1) : text;
}

function isAtEnd(editor: vscode.TextEditor): boolean {
  const last = editor.visibleRanges[editor.visibleRanges.length - 1];
  return !last || last.end.line >= editor.document.lineCount - 2;
}

export function revealEnd(editor: vscode.TextEditor): void {
  const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(end, end);
  editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.Default);
}
