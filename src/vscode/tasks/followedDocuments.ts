// The output documents of running tasks while they follow their logs: what each shows, and the steps of an
// update sent one at a time. Why one at a time: VS Code diffs each new text against what the document holds
// when it arrives (followedOutput.ts says why only single insertions and deletions are cheap). A step sent
// before the one before it is shown replaces it in the renderer (mainThreadDocumentContentProviders cancels
// the pending one), so the new text would be diffed against an older one: two changes, the slow case.
import type * as vscode from 'vscode';
import type { OutputSlice, TaskManager, TaskSnapshot } from '../../core/tasks/types';
import { FollowedOutput } from './followedOutput';

/** Ticks to wait for VS Code to show a step before the next one is sent anyway (it never took more than one). */
const MAX_WAIT_TICKS = 20;

interface Followed {
  readonly output: FollowedOutput;
  /** Resolves once the first text is there. */
  readonly ready: Promise<void>;
  /** What the document was last given (the provider answers with it). */
  shown: string;
  steps: string[];
  /** Reading the log for the next update. */
  busy: boolean;
  /** Ticks since `shown` was sent without the document showing it yet. */
  waitTicks: number;
}

export class FollowedDocuments {
  /** By uri string. */
  private readonly documents = new Map<string, Followed>();

  constructor(
    private readonly manager: TaskManager,
    /** Tells VS Code the document changed: it asks the provider, which answers with text(). */
    private readonly fire: (uri: vscode.Uri) => void,
  ) {}

  /** The text of a running task's document; the first call reads the log (`header`: frozen while it runs). */
  async text(key: string, task: TaskSnapshot, header: string, leftOut: string): Promise<string> {
    const followed = this.documents.get(key) ?? this.open(key, task, new FollowedOutput(header, leftOut));
    await followed.ready;
    return followed.shown;
  }

  /** True when the log has more than the document shows, or steps are still to be shown. */
  isBehind(key: string, task: TaskSnapshot): boolean {
    const followed = this.documents.get(key);
    return !followed || followed.steps.length > 0 || task.outputBytes > followed.output.readUpTo;
  }

  /** True while the document is shown as a running task's (its state is kept here). */
  has(key: string): boolean {
    return this.documents.has(key);
  }

  forget(key: string): void {
    this.documents.delete(key);
  }

  clear(): void {
    this.documents.clear();
  }

  /** The next step once the document shows the last one, or a new update of the log; false when not followed. */
  catchUp(document: vscode.TextDocument, task: TaskSnapshot): boolean {
    const key = document.uri.toString();
    const followed = this.documents.get(key);
    if (!followed) return false;
    if (followed.busy) return true;
    if (document.getText() !== followed.shown && ++followed.waitTicks <= MAX_WAIT_TICKS) return true;
    if (followed.steps.length > 0) {
      this.showNextStep(document.uri, followed);
      return true;
    }
    followed.busy = true;
    followed.output.advance(this.reader(task.id), task.outputBytes).then(
      (steps) => {
        followed.busy = false;
        if (this.documents.get(key) !== followed) return;
        followed.steps = steps;
        if (steps.length > 0) this.showNextStep(document.uri, followed);
      },
      () => {
        // The log could not be read this time (it is being trimmed, or it went away): the next tick tries again.
        followed.busy = false;
      },
    );
    return true;
  }

  /** A document changed: when it now shows the step it was given, the next one goes out at once. */
  onChanged(document: vscode.TextDocument): void {
    const followed = this.documents.get(document.uri.toString());
    if (followed && followed.steps.length > 0 && document.getText() === followed.shown) this.showNextStep(document.uri, followed);
  }

  private open(key: string, task: TaskSnapshot, output: FollowedOutput): Followed {
    const ready = output.advance(this.reader(task.id), task.outputBytes).then(
      () => {
        followed.shown = output.text();
      },
      (error: unknown) => {
        followed.shown = `${output.text()}(The output could not be read: ${error instanceof Error ? error.message : String(error)})\n`;
      },
    );
    const followed: Followed = { output, ready: ready.finally(() => (followed.busy = false)), shown: '', steps: [], busy: true, waitTicks: 0 };
    this.documents.set(key, followed);
    return followed;
  }

  private showNextStep(uri: vscode.Uri, followed: Followed): void {
    followed.shown = followed.steps.shift() ?? followed.shown;
    followed.waitTicks = 0;
    this.fire(uri);
  }

  private reader(taskId: string): (offset: number | undefined, maxBytes: number) => Promise<OutputSlice> {
    return (offset, maxBytes) => this.manager.readOutput(taskId, offset === undefined ? { maxBytes } : { offset, maxBytes });
  }
}
