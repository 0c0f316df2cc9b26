// The person's API key never goes back to the model or into a transcript: a command that prints it (a
// project's .env, a debug log) has it replaced before its output enters the conversation.
export const REDACTED = '[API key hidden]';
/** Shorter strings are not secrets worth hiding, and replacing them would mangle ordinary text. */
const MIN_SECRET_LENGTH = 8;

export function createRedactor(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const known = secrets.filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH);
  if (known.length === 0) return (text) => text;
  return (text) => known.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join(REDACTED) : out), text);
}
