// What the chat's model picker offers: the models we know, the one `backgroundAgent.model` names (any id the
// person's endpoint serves), and the chat's own earlier choice. Nothing else is accepted from the webview.
import type { ModelChoice } from '../../shared/protocol';

/** Current Claude models, newest first; the setting adds any other (a proxy's model, a newer release). */
export const KNOWN_MODELS: readonly string[] = ['claude-sonnet-5-5', 'claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5'];

/** `chosen`: the chat's own pick, if any; `setting`: backgroundAgent.model. */
export function modelChoice(setting: string, chosen: string | undefined): ModelChoice {
  const model = chosen ?? setting;
  return { model, models: [...new Set([model, setting, ...KNOWN_MODELS])] };
}
