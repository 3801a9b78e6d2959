/**
 * Tests of the safetensors module: round trips, exact F16 rounding, every malformed case,
 * and the names and shapes of the committed PyTorch fixture.
 */

import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  encodeSafetensors,
  f16ToF32,
  parseSafetensors,
  SafetensorsError,
  toFloat32,
  toInt32,
  withMetadata,
} from "./safetensors.ts";

/** A file from a header (an object, or the raw header bytes) and data, without validation. */
function rawFile(header: unknown, data: ArrayLike<number> = []): Uint8Array {
  const json = header instanceof Uint8Array
    ? header
    : new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function only(bytes: Uint8Array, name: string) {
  const e = parseSafetensors(bytes, "test").tensors.get(name);
  ok(e, `tensor ${name} missing`);
  return e;
}

Deno.test("round trip of F32, F16 and I32 tensors with metadata", () => {
  const f32 = Float32Array.from([1.5, -2.25, 3e-30, 1e30, -0, 0.1, NaN, Infinity]);
  const f16 = Float32Array.from([0.5, -1, 2048, 0.099975586]); // all exact in binary16
  const i32 = Int32Array.from([0, -1, 2147483647, -2147483648, 7, 8]);
  const metadata = { config: '{"base_ch":8}', note: "ünïcode ✓" };
  const bytes = encodeSafetensors([
    { name: "z.f16", dtype: "F16", shape: [2, 2], data: f16 },
    { name: "a.i32", dtype: "I32", shape: [2, 3], data: i32 },
    { name: "m.f32", dtype: "F32", shape: [2, 1, 4], data: f32 },
    { name: "empty", dtype: "F32", shape: [0, 3], data: new Float32Array() },
    { name: "scalar", dtype: "F16", shape: [], data: Float32Array.of(3) },
  ], metadata);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  strictEqual(headerLength % 8, 0, "header padded to 8 bytes");
  const file = parseSafetensors(bytes, "roundtrip");
  deepStrictEqual(file.metadata, metadata);
  deepStrictEqual([...file.tensors.keys()].sort(), ["a.i32", "empty", "m.f32", "scalar", "z.f16"]);
  const m = file.tensors.get("m.f32")!;
  deepStrictEqual([m.dtype, m.shape], ["F32", [2, 1, 4]]);
  deepStrictEqual(toFloat32(m), f32);
  deepStrictEqual(toFloat32(file.tensors.get("z.f16")!), f16);
  deepStrictEqual(toInt32(file.tensors.get("a.i32")!), i32);
  deepStrictEqual(toFloat32(file.tensors.get("empty")!), new Float32Array());
  deepStrictEqual(toFloat32(file.tensors.get("scalar")!), Float32Array.of(3));
  for (const [name, e] of file.tensors) {
    const size = e.dtype === "F16" ? 2 : 4;
    strictEqual(e.bytes.byteOffset % size, 0, `${name} is aligned to its element size`);
  }
});

Deno.test("withMetadata: new metadata, every tensor byte unchanged", () => {
  const weights = Float32Array.from([1, -2, 3.5]);
  // A header as another writer might lay it out: unpadded, metadata last.
  const original = rawFile(
    {
      w: { dtype: "F32", shape: [3], data_offsets: [0, 12] },
      b: { dtype: "U8", shape: [2], data_offsets: [12, 14] },
      __metadata__: { format: "pt", note: "old" },
    },
    [...new Uint8Array(weights.buffer), 7, 9],
  );
  const updated = withMetadata(original, "w.safetensors", { palette: '["ff004d"]', note: "new" });
  const before = parseSafetensors(original, "before");
  const after = parseSafetensors(updated, "after");
  deepStrictEqual(after.metadata, { format: "pt", note: "new", palette: '["ff004d"]' });
  for (const [name, e] of before.tensors) {
    deepStrictEqual(after.tensors.get(name)!.bytes, e.bytes, name);
  }
  const headerLength = Number(new DataView(updated.buffer).getBigUint64(0, true));
  strictEqual(headerLength % 8, 0, "header padded to 8 bytes");
  deepStrictEqual(updated.subarray(8 + headerLength), original.subarray(original.length - 14));
  throws(
    () => withMetadata(original.subarray(0, 20), "cut.safetensors", {}),
    {
      name: "SafetensorsError",
      message: "cut.safetensors: truncated: the header needs 153 bytes, the file has 12",
    },
  );
});

Deno.test("F16 encoding rounds to nearest-even, with subnormals, overflow and NaN", () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite
    [65519, 0x7bff], // just under the halfway point to 65536
    [65520, 0x7c00], // halfway: rounds to even, which is inf
    [1e6, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [0, 0x0000],
    [-0, 0x8000],
    [6e-8, 0x0001], // subnormal 2^-24 ≈ 5.96e-8
    [2 ** -14, 0x0400], // smallest normal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [1023.5 * 2 ** -24, 0x0400], // tie, rounds up out of the subnormals
    [2 ** -25, 0x0000], // tie between 0 and 2^-24: even is 0
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps: even is 2
    [2 ** -25 * (1 + 2 ** -23), 0x0001], // just over the tie
    [1e-9, 0x0000],
    [-1e-9, 0x8000],
    [1 + 2 ** -11, 0x3c00], // tie: even mantissa 0
    [1 + 3 * 2 ** -11, 0x3c02], // tie: even mantissa 2
    [1 + 2 ** -11 + 2 ** -20, 0x3c01],
    [2 - 2 ** -11, 0x4000], // tie carries into the exponent
    [NaN, 0x7e00],
  ];
  const bytes = encodeSafetensors([{
    name: "h",
    dtype: "F16",
    shape: [cases.length],
    data: Float32Array.from(cases, ([v]) => v),
  }], {});
  const e = only(bytes, "h");
  const bits = new Uint16Array(e.bytes.slice().buffer);
  cases.forEach(([value, expected], i) => {
    strictEqual(
      bits[i],
      expected,
      `${value} → 0x${bits[i].toString(16)}, expected 0x${expected.toString(16)}`,
    );
  });
  const decoded = toFloat32(e);
  const exact = [
    1,
    -2,
    0.5,
    65504,
    65504,
    Infinity,
    Infinity,
    Infinity,
    -Infinity,
    0,
    -0,
    2 ** -24,
  ];
  exact.forEach((v, i) => strictEqual(decoded[i], v));
  ok(Number.isNaN(decoded[cases.length - 1]));
  strictEqual(f16ToF32(0x03ff), 1023 * 2 ** -24);
  strictEqual(f16ToF32(0x7bff), 65504);
  strictEqual(f16ToF32(0xbc01), -(1 + 2 ** -10));
});

