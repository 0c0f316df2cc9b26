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

export type ChatItem = UserItem | AssistantItem | ToolItem | TaskItem | SystemItem | ErrorItem;

export interface ChatViewState {
  chatId: string;
  title: string;
  items: ChatItem[];
  busy: boolean;
  usage: UsageTotals;
  /** Whether any API key is known (SecretStorage or ANTHROPIC_API_KEY). */
  hasApiKey: boolean;
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
  /** Transient line under the conversation ("Overloaded, retrying in 2 s…"); empty text clears it. */
  | { type: 'status'; text: string }
  | { type: 'focusInput' };

/** Webview → extension. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'stop' }
  | { type: 'newChat' }
  | { type: 'showHistory' }
  | { type: 'retry' }
  | { type: 'setApiKey' }
  /** The person clicked a link in an answer. */
  | { type: 'openLink'; href: string }
  | { type: 'copy'; text: string }
  /** The person clicked a task chip. */
  | { type: 'revealTask'; taskId: string };

const WEBVIEW_MESSAGE_FIELDS: { [K in WebviewMessage['type']]: readonly string[] } = {
  ready: [],
  send: ['text'],
  stop: [],
  newChat: [],
  showHistory: [],
  retry: [],
  setApiKey: [],
  openLink: ['href'],
  copy: ['text'],
  revealTask: ['taskId'],
};

/** postMessage data is untyped at run time: check it before the controller trusts it. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(WEBVIEW_MESSAGE_FIELDS, type)) return false;
  return WEBVIEW_MESSAGE_FIELDS[type as WebviewMessage['type']].every((field) => typeof record[field] === 'string');
}

export const EMPTY_USAGE: UsageTotals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
