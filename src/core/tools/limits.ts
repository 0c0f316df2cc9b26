// Every text that reaches the model is bounded; these are the bounds, in one place.

/** Command output in a bash or check_background result. */
export const MAX_OUTPUT_BYTES = 30 * 1024;
/** Text of one read_file result. */
export const MAX_READ_BYTES = 64 * 1024;
export const DEFAULT_READ_LINES = 2000;
/** Longer lines are cut in read_file results (minified files would otherwise eat the whole budget). */
export const MAX_LINE_CHARS = 2000;

export const DEFAULT_BASH_TIMEOUT_S = 120;
export const MAX_BASH_TIMEOUT_S = 600;
/** edit_file reads the whole file into memory (twice, with the edited copy): larger files are refused. */
export const MAX_EDIT_BYTES = 10 * 1024 * 1024;
/** write_file shows the change to a file up to this size as a diff for approval; a larger one by its size. */
export const MAX_DIFF_SOURCE_BYTES = 1024 * 1024;
/** Tasks in check_background's list (newest first), and how much of each command it shows. */
export const MAX_LISTED_TASKS = 100;
export const MAX_LISTED_COMMAND_CHARS = 200;
/** Ids listed in an "unknown task id" error. */
export const MAX_IDS_IN_ERROR = 20;
/** A NUL byte in this many first bytes makes a file binary: the same test git and grep use. */
export const BINARY_SNIFF_BYTES = 8192;
/** A file tool waits this long for a read, then answers that it gave up (see files/withinTime.ts). */
export const FILE_READ_TIMEOUT_MS = 15_000;
/**
 * Largest `content` write_file takes (and `new_text` edit_file takes), in UTF-8 bytes. What the model writes
 * is also in its request: 1 MiB keeps a few large files far from the API's 32 MB request limit, while a
 * generated file larger than that is better made by a command.
 */
export const MAX_WRITE_BYTES = 1024 * 1024;
/** A written text longer than this is kept in the conversation as its start and a note (see defineTool.ts). */
export const MAX_KEPT_INPUT_CHARS = 64 * 1024;
/** How much of such a text is kept. */
export const KEPT_INPUT_HEAD_CHARS = 2000;
