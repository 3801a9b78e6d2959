/**
 * WGSL source read as text, for the kernel cache's own passes over it (const_if.ts, and the
 * binding types of kernel.ts): comments blanked out, brackets matched, the functions an entry
 * point reaches. Positions in the blanked text are positions in the source.
 */

/** The code with comments blanked out (same length, line breaks kept). */
export function blankComments(code: string): string {
  return code.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
}

/** Index just past the bracket that closes the `(` or `{` at `open` (comments blanked). */
export function closingBracket(text: string, open: number): number {
  const [o, c] = text[open] === "(" ? ["(", ")"] : ["{", "}"];
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === o) depth++;
    else if (text[i] === c && --depth === 0) return i + 1;
  }
  throw new SyntaxError(`unbalanced ${o} at offset ${open}`);
}

/** Line breaks in text[from, to). */
export function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text[i] === "\n") n++;
  return n;
}

/** A function of the source: from its first attribute to its closing brace, and its body. */
export interface WgslFunction {
  start: number;
  end: number;
  body: string;
}

const ATTRIBUTE = String.raw`@\w+(?:\((?:[^()]|\([^()]*\))*\))?\s*`;
const FUNCTION = new RegExp(String.raw`(?:${ATTRIBUTE})*\bfn\s+(\w+)[^{]*\{`, "g");

/** The functions of comment-blanked code, by name. */
export function functionsOf(blank: string): Map<string, WgslFunction> {
  const functions = new Map<string, WgslFunction>();
  for (const m of blank.matchAll(FUNCTION)) {
    const open = m.index + m[0].length - 1;
    const end = closingBracket(blank, open);
    functions.set(m[1], { start: m.index, end, body: blank.slice(open, end) });
  }
  return functions;
}

/** Every name that `entry` and the functions it calls use (members such as `.w` excluded). */
export function namesReachedFrom(
  functions: ReadonlyMap<string, WgslFunction>,
  entry: string,
): Set<string> {
  const named = new Set<string>();
  const visit = (fn: string) => {
    for (const [name] of (functions.get(fn)?.body ?? "").matchAll(/(?<![.\w])[A-Za-z_]\w*/g)) {
      if (named.has(name)) continue;
      named.add(name);
      if (functions.has(name)) visit(name);
    }
  };
  visit(entry);
  return named;
}

/**
 * The code without the functions `entry` does not reach (their lines left blank), so a
 * compiler parses one entry point's code, not the whole family's. Unchanged when the code
 * has no function `entry`: the compiler then says so.
 */
export function withoutUnreachable(code: string, entry: string): string {
  const blank = blankComments(code);
  const functions = functionsOf(blank);
  if (!functions.has(entry)) return code;
  const reached = namesReachedFrom(functions, entry);
  const cuts = [...functions]
    .filter(([name]) => name !== entry && !reached.has(name))
    .map(([, f]) => f)
    .sort((a, b) => b.start - a.start); // from the end, so earlier positions stay valid
  for (const f of cuts) {
    code = code.slice(0, f.start) + "\n".repeat(countLines(code, f.start, f.end)) +
      code.slice(f.end);
  }
  return code;
}
