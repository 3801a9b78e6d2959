/**
 * Removes the `if` branches of a WGSL kernel whose conditions are constant.
 *
 * Kernels choose their shape with constant conditions (`if (TN > 4) { … }`), and WGSL
 * compilers keep both sides until late: lavapipe inlines every call first, so a kernel
 * whose live code is a quarter of its text still pays for all of it when its pipeline is
 * created (the 3×3 convolution: about 200 ms a pipeline of dead code, measured with
 * scripts/cold_start.ts). Deciding those branches here, from the constants the kernel is
 * compiled with, leaves the compilers only the code that runs. A branch is decided only
 * when every name in its condition is a constant (the header's, or a top-level `const`
 * computed from them); anything else stays for the compiler. Removed text leaves its
 * line breaks behind, so compiler messages keep their line numbers.
 */

import type { KernelConsts } from "./kernel.ts";
import { blankComments, closingBracket, countLines } from "./wgsl_text.ts";

type Value = number | boolean;
/** A value and whether it is a float (division truncates only between integers). */
interface Typed {
  v: Value;
  float: boolean;
}

const TOKEN =
  /\s*(0x[0-9a-fA-F]+[iu]?|\d+\.?\d*(?:[eE][+-]?\d+)?[fiuh]?|\.\d+(?:[eE][+-]?\d+)?[fh]?|[A-Za-z_]\w*|&&|\|\||[<>=!]=|[-+*/%<>!(),])/y;

function tokenize(text: string): string[] | undefined {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(text);
    if (!m) return undefined;
    tokens.push(m[1]);
  }
  return tokens;
}

/**
 * Evaluates a WGSL constant expression over `env`, or returns undefined when it names
 * anything else (a variable, a function other than min and max) or uses other syntax.
 */
export function evaluate(text: string, env: ReadonlyMap<string, Typed>): Typed | undefined {
  const tokenized = tokenize(text);
  if (!tokenized) return undefined;
  const tokens: string[] = tokenized;
  let at = 0;
  const peek = () => tokens[at];
  const take = (t: string) => {
    if (tokens[at] !== t) throw new SyntaxError(t);
    at++;
  };
  const num = (x: Typed): number => {
    if (typeof x.v !== "number") throw new TypeError("number expected");
    return x.v;
  };
  const bool = (x: Typed): boolean => {
    if (typeof x.v !== "boolean") throw new TypeError("bool expected");
    return x.v;
  };
  const arith = (op: string, a: Typed, b: Typed): Typed => {
    const [x, y, float] = [num(a), num(b), a.float || b.float];
    switch (op) {
      case "+":
        return { v: x + y, float };
      case "-":
        return { v: x - y, float };
      case "*":
        return { v: x * y, float };
      case "/":
        if (!float && y === 0) throw new RangeError("division by zero");
        return { v: float ? x / y : Math.trunc(x / y), float };
      default:
        if (!float && y === 0) throw new RangeError("division by zero");
        return { v: x % y, float };
    }
  };
  const compare = (op: string, a: Typed, b: Typed): Typed => {
    if (op === "==" || op === "!=") {
      if (typeof a.v !== typeof b.v) throw new TypeError("mixed comparison");
      return { v: (a.v === b.v) === (op === "=="), float: false };
    }
    const [x, y] = [num(a), num(b)];
    const v = op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
    return { v, float: false };
  };

  function primary(): Typed {
    const t = tokens[at++];
    if (t === undefined) throw new SyntaxError("end");
    if (t === "(") {
      const v = or();
      take(")");
      return v;
    }
    if (t === "-") {
      const v = primary();
      return { v: -num(v), float: v.float };
    }
    if (t === "!") return { v: !bool(primary()), float: false };
    if (/^[\d.]/.test(t)) {
      const float = /[.eEfh]/.test(t.replace(/^0x.*/, ""));
      return { v: Number(t.replace(/[fiuh]$/, "")), float };
    }
    if (t === "true" || t === "false") return { v: t === "true", float: false };
    if ((t === "min" || t === "max") && peek() === "(") {
      take("(");
      const a = or();
      take(",");
      const b = or();
      take(")");
      const pick = t === "min" ? Math.min(num(a), num(b)) : Math.max(num(a), num(b));
      return { v: pick, float: a.float || b.float };
    }
    const known = env.get(t);
    if (!known || peek() === "(") throw new ReferenceError(t);
    return known;
  }
  function product(): Typed {
    let v = primary();
    while (peek() === "*" || peek() === "/" || peek() === "%") {
      v = arith(tokens[at++], v, primary());
    }
    return v;
  }
  function sum(): Typed {
    let v = product();
    while (peek() === "+" || peek() === "-") v = arith(tokens[at++], v, product());
    return v;
  }
  function relation(): Typed {
    const v = sum();
    const op = peek();
    if (op === "<" || op === "<=" || op === ">" || op === ">=" || op === "==" || op === "!=") {
      at++;
      return compare(op, v, sum());
    }
    return v;
  }
  /** A left-associative chain of `op` over `operand`s (both sides evaluated, as WGSL's consts are). */
  function logical(op: "&&" | "||", operand: () => Typed): Typed {
    let v = operand();
    while (peek() === op) {
      at++;
      const [a, b] = [bool(v), bool(operand())];
      v = { v: op === "&&" ? a && b : a || b, float: false };
    }
    return v;
  }
  function and(): Typed {
    return logical("&&", relation);
  }
  function or(): Typed {
    return logical("||", and);
  }

  try {
    const v = or();
    return at === tokens.length ? v : undefined;
  } catch {
    return undefined;
  }
}

