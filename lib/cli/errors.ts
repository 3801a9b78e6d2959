/**
 * Errors a user can fix. The CLI prints their message as one line, `error: …`,
 * and exits with their code; anything else is a bug and shows a stack trace.
 */

export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "UserError";
  }
}