Deno.test("BF16, I64 and U8 tensors convert; wrong kinds and wide I64 values throw", () => {
  const bf16 = [0x3f80, 0xc000, 0x7f80, 0x3eaa]; // 1, -2, inf, 0.33203125
  const i64 = new BigInt64Array([5n, -7n, 2147483647n]);
  const u8 = [0, 255, 3];
  const data = new Uint8Array([
    ...new Uint8Array(i64.buffer),
    ...new Uint8Array(Uint16Array.from(bf16).buffer),
    ...u8,
  ]);
  const bytes = rawFile({
    l: { dtype: "I64", shape: [3], data_offsets: [0, 24] },
    b: { dtype: "BF16", shape: [2, 2], data_offsets: [24, 32] },
    u: { dtype: "U8", shape: [3], data_offsets: [32, 35] },
  }, data);
  deepStrictEqual(toFloat32(only(bytes, "b")), Float32Array.from([1, -2, Infinity, 0.33203125]));
  deepStrictEqual(toInt32(only(bytes, "l")), Int32Array.from([5, -7, 2147483647]));
  deepStrictEqual(toInt32(only(bytes, "u")), Int32Array.from(u8));
  throws(() => toFloat32(only(bytes, "l")), SafetensorsError);
  throws(() => toInt32(only(bytes, "b")), SafetensorsError);
  const wide = rawFile(
    { l: { dtype: "I64", shape: [1], data_offsets: [0, 8] } },
    new Uint8Array(new BigInt64Array([1n << 40n]).buffer),
  );
  throws(() => toInt32(only(wide, "l")), /does not fit in 32 bits/);
});

