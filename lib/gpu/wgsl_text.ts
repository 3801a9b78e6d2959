/**
 * WGSL source read as text, for the kernel cache's own passes over it (const_if.ts, and the
 * binding types of kernel.ts): comments blanked out and brackets matched. Positions in the
 * blanked text are positions in the source.
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
