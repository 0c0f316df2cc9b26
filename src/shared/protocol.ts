// The chat webview protocol: every message between the extension and the webview, both directions,
// as discriminated unions. The webview renders `ChatItem`s; the extension (chat controller) owns them
// and replays the whole state when the webview says `ready` (after a reload or being shown again).
import type { TaskStatus } from '../core/tasks/types';

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/** How full the model's context is: the last request's size (the API's count, or our estimate right after a trim). */
export interface ContextMeter {
  usedTokens: number;
  windowTokens: number;
}

export type ToolState = 'running' | 'done' | 'error' | 'stopped';

export type ErrorKind = 'auth' | 'rate_limit' | 'overloaded' | 'connection' | 'api' | 'max_turns';

export interface UserItem {
  kind: 'user';
  id: string;
  text: string;
}

export interface AssistantItem {
  kind: 'assistant';
  id: string;
  /** Markdown source; grows while `streaming`. */
  text: string;
  streaming: boolean;
}

export interface ToolItem {
  kind: 'tool';
  id: string;
  name: string;
  /** The command, path or task id the call is about (one line, shown on the card). */
  summary: string;
  state: ToolState;
  /** The tool's result text (already cut to a bounded size by the controller). */
  result?: string;
}

export interface TaskItem {
  kind: 'task';
  id: string;
  taskId: string;
  command: string;
  description?: string;
  status: TaskStatus;
  exitCode: number | null;
  /** Epoch ms; the webview shows live elapsed time while running. */
  startedAt: number;
  endedAt?: number;
  /** Started by the person (palette / tree) rather than by the agent. */
  byUser: boolean;
  /** A background_run call waits until it is ready. */
  waitingUntilReady?: boolean;
  /** TCP ports it listens on while it runs, short (`:5173`). */
  ports?: string;
}

export interface SystemItem {
  kind: 'system';
  id: string;
  text: string;
  /** `background`: a turn started by finished tasks; `delivered`: results handed to the model. */
  tone: 'info' | 'background' | 'delivered' | 'stopped';
}

export interface ErrorItem {
  kind: 'error';
  id: string;
  errorKind: ErrorKind;
  message: string;
  /** Retry is offered only on the newest error, and only while idle. */
  canRetry: boolean;
}

/** A command or a file change waiting for the person's Allow / Always Allow / Deny, and how it was answered. */
export interface ApprovalItem {
  kind: 'approval';
  id: string;
  /** The tool that asks: bash, background_run, write_file, edit_file. */
  tool: string;
  state: ApprovalState;
  request: ApprovalCard;
}

export type ApprovalState = 'pending' | 'allowed' | 'always' | 'denied' | 'stopped';

export type ApprovalCard =
  | {
      subject: 'command';
      command: string;
      /** The folder it would run in. */
      cwd: string;
      /** The parts of a compound command that need approval, and why. */
      parts: Array<{ text: string; why: string }>;
      /** What Always Allow stores in this workspace's allowCommands; undefined: Always Allow is not offered. */
      rules?: string[];
    }
  | {
      subject: 'write';
      /** Relative to the workspace. */
      path: string;
      why: string;
      newFile: boolean;
      /** Unified diff lines (bounded); undefined when the file is too large or not text to compare. */
      diff?: string;
      added: number;
      removed: number;
      hiddenLines: number;
      /** Said instead of a diff when there is none. */
      note?: string;
      canAlwaysAllow: boolean;
    };

export type ApprovalAnswer = 'allow' | 'always' | 'deny';

/** The divider where the conversation was compacted; the summary folds out under it. */
export interface CompactionItem {
  kind: 'compaction';
  id: string;
  /** `auto`: it neared the window; `manual`: the person asked; `too_long`: the API refused a request. */
  reason: 'auto' | 'manual' | 'too_long';
  /** The model's summary (Markdown), or the sentence saying why there is none. */
  summary: string;
  summarised: boolean;
  beforeTokens: number;
  afterTokens: number;
}

export type ChatItem = UserItem | AssistantItem | ToolItem | TaskItem | SystemItem | ErrorItem | ApprovalItem | CompactionItem;