Deno.test("malformed files are rejected with a message naming the file and the fault", () => {
  const entry = (dtype: string, shape: unknown, offsets: unknown) => ({
    dtype,
    shape,
    data_offsets: offsets,
  });
  const valid = encodeSafetensors(
    [{ name: "w", dtype: "F32", shape: [2], data: Float32Array.of(1, 2) }],
    {},
  );
  const cases: [string, Uint8Array, RegExp][] = [
    ["too short", new Uint8Array(5), /not a safetensors file.*too short/],
    [
      "absurd header length",
      Uint8Array.of(0, 0, 0, 0, 0, 1, 0, 0, 0x7b),
      /header length .* absurd/,
    ],
    ["header beyond the file", valid.subarray(0, 20), /truncated: the header needs/],
    ["invalid JSON", rawFile(new TextEncoder().encode("{not json}")), /not valid JSON/],
    [
      "invalid UTF-8",
      rawFile(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d)),
      /not valid JSON/,
    ],
    ["header not an object", rawFile([1, 2]), /not a JSON object/],
    [
      "metadata not strings",
      rawFile({ __metadata__: { epoch: 3 } }),
      /__metadata__\.epoch is not a string/,
    ],
    [
      "unknown dtype",
      rawFile({ w: entry("F8", [1], [0, 1]) }, [0]),
      /tensor w: unknown dtype "F8"/,
    ],
    [
      "bad shape",
      rawFile({ w: entry("F32", [-1], [0, 4]) }, [0, 0, 0, 0]),
      /tensor w: shape \[-1\]/,
    ],
    [
      "bad offsets",
      rawFile({ w: entry("F32", [1], [0]) }, [0, 0, 0, 0]),
      /data_offsets \[0\] is not/,
    ],
    [
      "offsets out of order",
      rawFile({ w: entry("U8", [0], [4, 0]) }, [0, 0, 0, 0]),
      /out of order/,
    ],
    [
      "size not dtype×shape",
      rawFile({ w: entry("F32", [2], [0, 4]) }, [0, 0, 0, 0]),
      /span 4 bytes, but F32 \[2\] needs 8/,
    ],
    [
      "truncated data",
      valid.subarray(0, valid.length - 1),
      /truncated: tensor w ends at data byte 8/,
    ],
    [
      "overlapping tensors",
      rawFile({ a: entry("F32", [2], [0, 8]), b: entry("F32", [1], [4, 8]) }, new Uint8Array(8)),
      /tensor b overlaps tensor a/,
    ],
    [
      "gap between tensors",
      rawFile({ a: entry("F32", [1], [0, 4]), b: entry("F32", [1], [8, 12]) }, new Uint8Array(12)),
      /data bytes 4\.\.8 before tensor b belong to no tensor/,
    ],
    [
      "bytes after the last tensor",
      rawFile({ a: entry("F32", [1], [0, 4]) }, new Uint8Array(6)),
      /2 bytes after the last tensor/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    throws(() => parseSafetensors(bytes, "bad.safetensors"), (err: unknown) => {
      ok(err instanceof SafetensorsError, `${what}: ${err}`);
      ok(err.message.startsWith("bad.safetensors: "), `${what}: ${err.message}`);
      ok(message.test(err.message), `${what}: "${err.message}" does not match ${message}`);
      return true;
    });
  }
});

Deno.test("encoding rejects inconsistent tensors", () => {
  const f = Float32Array.of(1, 2);
  throws(
    () => encodeSafetensors([{ name: "a", dtype: "F32", shape: [3], data: f }], {}),
    /2 values/,
  );
  throws(
    () => encodeSafetensors([{ name: "a", dtype: "I32", shape: [2], data: f }], {}),
    /Int32Array/,
  );
  throws(
    () =>
      encodeSafetensors([{ name: "a", dtype: "F16", shape: [2], data: Int32Array.of(1, 2) }], {}),
    /Float32Array/,
  );
  throws(
    () =>
      encodeSafetensors([
        { name: "a", dtype: "F32", shape: [2], data: f },
        { name: "a", dtype: "F16", shape: [2], data: f },
      ], {}),
    /used twice/,
  );
  throws(
    () => encodeSafetensors([{ name: "__metadata__", dtype: "F32", shape: [2], data: f }], {}),
    /reserved/,
  );
});

interface UnetConfig {
  in_ch: number;
  base_ch: number;
  channel_mults: number[];
  num_res_blocks: number;
  use_attention: boolean[];
  num_classes: number;
}

