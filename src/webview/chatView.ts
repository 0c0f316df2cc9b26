// The conversation list. Streaming deltas are only buffered when they arrive; once per animation frame
// the growing message re-renders its tail (see StreamingMarkdown) and the list scrolls if the person was
// at the bottom. Other items are never touched by streaming.
import type { ChatItem, ChatViewState } from '../shared/protocol';
import { el } from './dom';
import { ApprovalView } from './approvalView';
import type { EditableMessage } from './composer';
import { AssistantView, TaskChipView, UserView, createItemView, type ItemView } from './itemViews';

const ANNOUNCE_LIMIT = 1500;
/** Items rendered at once when a chat opens; the rest follow in slices of BACKFILL_SLICE. */
const FIRST_SLICE = 40;
const BACKFILL_SLICE = 60;

export class ChatView {
  private readonly views = new Map<string, ItemView>();
  private readonly dirty = new Set<AssistantView>();
  private frame = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private readonly empty = el('div', 'empty-state');
  private readonly keyHint = el('div', 'key-hint');
  /** Older items of a long chat not rendered yet (oldest first). */
  private backlog: ChatItem[] = [];
  private backfillTimer: ReturnType<typeof setTimeout> | undefined;
  /** The person's last message while it can be edited and resent (no compaction after it). */
  private editable: EditableMessage | undefined;

  constructor(
    private readonly list: HTMLElement,
    private readonly scroller: HTMLElement,
    private readonly live: HTMLElement,
  ) {
    this.empty.append(
      el('p', 'empty-title', 'Ask the agent to build, fix or explain something.'),
      el('p', '', 'Slow commands run in the background and show up as chips here and in the Background Tasks view.'),
    );
    // Said before the first message fails, not after: no key is known yet.
    this.keyHint.append(el('p', '', 'No Anthropic API key yet (VS Code secret storage or ANTHROPIC_API_KEY).'));
    const setKey = el('button', 'action-button');
    setKey.type = 'button';
    setKey.dataset.action = 'setApiKey';
    setKey.textContent = 'Set API Key';
    this.keyHint.append(setKey);
  }

