/**
 * The error every library module throws for input a user can fix: a bad file, an
 * option out of range, weights that do not fit. Front ends show its message as
 * one line (the CLI: `error: …`, exit 1; the server: a 400 with a JSON reason);
 * any other error is a bug and keeps its stack trace.
 */

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
