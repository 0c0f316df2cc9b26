// The typed side of `acquireVsCodeApi()`: the only way the webview talks to the extension.
import type { WebviewMessage } from '../shared/protocol';

export interface WebviewPersistedState {
  draft: string;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface HostApi {
  post(message: WebviewMessage): void;
  loadState(): WebviewPersistedState;
  saveState(state: WebviewPersistedState): void;
}

export function connectToHost(): HostApi {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    loadState: () => {
      const state = api.getState();
      const draft = typeof state === 'object' && state !== null && typeof (state as { draft?: unknown }).draft === 'string' ? (state as { draft: string }).draft : '';
      return { draft };
    },
    saveState: (state) => api.setState(state),
  };
}
