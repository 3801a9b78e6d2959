/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the raw little-endian tensor data, which the offsets (relative to the end of the
 * header) must cover exactly, without gaps or overlaps. Weights, checkpoints and the
 * PyTorch fixtures all use it, so files move between this project and PyTorch.
 *
 * Typed-array views assume a little-endian host, which every Deno target is.
 */

export type Dtype = "F32" | "F16" | "BF16" | "I32" | "I64" | "U8";

export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  /** A view of the tensor's raw little-endian data inside the parsed file. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** A malformed file; the message names the file and what is wrong with it. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

const DTYPE_BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, U8: 1 };

/** The reference implementation refuses larger headers; a bigger length means garbage. */
const MAX_HEADER_BYTES = 100_000_000;

const isDtype = (s: unknown): s is Dtype => typeof s === "string" && Object.hasOwn(DTYPE_BYTES, s);

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses and validates a whole file; tensor bytes are views into `bytes`. */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  function fail(what: string): never {
    throw new SafetensorsError(`${source}: ${what}`);
  }
  if (bytes.length < 8) {
    fail(`not a safetensors file (${bytes.length} bytes, too short for a header)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength < 2n || headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`not a safetensors file (header length ${headerLength} is absurd)`);
  }
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`truncated: the header needs ${headerLength} bytes, the file has ${bytes.length - 8}`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)),
    );
  } catch (err) {
    fail(`not a safetensors file (header is not valid JSON: ${(err as Error).message})`);
  }
  if (!isRecord(header)) fail("not a safetensors file (header is not a JSON object)");

  const metadata: Record<string, string> = {};
  const rawMetadata = header["__metadata__"] ?? {};
  if (!isRecord(rawMetadata)) fail("__metadata__ is not an object");
  for (const [key, value] of Object.entries(rawMetadata)) {
    if (typeof value !== "string") fail(`__metadata__.${key} is not a string`);
    metadata[key] = value;
  }

  const dataLength = bytes.length - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (!isRecord(raw)) fail(`tensor ${name}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (!isDtype(dtype)) fail(`tensor ${name}: unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`tensor ${name}: data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`tensor ${name}: data_offsets [${begin}, ${end}] are out of order`);
    const expected = shape.reduce((a: number, b: number) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      fail(
        `tensor ${name}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, ` +
          `but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
      );
    }
    if (end > dataLength) {
      fail(
        `truncated: tensor ${name} ends at data byte ${end}, but the file has ${dataLength} data bytes`,
      );
    }
    spans.push({ name, begin, end });
    tensors.set(name, {
      dtype,
      shape: shape as number[],
      bytes: bytes.subarray(dataStart + begin, dataStart + end),
    });
  }

  // The data must be covered exactly: sorted by position, each tensor starts where the last ended.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = "";
  for (const { name, begin, end } of spans) {
    if (begin < covered) {
      fail(`tensor ${name} overlaps ${previous} (data bytes ${begin} < ${covered})`);
    }
    if (begin > covered) {
      fail(`data bytes ${covered}..${begin} before tensor ${name} belong to no tensor`);
    }
    covered = end;
    previous = `tensor ${name}`;
  }
  if (covered !== dataLength) {
    fail(`${dataLength - covered} bytes after the last tensor belong to no tensor`);
  }
  return { tensors, metadata };
}

/** A copy of the tensor's data, aligned for typed-array views. */
const aligned = (e: TensorEntry): ArrayBuffer => e.bytes.slice().buffer;

/** F32/F16/BF16 data as a fresh Float32Array. */
export function toFloat32(e: TensorEntry): Float32Array {
  switch (e.dtype) {
    case "F32":
      return new Float32Array(aligned(e));
    case "F16": {
      const bits = new Uint16Array(aligned(e));
      const values = f16Values();
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = values[bits[i]];
      return out;
    }
    case "BF16": {
      const bits = new Uint32Array(e.bytes.length / 2);
      for (let i = 0; i < bits.length; i++) {
        bits[i] = (e.bytes[2 * i] | (e.bytes[2 * i + 1] << 8)) << 16;
      }
      return new Float32Array(bits.buffer);
    }
    default:
      throw new SafetensorsError(`a tensor of dtype ${e.dtype} is not floating point`);
  }
}

/** I32/I64/U8 data as a fresh Int32Array; I64 values must fit in 32 bits. */
export function toInt32(e: TensorEntry): Int32Array {
  switch (e.dtype) {
    case "I32":
      return new Int32Array(aligned(e));
    case "U8":
      return Int32Array.from(e.bytes);
    case "I64": {
      const wide = new BigInt64Array(aligned(e));
      const out = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        if (BigInt.asIntN(32, wide[i]) !== wide[i]) {
          throw new SafetensorsError(`I64 value ${wide[i]} at index ${i} does not fit in 32 bits`);
        }
        out[i] = Number(wide[i]);
      }
      return out;
    }
    default:
      throw new SafetensorsError(`a tensor of dtype ${e.dtype} is not an integer type`);
  }
}

let f16Table: Float32Array | undefined;

/**
 * Every binary16 value as f32, indexed by its bits; built on first use. Decoding the default
 * weights by lookup takes a few ms, against about 100 ms calling f16ToF32 per value, and that
 * is on the path of every `sample` start.
 */
function f16Values(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(1 << 16);
    for (let h = 0; h < f16Table.length; h++) f16Table[h] = f16ToF32(h);
  }
  return f16Table;
}

/** IEEE binary16 bits → value (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * f32 bits → binary16 bits, rounding to nearest, ties to even. Overflow gives ±inf,
 * tiny values become subnormals or ±0, NaN stays a (quiet) NaN.
 */
export function f32BitsToF16(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  let mantissa = f & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  let half: number;
  let rest: number;
  let halfway: number;
  if (e <= 0) {
    // Subnormal (value = half · 2^-24) or zero; the implicit leading bit becomes explicit.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    half = mantissa >>> shift;
    rest = mantissa & ((1 << shift) - 1);
    halfway = 1 << (shift - 1);
  } else {
    half = (e << 10) | (mantissa >>> 13);
    rest = mantissa & 0x1fff;
    halfway = 0x1000;
  }
  // A carry out of the mantissa correctly steps the exponent (up to inf).
  if (rest > halfway || (rest === halfway && (half & 1))) half++;
  return sign | half;
}

export interface TensorToEncode {
  name: string;
  dtype: "F32" | "F16" | "I32";
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * Encodes tensors (F16 converted from f32 data) and metadata as a safetensors file. Data is
 * laid out by element size, then name, so every tensor stays aligned to its element size.
 */
export function encodeSafetensors(
  tensors: TensorToEncode[],
  metadata: Record<string, string>,
): Uint8Array {
  const ordered = [...tensors].sort((a, b) =>
    DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of ordered) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.name === "__metadata__" || Object.hasOwn(header, t.name)) {
      throw new SafetensorsError(`tensor name ${t.name} is reserved or used twice`);
    }
    if (!t.shape.every(isCount) || t.data.length !== count) {
      throw new SafetensorsError(
        `tensor ${t.name}: ${t.data.length} values for shape [${t.shape}]`,
      );
    }
    if ((t.dtype === "I32") !== (t.data instanceof Int32Array)) {
      throw new SafetensorsError(
        `tensor ${t.name}: ${t.dtype} needs ${t.dtype === "I32" ? "Int32" : "Float32"}Array data`,
      );
    }
    const size = count * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // pad with spaces, as the format allows
  let at = 8 + headerLength;
  for (const t of ordered) {
    const words = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    if (t.dtype === "F16") {
      const halves = new Uint16Array(out.buffer, at, words.length);
      for (let i = 0; i < words.length; i++) halves[i] = f32BitsToF16(words[i]);
    } else {
      out.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), at);
    }
    at += words.length * DTYPE_BYTES[t.dtype];
  }
  return out;
}

/**
 * The same file with `entries` added to (or replacing keys of) its `__metadata__`: a new header,
 * padded to a multiple of 8 bytes with spaces, followed by the original data bytes unchanged, so
 * every tensor stays bit for bit what it was.
 */
export function withMetadata(
  bytes: Uint8Array,
  source: string,
  entries: Record<string, string>,
): Uint8Array {
  const { metadata } = parseSafetensors(bytes, source); // validates the whole file first
  const dataStart = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, dataStart)));
  header["__metadata__"] = { ...metadata, ...entries };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const data = bytes.subarray(dataStart);
  const out = new Uint8Array(8 + headerLength + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  out.set(data, 8 + headerLength);
  return out;
}
