import process from "node:process";
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const c0 = cpu();
const t0 = performance.now();
const { getGpu } = await import("./lib/gpu/device.ts");
const { loadDefaultWeights } = await import("./lib/model/default_weights.ts");
const { storeFromWeights } = await import("./lib/model/weights.ts");
const { ContextUNet } = await import("./lib/model/unet.ts");
const t1 = performance.now();
const gpu = await getGpu();
const t2 = performance.now();
const w = loadDefaultWeights();
const store = storeFromWeights(gpu, w);
const t3 = performance.now();
const times: [string, number, number][] = [];
const kc = gpu.kernels as unknown as { get: (...a: unknown[]) => unknown };
const orig = kc.get.bind(kc);
const seen = new Set<string>();
kc.get = (src: unknown, entry: unknown, consts: unknown) => {
  const key = (src as { name: string }).name + ":" + entry + JSON.stringify(consts);
  const s = cpu();
  const r = orig(src, entry, consts);
  const d = cpu() - s;
  if (!seen.has(key)) { seen.add(key); times.push([(src as { name: string }).name + ":" + entry, d, JSON.stringify(consts).length]); }
  return r;
};
const rows = Number(Deno.args[0] ?? 2);
const model = new ContextUNet(gpu, w.config, store, rows, { staticWeights: true });
const t4 = performance.now();
const c4 = cpu();
model.prepare.run();
await gpu.sync();
const t5 = performance.now();
console.log(`cpu total ${(cpu()-c0).toFixed(0)} build cpu ${(c4 - c0).toFixed(0)} `);
console.log(`imports ${(t1 - t0).toFixed(0)} (since origin ${t0.toFixed(0)}) gpu ${(t2 - t1).toFixed(0)} weights ${(t3 - t2).toFixed(0)} build ${(t4 - t3).toFixed(0)} prepare ${(t5 - t4).toFixed(0)} pipelines ${times.length}`);
const by = new Map<string, [number, number]>();
for (const [k, d] of times) { const e = by.get(k) ?? [0, 0]; by.set(k, [e[0] + 1, e[1] + d]); }
console.log([...by].sort((a, b) => b[1][1] - a[1][1]).map(([k, [c, d]]) => `${k} x${c} ${d.toFixed(0)}ms`).join("\n"));
