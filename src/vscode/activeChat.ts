// Which chat is active, so tasks the person starts can be reported to that chat's agent when they end,
// and what each chat is called, so the tasks view can say "started by the agent in chat “Fix the tests”"
// instead of a raw id. The chat controller writes both; the tasks view only reads them.

export interface ActiveChat {
  readonly conversationId: string | undefined;
  /** The chat's title, or undefined when unknown (no chat view, or an untitled chat). */
  titleOf(conversationId: string): string | undefined;
}

/** The mutable holder kept in services: one writer (the chat controller), any number of readers. */
export interface ActiveChatHolder extends ActiveChat {
  conversationId: string | undefined;
  titleOf: (conversationId: string) => string | undefined;
}

export function createActiveChat(): ActiveChatHolder {
  return { conversationId: undefined, titleOf: () => undefined };
}
