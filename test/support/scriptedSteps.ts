// What a test tells the scripted Anthropic server to do with the next request, and builders for it.
// Plain data except `fn` steps, so that scripts without functions can also be read from a JSON file.

export interface ScriptedUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: unknown };

export interface ReplyStep {
  kind: 'reply';
  content: ScriptedBlock[];
  /** Default: 'tool_use' when any block is a tool_use, else 'end_turn'. */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'pause_turn' | 'refusal';
  usage?: Partial<ScriptedUsage>;
  /** Streaming only: wait this long before each SSE event (Stop-mid-stream tests). */
  delayMs?: number;
  /** Streaming only: split text into deltas of at most this many characters (default 40). */
  chunkSize?: number;
  /** Streaming only: split a tool's input JSON into deltas of at most this many characters (default 30). */
  jsonChunkSize?: number;
}

export interface ErrorStep {
  kind: 'error';
  status: number;
  /** The API's error type; derived from the status when omitted. */
  errorType?: string;
  message?: string;
  headers?: Record<string, string>;
}

/** Streams (or writes) `reply`, but destroys the socket after `afterEvents` SSE events. */
export interface DropStep {
  kind: 'drop';
  reply: ReplyStep;
  afterEvents: number;
}

/** Never answers; the request stays open until the client aborts or the server closes. */
export interface StallStep {
  kind: 'stall';
}

export interface RecordedRequest {
  /** 0-based arrival index. */
  index: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (undefined if it was not JSON). */
  body: MessagesBody | undefined;
  /** Size of the body as sent, in bytes (what a burst of results costs on the wire). */
  bytes: number;
  /** The 400/401 message if the server rejected the request before consuming a step. */
  rejected?: string;
  /** Rejected because the prompt (or prompt + max_tokens) exceeds the context limit, not as an invalid history. */
  tooLong?: boolean;
  /** The request's token count (scriptedTokens.ts), when the body was JSON. */
  tokens?: number;
}

/** The fields of a Messages API request the server looks at (the rest is kept as-is). */
export interface MessagesBody {
  model?: unknown;
  max_tokens?: unknown;
  stream?: boolean;
  system?: string | ContentBlockLike[];
  tools?: ContentBlockLike[];
  messages?: Array<{ role: string; content: string | ContentBlockLike[] }>;
  [key: string]: unknown;
}

export interface ContentBlockLike {
  type?: string;
  text?: string;
  id?: string;
  tool_use_id?: string;
  name?: string;
  input?: unknown;
  content?: unknown;
  is_error?: boolean;
  cache_control?: unknown;
  [key: string]: unknown;
}

export interface FnStep {
  kind: 'fn';
  fn: (request: RecordedRequest) => Step | Promise<Step>;
}

export type Step = ReplyStep | ErrorStep | DropStep | StallStep | FnStep;

let toolIdCounter = 0;
/** An id shaped like the API's (`toolu_…`). */
export function newToolUseId(): string {
  toolIdCounter += 1;
  return `toolu_scripted_${Date.now().toString(36)}_${toolIdCounter}`;
}

export function textReply(text: string, options: Omit<ReplyStep, 'kind' | 'content'> = {}): ReplyStep {
  return { kind: 'reply', content: [{ type: 'text', text }], ...options };
}

/** One tool call (optionally preceded by some text), stop_reason tool_use. */
export function toolCall(name: string, input: unknown, id?: string, options: Omit<ReplyStep, 'kind' | 'content'> & { text?: string } = {}): ReplyStep {
  const { text, ...rest } = options;
  const content: ScriptedBlock[] = [];
  if (text) content.push({ type: 'text', text });
  content.push({ type: 'tool_use', id: id ?? newToolUseId(), name, input });
  return { kind: 'reply', content, ...rest };
}

/** Several tool calls in one assistant message. */
export function toolCalls(calls: Array<{ name: string; input: unknown; id?: string }>, options: Omit<ReplyStep, 'kind' | 'content'> = {}): ReplyStep {
  return { kind: 'reply', content: calls.map((c) => ({ type: 'tool_use' as const, id: c.id ?? newToolUseId(), name: c.name, input: c.input })), ...options };
}

export function reply(content: ScriptedBlock[], options: Omit<ReplyStep, 'kind' | 'content'> = {}): ReplyStep {
  return { kind: 'reply', content, ...options };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export function errorTypeForStatus(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function errorReply(status: number, options: { message?: string; errorType?: string; headers?: Record<string, string>; retryAfterS?: number } = {}): ErrorStep {
  const headers = { ...(options.headers ?? {}) };
  if (options.retryAfterS !== undefined) headers['retry-after'] = String(options.retryAfterS);
  return { kind: 'error', status, errorType: options.errorType, message: options.message, headers };
}

export function dropAfter(afterEvents: number, replyStep: ReplyStep): DropStep {
  return { kind: 'drop', reply: replyStep, afterEvents };
}

export function stall(): StallStep {
  return { kind: 'stall' };
}

export function fnStep(fn: FnStep['fn']): FnStep {
  return { kind: 'fn', fn };
}

/** A reply held back until the test calls `release()`: the turn stays busy at that request meanwhile. */
export function heldReply(reply: Step): { step: FnStep; release: () => void } {
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    step: fnStep(async () => {
      await gate;
      return reply;
    }),
    release: () => release(),
  };
}
