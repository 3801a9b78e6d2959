import { strictEqual } from "node:assert";
import { withoutUnreachable } from "./wgsl_text.ts";

const code = `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
fn helper(x: f32) -> f32 { return x * 2.0; }
// fn commented_out() { }
fn unused() -> f32 {
  return 1.0;
}
@compute @workgroup_size(max(1, 2))
fn other(@builtin(global_invocation_id) id: vec3u) {
  out[id.x] = unused();
}
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  out[id.x] = helper(out[id.x]);
}`;

Deno.test("wgsl_text: an entry point keeps the functions it reaches, in place", () => {
  const kept = withoutUnreachable(code, "main");
  strictEqual(kept.split("\n").length, code.split("\n").length);
  strictEqual(kept.includes("fn helper(x: f32)"), true);
  strictEqual(kept.includes("fn main("), true);
  strictEqual(kept.includes("unused"), false);
  // The other entry point goes with its attributes, nested parentheses included.
  strictEqual(kept.includes("fn other"), false);
  strictEqual(kept.includes("workgroup_size(max(1, 2))"), false);
  strictEqual(kept.includes("@group(0) @binding(0) var<storage, read_write> out"), true);
  const other = withoutUnreachable(code, "other");
  strictEqual(other.includes("fn unused()"), true);
  strictEqual(other.includes("fn helper"), false);
  strictEqual(other.includes("fn main"), false);
  // Without the entry point, nothing is removed: the compiler reports the missing function.
  strictEqual(withoutUnreachable(code, "absent"), code);
});
