// Which chat is active, so tasks the person starts can be reported to that chat's agent when they end,
// and what each chat is called, so the tasks view can say "started by the agent in chat “Fix the tests”"
// instead of a raw id. The chat side owns both answers (the ChatController gives them); the tasks side only
// reads them, through the slot in services, which exists before the chat view and outlives it.
import type { Disposable } from '../core/events';

export interface ActiveChat {
  readonly conversationId: string | undefined;
  /** The chat's title, or undefined when unknown (no chat view, or an untitled chat). */
  titleOf(conversationId: string): string | undefined;
}

/** Forwards to whoever provides the chats, the newest first; with nobody there, no chat is active. */
export class ActiveChatSlot implements ActiveChat {
  private readonly providers: ActiveChat[] = [];

  get conversationId(): string | undefined {
    return this.providers.at(-1)?.conversationId;
  }

  titleOf(conversationId: string): string | undefined {
    return this.providers.at(-1)?.titleOf(conversationId);
  }

  /** The chat side answers from now on; disposing the result gives the word back to the one before. */
  provide(provider: ActiveChat): Disposable {
    this.providers.push(provider);
    return {
      dispose: () => {
        const index = this.providers.lastIndexOf(provider);
        if (index >= 0) this.providers.splice(index, 1);
      },
    };
  }
}