/** ContextUNet's state_dict names and shapes per /work/shared/model-spec.md, written out anew. */
function unetParams(c: UnetConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const emb = 4 * c.base_ch;
  const add = (name: string, ...shape: number[]) => out.set(name, shape);
  const conv = (name: string, o: number, i: number, k: number) => {
    add(`${name}.weight`, o, i, k, k);
    add(`${name}.bias`, o);
  };
  const norm = (name: string, ch: number) => {
    add(`${name}.weight`, ch);
    add(`${name}.bias`, ch);
  };
  const res = (p: string, i: number, o: number) => {
    conv(`${p}.conv1`, o, i, 3);
    conv(`${p}.conv2`, o, o, 3);
    norm(`${p}.norm1`, o);
    norm(`${p}.norm2`, o);
    if (i !== o) conv(`${p}.skip`, o, i, 1);
    add(`${p}.time_mlp.0.weight`, o, emb);
    add(`${p}.time_mlp.0.bias`, o);
  };
  const attn = (p: string, ch: number) => {
    norm(`${p}.norm`, ch);
    for (const n of ["q", "k", "v", "proj_out"]) {
      add(`${p}.${n}.weight`, ch, ch, 1);
      add(`${p}.${n}.bias`, ch);
    }
  };
  add("time_mlp.0.weight", emb, 1);
  add("time_mlp.0.bias", emb);
  add("time_mlp.2.weight", emb, emb);
  add("time_mlp.2.bias", emb);
  add("label_emb.weight", c.num_classes + 1, emb);
  conv("init_conv", c.base_ch, c.in_ch, 3);
  const chs = [c.base_ch, ...c.channel_mults.map((m) => m * c.base_ch)];
  const levels = c.channel_mults.length;
  let ch = c.base_ch;
  for (let i = 0; i < levels; i++) {
    for (let j = 0; j < c.num_res_blocks; j++) {
      res(`downs.${i}.blocks.${j}`, j ? chs[i + 1] : ch, chs[i + 1]);
    }
    if (c.use_attention[i]) attn(`downs.${i}.attn`, chs[i + 1]);
    ch = chs[i + 1];
  }
  res("mid.block1", ch, ch);
  attn("mid.attn", ch);
  res("mid.block2", ch, ch);
  for (let u = 0; u < levels; u++) {
    const i = levels - 1 - u;
    for (let j = 0; j <= c.num_res_blocks; j++) {
      res(`ups.${u}.blocks.${j}`, j ? chs[i] : ch + chs[i + 1], chs[i]);
    }
    if (c.use_attention[i]) attn(`ups.${u}.attn`, chs[i]);
    ch = chs[i];
  }
  norm("out_conv.0", ch);
  conv("out_conv.2", c.in_ch, ch, 3);
  return out;
}

const count = (shapes: Iterable<number[]>) =>
  [...shapes].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);

Deno.test("the name generator above matches the original's reference config", () => {
  const ref = unetParams({
    in_ch: 3,
    base_ch: 64,
    channel_mults: [1, 2, 2],
    num_res_blocks: 2,
    use_attention: [false, true, true],
    num_classes: 5,
  });
  strictEqual(ref.size, 239);
  strictEqual(count(ref.values()), 4_322_243);
});

Deno.test("the committed PyTorch fixture parses with every expected name", async () => {
  const path = new URL("../../tests/fixtures/unet_tiny.safetensors", import.meta.url);
  const file = parseSafetensors(await Deno.readFile(path), path.pathname);
  strictEqual(file.metadata.format, "pixel-diffusion-fixture");
  const config: UnetConfig = JSON.parse(file.metadata.config);
  deepStrictEqual(config, {
    in_ch: 4,
    base_ch: 8,
    channel_mults: [1, 2, 2],
    num_res_blocks: 2,
    use_attention: [false, true, true],
    num_classes: 3,
  });
  const recipe = JSON.parse(file.metadata.recipe);
  ok(recipe.grad_norm > recipe.max_grad_norm, "clipping is active");
  strictEqual(recipe.T, 1000);
  const params = unetParams(config);
  strictEqual(count(params.values()), 69_964);
  const expected = new Map<string, [string, number[]]>([
    ["x_t", ["F32", [3, 4, 16, 16]]],
    ["eps", ["F32", [3, 4, 16, 16]]],
    ["pred", ["F32", [3, 4, 16, 16]]],
    ["loss", ["F32", [1]]],
    ["t", ["I32", [3]]],
    ["labels", ["I32", [3]]],
  ]);
  for (const [name, shape] of params) {
    for (const prefix of ["param", "grad", "adamw"]) {
      expected.set(`${prefix}.${name}`, ["F32", shape]);
    }
  }
  deepStrictEqual([...file.tensors.keys()].sort(), [...expected.keys()].sort());
  for (const [name, [dtype, shape]] of expected) {
    const e = file.tensors.get(name)!;
    deepStrictEqual([e.dtype, e.shape], [dtype, shape], name);
  }
  ok(toInt32(file.tensors.get("labels")!).includes(config.num_classes), "a null-class label");
  for (const name of JSON.parse(file.metadata.zero_grads) as string[]) ok(params.has(name), name);
});
