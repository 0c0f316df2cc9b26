// Which chat is active, so tasks the person starts can be reported to that chat's agent when they end.
// The chat controller writes `conversationId`; the tasks view only reads it.

export interface ActiveChat {
  readonly conversationId: string | undefined;
}

/** The mutable holder kept in services: one writer (the chat controller), any number of readers. */
export interface ActiveChatHolder extends ActiveChat {
  conversationId: string | undefined;
}

export function createActiveChat(): ActiveChatHolder {
  return { conversationId: undefined };
}
