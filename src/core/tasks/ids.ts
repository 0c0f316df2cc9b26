// Task ids: short enough for a person to read aloud or type into `check_background`, random enough that
// ids never collide across windows that share a log folder. No look-alike characters (0/o, 1/l/i).
import { customAlphabet } from 'nanoid';

const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';

/** 8 characters of 31: about 8.5e11 ids, so a collision needs ~1M ids in one folder. */
export const newTaskId = customAlphabet(ALPHABET, 8);

/** Identifies one manager instance in the marker env var, so a window never kills another window's tasks. */
export const newInstanceId = customAlphabet(ALPHABET, 6);