const skipSpace = (text: string, i: number) => {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
};

/** The constants of the header and the top-level `const` declarations computed from them. */
function constantsOf(blank: string, consts: KernelConsts): Map<string, Typed> {
  const env = new Map<string, Typed>();
  for (const [name, v] of Object.entries(consts)) {
    env.set(name, { v, float: typeof v === "number" && !Number.isInteger(v) });
  }
  for (const m of blank.matchAll(/^const\s+(\w+)\s*=\s*([^;]+);/gm)) {
    const value = evaluate(m[2], env);
    if (value) env.set(m[1], value);
  }
  return env;
}

interface IfStatement {
  end: number;
  condition: string;
  /** The `{ … }` block taken when the condition holds. */
  then: [number, number];
  /** What runs otherwise: a block, another `if` statement (`else if`), or nothing. */
  otherwise?: [number, number];
}

/** Parses the `if` statement whose keyword starts at `start` (blanked code). */
function parseIf(text: string, start: number): IfStatement {
  const open = skipSpace(text, start + 2);
  const close = closingBracket(text, open);
  const brace = skipSpace(text, close);
  if (text[brace] !== "{") throw new SyntaxError(`if without a block at offset ${start}`);
  const then: [number, number] = [brace, closingBracket(text, brace)];
  const statement: IfStatement = {
    end: then[1],
    condition: text.slice(open + 1, close - 1),
    then,
  };
  const afterThen = skipSpace(text, then[1]);
  if (/^else\b/.test(text.slice(afterThen, afterThen + 5))) {
    const next = skipSpace(text, afterThen + 4);
    const end = text.startsWith("if", next) && /\W/.test(text[next + 2])
      ? parseIf(text, next).end
      : closingBracket(text, next);
    statement.otherwise = [next, end];
    statement.end = end;
  }
  return statement;
}

/** `code` with every `if` whose condition is constant under `consts` replaced by the branch it takes. */
export function pruneConstantIfs(code: string, consts: KernelConsts): string {
  let blank = blankComments(code);
  const env = constantsOf(blank, consts);
  const keyword = /\bif\b/g;
  let m: RegExpExecArray | null;
  while ((m = keyword.exec(blank)) !== null) {
    const start = m.index;
    const statement = parseIf(blank, start);
    const decided = evaluate(statement.condition, env);
    if (decided === undefined || typeof decided.v !== "boolean") continue;
    const kept = decided.v ? statement.then : statement.otherwise;
    const [keepFrom, keepTo] = kept ?? [start, start];
    // After `else`, a statement must remain: an empty block stands for a removed one.
    const empty = !kept && /\belse\s*$/.test(blank.slice(0, start)) ? "{}" : "";
    const before = "\n".repeat(countLines(blank, start, keepFrom));
    const after = empty + "\n".repeat(countLines(blank, keepTo, statement.end));
    const replace = (text: string) =>
      text.slice(0, start) + before + text.slice(keepFrom, keepTo) + after +
      text.slice(statement.end);
    code = replace(code);
    blank = replace(blank);
    // Rescan from the statement's start: the kept branch may hold more constant ifs.
    keyword.lastIndex = start;
  }
  return code;
}
