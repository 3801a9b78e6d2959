/**
 * Errors of the command line itself (an option out of range, a stopped run). Like
 * the library's {@link InputError}, main.ts prints their message as one line,
 * `error: …`; these also carry the exit code (130 for a run stopped by a signal).
 */

import { InputError } from "../util/errors.ts";

export class UserError extends InputError {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
