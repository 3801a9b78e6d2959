/**
 * Python's PIL as an independent PNG encoder and decoder for tests: Debian's /usr/bin/python3
 * with python3-pil. Tests that need it are skipped where it is missing. Test-only.
 */

import { ok } from "node:assert/strict";

const PYTHON = "/usr/bin/python3";

export const hasPil: boolean =
  new Deno.Command(PYTHON, { args: ["-c", "import PIL"], stderr: "null" }).outputSync().success;

/** Runs a Python `script` with `args`, fails the test on error, and parses its stdout as JSON. */
export async function runPythonJson<T>(script: string, args: string[]): Promise<T> {
  const out = await new Deno.Command(PYTHON, { args: ["-c", script, ...args] }).output();
  ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
