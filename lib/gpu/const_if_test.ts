import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { evaluate, pruneConstantIfs } from "./const_if.ts";
import { bindingTypes } from "./kernel.ts";

const env = (o: Record<string, number | boolean>) =>
  new Map(Object.entries(o).map(([k, v]) => [k, { v, float: !Number.isInteger(v) }]));
const value = (text: string, o: Record<string, number | boolean> = {}) => evaluate(text, env(o))?.v;
/** Whitespace-insensitive view of WGSL, for comparing pruned code with hand-written results. */
const squash = (code: string) => code.replace(/\s+/g, " ").trim();

Deno.test("const_if: evaluates WGSL constant expressions as WGSL does", () => {
  strictEqual(value("7 / 2"), 3); // integer division truncates
  strictEqual(value("-7 / 2"), -3);
  strictEqual(value("7.0 / 2"), 3.5);
  strictEqual(value("(W + 3u) / 4u * 4u", { W: 13 }), 16);
  strictEqual(value("min(VW, 4) > 1 && !FLIP", { VW: 2, FLIP: false }), true);
  strictEqual(value("K == 3 || RH > 2", { K: 1, RH: 1 }), false);
  strictEqual(value("COUT % TN != 0", { COUT: 36, TN: 8 }), true);
  strictEqual(value("max(CIN / 8, 1)", { CIN: 4 }), 1);
  strictEqual(value("1e-3 < 0.01"), true);
  // Anything not constant, or not understood, is left to the compiler.
  strictEqual(value("co >= COUT", { COUT: 4 }), undefined);
  strictEqual(value("f(2) > 1"), undefined);
  strictEqual(value("1 / 0"), undefined);
  strictEqual(value("TN > 4 4"), undefined);
  strictEqual(value("A == true", { A: 1 }), undefined); // mixed types
});

Deno.test("const_if: takes the branch a constant condition decides", () => {
  const code = `const VW = W / 4;
const SV = min(VW, 4);
fn f(x: u32) -> u32 {
  var a = 0u;
  if (SV > 1) { a = 1u; }
  if (SV > 3) {
    a = 2u;
  } else if (x > 2u) {
    a = 3u;
  } else {
    a = 4u;
  }
  if (x > SV) { a += 5u; } else if (W == 8) { a += 6u; }
  return a;
}`;
  const pruned = pruneConstantIfs(code, { W: 8 }); // VW 2, SV 2
  strictEqual(
    squash(pruned),
    squash(`const VW = W / 4;
const SV = min(VW, 4);
fn f(x: u32) -> u32 {
  var a = 0u;
  { a = 1u; }
  if (x > 2u) {
    a = 3u;
  } else {
    a = 4u;
  }
  if (x > SV) { a += 5u; } else { a += 6u; }
  return a;
}`),
  );
  // Lines stay where they were, so compiler messages point at the source's lines.
  strictEqual(pruned.split("\n").length, code.split("\n").length);
  strictEqual(pruned.split("\n").findIndex((l) => l.includes("return a;")), 13);

  const wide = pruneConstantIfs(code, { W: 16 }); // SV 4
  strictEqual(squash(wide).includes("a = 3u"), false);
  strictEqual(
    squash(wide).includes("{ a = 1u; } { a = 2u; } if (x > SV) { a += 5u; } else {} return a;"),
    true,
    squash(wide),
  );
});

Deno.test("const_if: leaves comments, unknown names and runtime conditions alone", () => {
  const code = `// if (K == 3) { in a comment }
/* if (K == 3) { } */
fn g(i: u32) -> u32 {
  if (K == 3 && i > 0u) { return 1u; }
  if (UNDECLARED > 0) { return 2u; }
  if (K == 3) { return 3u; }
  return 4u;
}`;
  const pruned = pruneConstantIfs(code, { K: 1 });
  strictEqual(pruned.includes("// if (K == 3) { in a comment }"), true);
  strictEqual(pruned.includes("if (K == 3 && i > 0u) { return 1u; }"), true);
  strictEqual(pruned.includes("if (UNDECLARED > 0) { return 2u; }"), true);
  strictEqual(pruned.includes("return 3u"), false);
});

Deno.test("const_if: a real kernel keeps no constant condition", async () => {
  const code = await Deno.readTextFile(new URL("../../kernels/conv2d.wgsl", import.meta.url));
  const consts = {
    N: 2,
    H: 16,
    W: 16,
    K: 3,
    CIN: 32,
    COUT: 32,
    TN: 4,
    COUTP: 32,
    RH: 4,
    NB: 1,
    CIN_STEP: 1,
    FLIP: false,
    BIAS: true,
    RESIDUAL: false,
    ACCUM: false,
    S: 1,
    CI_TILE: 8,
    WRAP_X: false,
    WRAP_Y: false,
  };
  const pruned = pruneConstantIfs(code, consts);
  strictEqual(pruned.split("\n").length, code.split("\n").length);
  const left = [...pruned.replace(/\/\/[^\n]*/g, "").matchAll(/\bif \(([^{]*)\) \{/g)]
    .map((m) => m[1]);
  // Every condition left names something only known at run time.
  for (const condition of left) {
    strictEqual(/\b(id|co|ci|iy|seg|p|s|row|r|n|t|j)\b/.test(condition), true, condition);
  }
  // The tile is TN 4: the second to fourth channel quads are gone, so is the residual.
  strictEqual(/conv_samples\(&a1/.test(pruned), false);
  strictEqual(/residual_row\(i, p\.seg\)/.test(pruned), false);
  strictEqual(/conv_samples\(&a0/.test(pruned), true);
  // A 3×3 kernel steps one input channel at a time: the 1×1 four-channel loop is gone.
  strictEqual(/conv_channels\(&a0/.test(pruned), false);
});

Deno.test("kernel: binding types are those of the variables an entry point reaches", async () => {
  const code = await Deno.readTextFile(new URL("../../kernels/linear.wgsl", import.meta.url));
  const source = { name: "linear", code };
  deepStrictEqual(
    [...bindingTypes(source, "forward_silu")].sort(),
    [
      [0, "read-only-storage"],
      [1, "read-only-storage"],
      [2, "read-only-storage"],
      [3, "storage"],
      [4, "storage"],
    ],
  );
  // grad_input writes dx at slot 0, where forward reads x.
  deepStrictEqual(
    [...bindingTypes(source, "grad_input")].sort(),
    [[0, "storage"], [1, "read-only-storage"], [2, "read-only-storage"]],
  );
});

Deno.test("kernel: binding types of an entry point written on one line", () => {
  const source = {
    name: "one_line",
    code: `@group(0) @binding(0) var<uniform> u: vec4f;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = u.x; }`,
  };
  deepStrictEqual([...bindingTypes(source, "main")].sort(), [[0, "uniform"], [1, "storage"]]);
  throws(() => bindingTypes(source, "absent"), /kernel one_line has no function absent/);
});
