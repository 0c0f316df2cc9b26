// Chats of this workspace: a small index in workspaceState (titles, order, the open chat) and one JSON
// file per chat in the extension's workspace storage (items shown + API history + usage), so a long
// chat never bloats the memento and a window reload brings everything back.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { ChatItem, ContextMeter, UsageTotals } from '../../shared/protocol';

export interface StoredChat {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  items: ChatItem[];
  history: MessageParam[];
  usage: UsageTotals;
  /** How full the context was at the last call; undefined before the first. */
  context?: ContextMeter;
  /** Picked in the chat's model picker; undefined: `backgroundAgent.model`. */
  model?: string;
}

export interface ChatSummary {
  id: string;
  title: string;
  updatedAt: number;
  itemCount: number;
}

/** The part of vscode.Memento the store uses (so tests can hand in workspaceState directly). */
export interface KeyValueState {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

const INDEX_KEY = 'backgroundAgent.chats.index';
const ACTIVE_KEY = 'backgroundAgent.chats.active';
const SAVE_DELAY_MS = 400;

export class ChatStore {
  private readonly pending = new Map<string, StoredChat>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Chats deleted in this window: a save still on its way must not bring one back. */
  private readonly deleted = new Set<string>();

  constructor(
    private readonly state: KeyValueState,
    private readonly dir: string,
  ) {}

  /** Newest first. */
  list(): ChatSummary[] {
    return [...(this.state.get<ChatSummary[]>(INDEX_KEY) ?? [])].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** A chat's title from the index (no file read, no sort): cheap enough for every tree item. */
  title(id: string): string | undefined {
    return this.pending.get(id)?.title ?? this.state.get<ChatSummary[]>(INDEX_KEY)?.find((s) => s.id === id)?.title;
  }

  activeId(): string | undefined {
    return this.state.get<string>(ACTIVE_KEY);
  }

  setActive(id: string): void {
    void this.state.update(ACTIVE_KEY, id);
  }

  async load(id: string): Promise<StoredChat | undefined> {
    const pending = this.pending.get(id);
    if (pending) return pending;
    try {
      const parsed = JSON.parse(await readFile(this.fileOf(id), 'utf8')) as StoredChat;
      return parsed.id === id && Array.isArray(parsed.items) && Array.isArray(parsed.history) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  /** Debounced: a streaming answer changes the chat many times a second, the disk sees a few writes. */
  save(chat: StoredChat): void {
    if (this.deleted.has(chat.id)) return;
    this.pending.set(chat.id, chat);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, SAVE_DELAY_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const chats = [...this.pending.values()];
    this.pending.clear();
    this.writing = this.writing.then(async () => {
      if (chats.length === 0) return;
      await mkdir(this.dir, { recursive: true });
      for (const chat of chats) {
        const file = this.fileOf(chat.id);
        await writeFile(`${file}.tmp`, JSON.stringify(chat));
        await rename(`${file}.tmp`, file);
      }
      await this.updateIndex(chats);
    });
    return this.writing.catch(() => undefined);
  }

  /** On deactivation there is no time for promises: write what is pending synchronously. */
  flushSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const chats = [...this.pending.values()];
    this.pending.clear();
    if (chats.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    for (const chat of chats) {
      const file = this.fileOf(chat.id);
      writeFileSync(`${file}.tmp`, JSON.stringify(chat));
      renameSync(`${file}.tmp`, file);
    }
    void this.updateIndex(chats);
  }

  /** Removes chats for good: queued behind any write under way, so none of them is written again after. */
  async delete(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.deleted.add(id);
      this.pending.delete(id);
    }
    this.writing = this.writing.then(async () => {
      await this.state.update(INDEX_KEY, this.list().filter((s) => !this.deleted.has(s.id)));
      for (const id of ids) await rm(this.fileOf(id), { force: true });
    });
    return this.writing.catch(() => undefined);
  }

  private updateIndex(chats: readonly StoredChat[]): Thenable<void> {
    const byId = new Map(this.list().map((s) => [s.id, s]));
    for (const chat of chats) {
      // An empty chat is not worth a history entry.
      if (chat.items.length === 0 || this.deleted.has(chat.id)) continue;
      byId.set(chat.id, { id: chat.id, title: chat.title, updatedAt: chat.updatedAt, itemCount: chat.items.length });
    }
    return this.state.update(INDEX_KEY, [...byId.values()]);
  }

  private fileOf(id: string): string {
    // Ids are ours (nanoid-like), but never let one escape the folder.
    return join(this.dir, `${id.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  }
}