  reset(state: ChatViewState): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    clearTimeout(this.backfillTimer);
    this.dirty.clear();
    this.disposeViews();
    // The newest items are what the person sees: render them now, older ones in slices afterwards
    // (prepended above; scroll anchoring keeps the view where it is), so a long chat opens at once.
    this.editable = undefined;
    for (const item of state.items) this.trackEditable(item);
    const cut = Math.max(0, state.items.length - FIRST_SLICE);
    this.backlog = state.items.slice(0, cut);
    const fragment = document.createDocumentFragment();
    for (const item of state.items.slice(cut)) fragment.append(this.createView(item).element);
    this.list.replaceChildren(fragment);
    this.keyHint.hidden = state.hasApiKey;
    if (!this.keyHint.isConnected) this.empty.append(this.keyHint);
    this.updateEmptyState();
    this.updateTicker();
    this.scrollToBottom();
    if (this.backlog.length > 0) this.backfillTimer = setTimeout(() => this.backfill(), 0);
  }

  private backfill(): void {
    const slice = this.backlog.splice(Math.max(0, this.backlog.length - BACKFILL_SLICE));
    const fragment = document.createDocumentFragment();
    for (const item of slice) fragment.append(this.createView(item).element);
    this.list.prepend(fragment);
    this.updateTicker();
    if (this.backlog.length > 0) this.backfillTimer = setTimeout(() => this.backfill(), 0);
  }

  append(item: ChatItem): void {
    const previous = this.editable;
    this.trackEditable(item);
    if (previous && previous !== this.editable) this.userView(previous.id)?.setEditable(false);
    const stick = this.atBottom();
    const view = this.createView(item);
    this.list.append(view.element);
    this.updateEmptyState();
    this.updateTicker();
    if (stick) this.scrollToBottom();
    // A question for the person: focus goes to it (keyboard users tab on to Allow, Always Allow, Deny).
    if (view instanceof ApprovalView && view.pending) this.focusCard(view);
  }

  /** The message the composer's Edit and resend takes (its button, or Up in an empty box). */
  editableMessage(): EditableMessage | undefined {
    return this.editable;
  }

  /** Edit and resend: the edited message and everything after it are gone (the new one is appended). */
  truncate(fromId: string): void {
    const waiting = this.backlog.findIndex((item) => item.id === fromId);
    if (waiting >= 0) this.backlog.splice(waiting);
    let removing = waiting >= 0;
    for (const child of [...this.list.children]) {
      if (!(child instanceof HTMLElement) || child.dataset.itemId === undefined) continue;
      removing ||= child.dataset.itemId === fromId;
      if (!removing) continue;
      const view = this.views.get(child.dataset.itemId);
      view?.dispose?.();
      if (view instanceof AssistantView) this.dirty.delete(view);
      this.views.delete(child.dataset.itemId);
      child.remove();
    }
    if (this.editable?.id === fromId) this.editable = undefined;
    this.updateEmptyState();
    this.updateTicker();
  }

  private trackEditable(item: ChatItem): void {
    if (item.kind === 'user') this.editable = { id: item.id, text: item.text };
    else if (item.kind === 'compaction') this.editable = undefined;
  }

  private userView(id: string): UserView | undefined {
    const view = this.views.get(id);
    return view instanceof UserView ? view : undefined;
  }

  /** The waiting approval card of a chat opened or shown again gets the focus too. */
  focusPendingApproval(): void {
    const views = [...this.views.values()];
    const waiting = views.reverse().find((view): view is ApprovalView => view instanceof ApprovalView && view.pending);
    if (waiting) this.focusCard(waiting);
  }

  private focusCard(view: ApprovalView): void {
    view.element.scrollIntoView({ block: 'nearest' });
    view.element.focus({ preventScroll: true });
  }

  update(item: ChatItem): void {
    const view = this.views.get(item.id);
    if (!view) {
      const waiting = this.backlog.findIndex((i) => i.id === item.id);
      if (waiting >= 0) this.backlog[waiting] = item;
      else this.append(item);
      return;
    }
    const stick = this.atBottom();
    const finishing = view instanceof AssistantView && view.isStreaming && item.kind === 'assistant' && !item.streaming;
    if (view instanceof AssistantView) this.dirty.delete(view);
    view.update(item);
    if (finishing && item.kind === 'assistant') this.announce(item.text);
    this.updateTicker();
    if (stick) this.scrollToBottom();
  }

  textDelta(id: string, text: string): void {
    const view = this.views.get(id);
    if (!(view instanceof AssistantView)) return;
    view.markdown.append(text);
    this.dirty.add(view);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.backfillTimer);
    if (this.ticker) clearInterval(this.ticker);
    this.disposeViews();
  }

  /** A replaced chat's long answers may still be rendering in slices: stop them, the elements are gone. */
  private disposeViews(): void {
    for (const view of this.views.values()) view.dispose?.();
    this.views.clear();
  }

  /** No layout is read or forced here: the scroll anchor under the list keeps a bottom-pinned view pinned. */
  private flush(): void {
    this.frame = 0;
    for (const view of this.dirty) view.markdown.flush();
    this.dirty.clear();
  }

  private createView(item: ChatItem): ItemView {
    const view = createItemView(item);
    view.element.dataset.itemId = item.id;
    if (view instanceof UserView && item.id === this.editable?.id) view.setEditable(true);
    this.views.set(item.id, view);
    return view;
  }

  /** Screen readers hear each finished answer once (the region is polite and only changes per answer). */
  private announce(markdownText: string): void {
    const plain = markdownText.replace(/```[^\n]*\n/g, '').replace(/[*_`#>]/g, '').trim();
    this.live.textContent = `Answer: ${plain.length > ANNOUNCE_LIMIT ? `${plain.slice(0, ANNOUNCE_LIMIT)}…` : plain}`;
  }

  /** One shared clock for the elapsed time of running task chips; stopped when none runs. */
  private updateTicker(): void {
    const chips = [...this.views.values()].filter((v): v is TaskChipView => v instanceof TaskChipView && v.running);
    if (chips.length > 0 && !this.ticker) {
      this.ticker = setInterval(() => {
        const now = Date.now();
        let anyRunning = false;
        for (const view of this.views.values()) {
          if (view instanceof TaskChipView && view.running) {
            view.tick(now);
            anyRunning = true;
          }
        }
        if (!anyRunning) this.updateTicker();
      }, 1000);
    } else if (chips.length === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private updateEmptyState(): void {
    if (this.views.size === 0) this.list.append(this.empty);
    else this.empty.remove();
  }

  private atBottom(): boolean {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 40;
  }

  private scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
