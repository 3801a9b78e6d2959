import { deepStrictEqual, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";

// What a browser runs must not touch Deno's APIs, Node's built-ins or npm packages: a
// page has none of them. Device acquisition and file access sit in host adapters
// (lib/gpu/device.ts and lib/cli/weights.ts for Deno; lib/browser/app.ts for the page).

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string } }[];
}

/** The modules the bundle of `root` contains: its graph along value imports (`import type` is erased). */
async function runtimeGraph(root: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  ok(out.success, new TextDecoder().decode(out.stderr));
  const info: { roots: string[]; modules: GraphModule[] } = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  const modules = info.modules;
  const bySpecifier = new Map(modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (s: string) => {
    if (seen.has(s)) return;
    seen.add(s);
    for (const d of bySpecifier.get(s)?.dependencies ?? []) if (d.code) visit(d.code.specifier);
  };
  visit(info.roots[0]);
  return [...seen];
}

Deno.test("browser: what the page runs uses no Deno, Node or npm APIs", async () => {
  const graph = await runtimeGraph(fileURLToPath(new URL("./app.ts", import.meta.url)));
  ok(graph.some((s) => s.endsWith("/lib/generate/generator.ts")), "the core is not in the graph");
  deepStrictEqual(graph.filter((s) => !s.startsWith("file://")), []);
  const offenders: string[] = [];
  for (const s of graph.filter((s) => s.endsWith(".ts"))) {
    const code = (await Deno.readTextFile(new URL(s))).replace(/^\s*(\/\/|\/?\*).*$/gm, "");
    if (/\bDeno\.|from "(node|npm):/.test(code)) offenders.push(s);
  }
  deepStrictEqual(offenders, []);
});