export interface ChatViewState {
  chatId: string;
  title: string;
  items: ChatItem[];
  busy: boolean;
  usage: UsageTotals;
  /** Unknown until the chat's first model call. */
  context?: ContextMeter;
  /** Whether any API key is known (SecretStorage or ANTHROPIC_API_KEY). */
  hasApiKey: boolean;
  /** False in Restricted Mode: the chat says the agent can only read, with a way to trust the folder. */
  trusted: boolean;
  /** The model this chat uses, and what the picker offers. */
  models: ModelChoice;
}

export interface ModelChoice {
  /** The chat's model: its own choice, else `backgroundAgent.model`. */
  model: string;
  /** Known models and the setting's, the chat's first. */
  models: string[];
}

/** Extension → webview. */
export type ExtensionMessage =
  /** Full state; sent in answer to `ready` and when another chat is opened. */
  | { type: 'init'; state: ChatViewState }
  | { type: 'append'; item: ChatItem }
  /** Replaces the item with the same id. */
  | { type: 'update'; item: ChatItem }
  /** Streaming text appended to an assistant item (coalesced by the controller). */
  | { type: 'textDelta'; id: string; text: string }
  | { type: 'busy'; busy: boolean }
  | { type: 'usage'; usage: UsageTotals }
  | { type: 'context'; context: ContextMeter }
  /** The picker's choice changed (this chat's, or the setting's). */
  | { type: 'models'; models: ModelChoice }
  /** Edit and resend: this item and every item after it are gone (the edited message is appended anew). */
  | { type: 'truncate'; fromId: string }
  /** Transient line under the conversation ("Overloaded, retrying in 2s…"); empty text clears it. */
  | { type: 'status'; text: string }
  | { type: 'focusInput' }
  /** Workspace trust changed (granted without a reload). */
  | { type: 'trust'; trusted: boolean };

/** Webview → extension. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  /** Edit and resend the person's last message (`id`: its item) with new text. */
  | { type: 'resend'; id: string; text: string }
  /** The model picker: this chat's model from now on. */
  | { type: 'setModel'; model: string }
  | { type: 'stop' }
  /** Summarise the conversation now (the header's Compact Conversation). */
  | { type: 'compact' }
  | { type: 'newChat' }
  | { type: 'showHistory' }
  | { type: 'retry' }
  | { type: 'setApiKey' }
  /** The person clicked a link in an answer. */
  | { type: 'openLink'; href: string }
  | { type: 'copy'; text: string }
  /** A code block's Insert at Cursor: into the active text editor. */
  | { type: 'insertCode'; text: string }
  /** A code block's Open in Editor: the file it names, inside the workspace. */
  | { type: 'openFile'; path: string }
  /** The person clicked a task chip. */
  | { type: 'revealTask'; taskId: string }
  /** Allow, Always Allow or Deny on an approval card. */
  | { type: 'approve'; id: string; answer: ApprovalAnswer }
  /** Open a write's change in VS Code's diff editor. */
  | { type: 'openDiff'; id: string }
  | { type: 'manageTrust' };

const WEBVIEW_MESSAGE_FIELDS: { [K in WebviewMessage['type']]: readonly string[] } = {
  ready: [],
  send: ['text'],
  resend: ['id', 'text'],
  setModel: ['model'],
  stop: [],
  compact: [],
  newChat: [],
  showHistory: [],
  retry: [],
  setApiKey: [],
  openLink: ['href'],
  copy: ['text'],
  insertCode: ['text'],
  openFile: ['path'],
  revealTask: ['taskId'],
  approve: ['id', 'answer'],
  openDiff: ['id'],
  manageTrust: [],
};

const APPROVAL_ANSWERS: readonly string[] = ['allow', 'always', 'deny'] satisfies ApprovalAnswer[];

/** postMessage data is untyped at run time: check it before the controller trusts it. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(WEBVIEW_MESSAGE_FIELDS, type)) return false;
  if (type === 'approve' && !APPROVAL_ANSWERS.includes(record.answer as string)) return false;
  return WEBVIEW_MESSAGE_FIELDS[type as WebviewMessage['type']].every((field) => typeof record[field] === 'string');
}

export const EMPTY_USAGE: UsageTotals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
