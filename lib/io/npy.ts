/**
 * A reader for NumPy `.npy` files (format versions 1–3): little-endian numeric
 * dtypes in C order, the form `np.save` writes on every common machine.
 * Fortran order, big-endian data and structured dtypes are refused by name, so
 * the message says how to re-save the array.
 */

/** The typed array an `.npy` payload becomes; 64-bit integers widen to f64. */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface NpyArray {
  /** The dtype as NumPy spells it in the header, e.g. `<f4`, `|u1`. */
  dtype: string;
  shape: number[];
  data: NpyData;
}

type Reader = (bytes: Uint8Array, count: number) => NpyData;

/** Copies into a fresh, aligned buffer (the payload offset is rarely a multiple of 8). */
const copying = <T extends NpyData>(
  make: (buffer: ArrayBuffer) => T,
  itemSize: number,
): Reader =>
(bytes, count) => make(bytes.slice(0, count * itemSize).buffer);

function int64s(signed: boolean): Reader {
  return (bytes, count) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, count * 8);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = Number(signed ? view.getBigInt64(i * 8, true) : view.getBigUint64(i * 8, true));
    }
    return out;
  };
}

const READERS: Record<string, { size: number; read: Reader }> = {
  b1: { size: 1, read: copying((b) => new Uint8Array(b), 1) },
  u1: { size: 1, read: copying((b) => new Uint8Array(b), 1) },
  i1: { size: 1, read: copying((b) => new Int8Array(b), 1) },
  u2: { size: 2, read: copying((b) => new Uint16Array(b), 2) },
  i2: { size: 2, read: copying((b) => new Int16Array(b), 2) },
  u4: { size: 4, read: copying((b) => new Uint32Array(b), 4) },
  i4: { size: 4, read: copying((b) => new Int32Array(b), 4) },
  u8: { size: 8, read: int64s(false) },
  i8: { size: 8, read: int64s(true) },
  f4: { size: 4, read: copying((b) => new Float32Array(b), 4) },
  f8: { size: 8, read: copying((b) => new Float64Array(b), 8) },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Parses an `.npy` file; errors are `Error`s whose message starts with `source`. */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  function fail(what: string): never {
    throw new Error(`${source}: ${what}`);
  }
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail("not a NumPy .npy file (no \\x93NUMPY magic)");
  }
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail("truncated .npy header");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (bytes.length < dataStart) fail("truncated .npy header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(8 + lengthBytes, dataStart),
  );

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr === undefined) {
    fail(
      header.includes("'descr': [")
        ? "structured dtypes are not supported"
        : "no dtype in the header",
    );
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  if (fortran === undefined) fail("no fortran_order in the header");
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) fail("no shape in the header");

  const dtype = descr;
  if (fortran === "True") {
    fail("array is in Fortran order; save it with np.save(path, np.ascontiguousarray(a))");
  }
  const order = dtype[0];
  const kind = dtype.slice(1);
  const reader = READERS[kind];
  if (order === ">" && reader && reader.size > 1) {
    fail(`big-endian dtype '${dtype}'; save it as little-endian with a.astype('<${kind}')`);
  }
  if (!reader || !"<|=>".includes(order)) {
    fail(`unsupported dtype '${dtype}'; use uint8, int8–int64, float32 or float64`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`malformed shape (${shapeText})`);

  const count = shape.reduce((a, b) => a * b, 1);
  const payload = bytes.subarray(dataStart);
  const need = count * reader.size;
  if (payload.length < need) {
    fail(
      `truncated: shape (${
        shape.join(", ")
      }) of ${dtype} needs ${need} data bytes, found ${payload.length}`,
    );
  }
  return { dtype, shape, data: reader.read(payload, count) };
}
