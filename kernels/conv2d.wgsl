// 2-D convolution, stride 1, zero padding (K − 1) / 2, NCHW f32 (see lib/nn/conv2d.ts).
// With WRAP_X / WRAP_Y the padding is circular along that axis instead (seamless tiles); the
// padding is decided in one place, the "padding" section below.
//
// Bindings (group 0; each entry point uses a subset, the others are left unbound):
//   0 src       [N, CIN, H, W] vec4   read        the convolved input: x, or dy for dx
//   1 packed    [CIN, K·K, COUTP] vec4 read       the weights as written by pack_weights
//   2 dst       [N, COUT, H, W] vec4  read_write  the output: y, or dx
//   3 bias      [COUT] f32            read        added when BIAS
//   4 residual  [N, COUT, H, W] vec4  read        added when RESIDUAL
//   (conv binds slots 3 and 4 only when BIAS / RESIDUAL: the branches that read them are
//   removed before compiling otherwise, see lib/gpu/const_if.ts)
//   5 pack_out  [CIN, K·K, COUTP] vec4 read_write the buffer of `packed`, for pack_weights
//   6 weight    [COUT, CIN, K, K] f32 read        the layer's weight ([CIN, COUT, K, K] when FLIP)
//   7 grad_out  [N, COUT, H, W] vec4  read        dy, for weight_grad (src is x there)
//   8 partial   [S, DWP] then [S, DBP] f32 read_write  weight_grad's partial sums (scratch)
//   9 partial4  the buffer of `partial` as vec4, read by weight_grad_reduce
//  10 dw        [DWP] vec4            read_write  [COUT, CIN, K, K], zero-padded to a vec4
//  11 db        [DBP] vec4            read_write  [COUT], zero-padded to a vec4
// Constants: N, H, W (a multiple of 4), K (1 or 3), CIN and COUT (channels of src and dst;
//   for the weight gradient those of x and dy; CIN is 0 for conv, which reads it from src),
//   TN (output channels per invocation: 4, 8 or 16), COUTP (COUT rounded up to a multiple of
//   TN), RH (output rows per invocation: 1, 2 or 4), FLIP (pack_weights only: pack the weight
//   transposed and flipped, the input gradient being a convolution of dy), BIAS, RESIDUAL,
//   ACCUM (conv adds bias, residual, the old dst), CONV_WG (conv's workgroup size; only conv has
//   it), CIN_STEP (conv's input channels per step: 4 or 1, chosen in lib/nn/conv2d.ts; 4 only
//   for 1×1, Cin % 4 = 0), S (weight_grad's partial sums: batch splits × SEGS), CI_TILE
//   (weight_grad_1x1's input channels per tile: 16 or 8), WRAP_X and WRAP_Y (circular padding;
//   false for weight_grad). Each entry point is compiled alone (lib/gpu/wgsl_text.ts), so constants
//   another entry point needs may be absent or 0.
// Entry points:
//   pack_weights        ceil(CIN·K·K·COUTP / 4 / 64) workgroups
//   conv                ceil(INVOCATIONS / CONV_WG) workgroups. An invocation holds TN output
//                       channels × RH rows × one row segment of up to 16 pixels in registers:
//                       each loaded vec4 of src feeds up to 4·TN·K FMAs (the kx = 0, 2 taps are
//                       swizzles of the loaded row) and each vec4 of weights 4·RH·SV. A 1×1
//                       convolution's planes may arrive as rows of 16 pixels (kernelShape).
//   weight_grad         ceil(S · CO_QUADS · CI_QUADS / 64) workgroups. An invocation sums all
//                       taps of 4 × 4 channel pairs over its share of the batch: each loaded
//                       x row meets the three dy rows it touches, which roll through registers.
//   weight_grad_1x1     ceil(S · COUT/16 · CIN/CI_TILE / 64) workgroups (K = 1, CIN a multiple of
//                       CI_TILE, 16 or 8, COUT of 16; replaces weight_grad). A 1×1 weight
//                       gradient is a matrix product over the pixels, so an invocation holds
//                       16 × CI_TILE channel pairs as vec4s of partial sums over 4 pixels: 32
//                       loads feed 256 vec4 FMAs (16 × 8: 24 feed 128; weight_grad's 4 × 4 pairs
//                       get 16 per 8 loads).
//   weight_grad_reduce  ceil((DWP + DBP) / 4 / 64) workgroups: sums the S splits into dw and db.
// Workgroup counts over the per-dimension limit are split over x and y (see grid1d).

const KK = K * K;
const PAD = (K - 1) / 2;
/** Vec4s per row. */
const VW = W / 4;
/** Vec4s of a row one invocation holds. */
const SV = min(VW, 4);
/** Row segments per row (1 for W ≤ 16). */
const SEGS = (VW + SV - 1) / SV;
const ROW_BLOCKS = (H + RH - 1) / RH;
/** Groups of NB samples (NB divides N). */
const SAMPLE_BLOCKS = N / NB;
const INVOCATIONS = COUTP / TN * SAMPLE_BLOCKS * ROW_BLOCKS * SEGS;
const CI_QUADS = (CIN + 3) / 4;
const CO_QUADS = (COUT + 3) / 4;
const DWP = (COUT * CIN * KK + 3) / 4 * 4;
const DBP = (COUT + 3) / 4 * 4;
/** Vec4s per channel plane. */
const HW4 = H * VW;

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read> packed: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> pack_out: array<vec4f>;
@group(0) @binding(6) var<storage, read> weight: array<f32>;
@group(0) @binding(7) var<storage, read> grad_out: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> partial: array<f32>;
@group(0) @binding(9) var<storage, read> partial4: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> dw: array<vec4f>;
@group(0) @binding(11) var<storage, read_write> db: array<vec4f>;

/** Up to 16 pixels of a row; the vec4s past SV, or past the end of the row, are zero. */
struct Row {
  v0: vec4f,
  v1: vec4f,
  v2: vec4f,
  v3: vec4f,
}

/** A row as seen by the taps kx = 0, 1, 2: shifted right by one pixel, as is, shifted left. */
struct Taps {
  l: Row,
  c: Row,
  r: Row,
}

/** Accumulators of 4 output channels (c0 … c3) over one row segment. */
struct Quad {
  c0: Row,
  c1: Row,
  c2: Row,
  c3: Row,
}

/** One quad of output channels over output rows h … h + 3 (rows past RH stay unused). */
struct QuadRows {
  r0: Quad,
  r1: Quad,
  r2: Quad,
  r3: Quad,
}

fn linear_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * 64u;
}

/** Whether vec4 j of row segment seg lies inside the row. */
fn in_row(seg: u32, j: u32) -> bool {
  return j < SV && seg * SV + j < VW;
}

// One row loader per buffer: WGSL functions cannot take pointers to storage buffers.

/** Row segment seg of the src row starting at vec4 index base. */
fn src_row(base: u32, seg: u32) -> Row {
  let i = base + seg * SV;
  var r = Row();
  r.v0 = src[i];
  if (in_row(seg, 1u)) { r.v1 = src[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = src[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = src[i + 3u]; }
  return r;
}

/** Row segment seg of the grad_out row starting at vec4 index base. */
fn grad_out_row(base: u32, seg: u32) -> Row {
  let i = base + seg * SV;
  var r = Row();
  r.v0 = grad_out[i];
  if (in_row(seg, 1u)) { r.v1 = grad_out[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = grad_out[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = grad_out[i + 3u]; }
  return r;
}

// ---- padding: what lies outside the image (zeros, or the other side with WRAP_X / WRAP_Y) ----

/** The pixel left of the src row starting at vec4 index base. */
fn pixel_before_row(base: u32) -> f32 {
  if (WRAP_X) { return src[base + VW - 1u].w; }
  return 0.0;
}

/** The pixel right of the src row starting at vec4 index base. */
fn pixel_after_row(base: u32) -> f32 {
  if (WRAP_X) { return src[base].x; }
  return 0.0;
}

/** Row iy (below zero it arrives wrapped around as u32) inside the image, or H: a zero row. */
fn padded_row(iy: u32) -> u32 {
  if (iy < H) { return iy; }
  if (WRAP_Y) { return (iy + H) % H; } // −1 → H − 1, H → 0
  return H;
}

/** The src row segment and its one-pixel shifts (padding at the row ends). */
fn src_taps(base: u32, seg: u32) -> Taps {
  let c = src_row(base, seg);
  var before = pixel_before_row(base);
  var after = pixel_after_row(base);
  if (seg > 0u) { before = src[base + seg * SV - 1u].w; }
  if ((seg + 1u) * SV < VW) { after = src[base + (seg + 1u) * SV].x; }
  // Past the segment's valid vec4s everything is zero, so the shifts need no further masking.
  let l = Row(
    vec4(before, c.v0.xyz),
    vec4(c.v0.w, c.v1.xyz),
    vec4(c.v1.w, c.v2.xyz),
    vec4(c.v2.w, c.v3.xyz),
  );
  var next = after;
  if (SV > 1) { next = c.v1.x; }
  var r = Row(vec4(c.v0.yzw, next), vec4(), vec4(), vec4());
  if (SV > 1) { r.v1 = vec4(c.v1.yzw, select(c.v2.x, after, SV == 2)); }
  if (SV > 2) { r.v2 = vec4(c.v2.yzw, select(c.v3.x, after, SV == 3)); }
  if (SV > 3) { r.v3 = vec4(c.v3.yzw, after); }
  return Taps(l, c, r);
}

// ---- conv: forward and input gradient ----

/** a + w · x over the vec4s a row segment holds. */
fn mac(a: Row, w: f32, x: Row) -> Row {
  var o = a;
  o.v0 += w * x.v0;
  if (SV > 1) { o.v1 += w * x.v1; }
  if (SV > 2) { o.v2 += w * x.v2; }
  if (SV > 3) { o.v3 += w * x.v3; }
  return o;
}

/** Where one invocation's output tile lies: rows h … h + RH − 1. */
struct Place {
  n: u32,
  tile: u32,
  h: u32,
  seg: u32,
}

// Invocations next to each other differ in h, then n: they share the tile's weights.
fn place(id: u32) -> Place {
  let seg = id % SEGS;
  let h = id / SEGS % ROW_BLOCKS * RH;
  let n = id / (SEGS * ROW_BLOCKS) % SAMPLE_BLOCKS * NB;
  return Place(n, id / (SEGS * ROW_BLOCKS * SAMPLE_BLOCKS), h, seg);
}

/** r where keep, zeros elsewhere. */
fn row_or_zero(r: Row, keep: bool) -> Row {
  return Row(
    select(vec4f(), r.v0, keep),
    select(vec4f(), r.v1, keep),
    select(vec4f(), r.v2, keep),
    select(vec4f(), r.v3, keep),
  );
}

/**
 * src row iy of the plane at vec4 base with its shifts; outside the image, see padded_row.
 * A padding row is an edge row loaded and then zeroed rather than a branch around the load:
 * inside the conv loop that branch doubled lavapipe's compile of every convolution (a 16×16
 * batch-128 pipeline 11.4 s against 5.4 s) for a sixth of the loads of the edge tiles.
 */
fn src_taps_at(base: u32, iy: u32, seg: u32) -> Taps {
  let row = padded_row(iy);
  let inside = row != H;
  let at = base + min(row, H - 1u) * VW;
  if (K == 1) { return Taps(Row(), row_or_zero(src_row(at, seg), inside), Row()); }
  let t = src_taps(at, seg);
  return Taps(row_or_zero(t.l, inside), row_or_zero(t.c, inside), row_or_zero(t.r, inside));
}

/** The K·K taps of one output channel: kernel row ky in k_ky, kx = 0, 1, 2 in x, y, z. */
struct ChannelKernel {
  k0: vec3f,
  k1: vec3f,
  k2: vec3f,
}

/** a + one kernel row applied to one vec4: tap by tap, kx = 0, 1, 2. */
fn taps3(a: vec4f, k: vec3f, l: vec4f, c: vec4f, r: vec4f) -> vec4f {
  return a + k.x * l + k.y * c + k.z * r;
}

/** a + the K·K taps of one vec4 of the row segment, kernel row by kernel row. */
fn taps9(a: vec4f, k: ChannelKernel, l0: vec4f, c0: vec4f, r0: vec4f, l1: vec4f, c1: vec4f,
  r1: vec4f, l2: vec4f, c2: vec4f, r2: vec4f) -> vec4f {
  return taps3(taps3(taps3(a, k.k0, l0, c0, r0), k.k1, l1, c1, r1), k.k2, l2, c2, r2);
}

/**
 * One output channel's accumulator row plus its kernel applied to input rows x0, x1, x2 (kernel
 * rows ky = 0, 1, 2; with K = 1, x0 and the tap k0.y alone). Every tap of a vec4 is summed
 * before the next vec4: an accumulator is loaded and stored once per input channel, where a
 * tap-by-tap order would reload it for each of the K·K taps (the accumulators outnumber the
 * registers many times over).
 */
fn conv_channel(a: Row, k: ChannelKernel, x0: Taps, x1: Taps, x2: Taps) -> Row {
  if (K == 1) { return mac(a, k.k0.y, x0.c); }
  var o = a;
  o.v0 = taps9(o.v0, k, x0.l.v0, x0.c.v0, x0.r.v0, x1.l.v0, x1.c.v0, x1.r.v0, x2.l.v0, x2.c.v0, x2.r.v0);
  if (SV > 1) {
    o.v1 = taps9(o.v1, k, x0.l.v1, x0.c.v1, x0.r.v1, x1.l.v1, x1.c.v1, x1.r.v1, x2.l.v1, x2.c.v1, x2.r.v1);
  }
  if (SV > 2) {
    o.v2 = taps9(o.v2, k, x0.l.v2, x0.c.v2, x0.r.v2, x1.l.v2, x1.c.v2, x1.r.v2, x2.l.v2, x2.c.v2, x2.r.v2);
  }
  if (SV > 3) {
    o.v3 = taps9(o.v3, k, x0.l.v3, x0.c.v3, x0.r.v3, x1.l.v3, x1.c.v3, x1.r.v3, x2.l.v3, x2.c.v3, x2.r.v3);
  }
  return o;
}

/** The K·K taps of one input channel for a quad of output channels: tap (ky, kx) as a vec4. */
struct QuadKernel {
  l0: vec4f,
  c0: vec4f,
  r0: vec4f,
  l1: vec4f,
  c1: vec4f,
  r1: vec4f,
  l2: vec4f,
  c2: vec4f,
  r2: vec4f,
}

/** Input channel ci's taps for output channels tile · TN + 4q … + 3 (only c0 when K = 1). */
fn quad_kernel(ci: u32, tile: u32, q: u32) -> QuadKernel {
  let wi = (ci * KK * COUTP + tile * TN) / 4u + q;
  let tap = COUTP / 4u; // vec4s between taps
  var k = QuadKernel();
  if (K == 1) {
    k.c0 = packed[wi];
    return k;
  }
  k.l0 = packed[wi];
  k.c0 = packed[wi + tap];
  k.r0 = packed[wi + 2u * tap];
  k.l1 = packed[wi + 3u * tap];
  k.c1 = packed[wi + 4u * tap];
  k.r1 = packed[wi + 5u * tap];
  k.l2 = packed[wi + 6u * tap];
  k.c2 = packed[wi + 7u * tap];
  k.r2 = packed[wi + 8u * tap];
  return k;
}

/** Output channel j of a quad: its K·K taps. */
fn channel_kernel(k: QuadKernel, j: u32) -> ChannelKernel {
  return ChannelKernel(vec3(k.l0[j], k.c0[j], k.r0[j]), vec3(k.l1[j], k.c1[j], k.r1[j]),
    vec3(k.l2[j], k.c2[j], k.r2[j]));
}

/** One output row of a quad plus its 4 channels' kernels applied to input rows x0, x1, x2. */
fn conv_quad(a: Quad, k: QuadKernel, x0: Taps, x1: Taps, x2: Taps) -> Quad {
  return Quad(
    conv_channel(a.c0, channel_kernel(k, 0u), x0, x1, x2),
    conv_channel(a.c1, channel_kernel(k, 1u), x0, x1, x2),
    conv_channel(a.c2, channel_kernel(k, 2u), x0, x1, x2),
    conv_channel(a.c3, channel_kernel(k, 3u), x0, x1, x2),
  );
}

// Accumulators go by pointer: copying them whole, unused rows included, makes llvmpipe's
// shader compiler several times slower.

/** Input rows h − PAD … h + RH + PAD − 1 of one channel plane (those past them stay zero). */
struct InputRows {
  x0: Taps,
  x1: Taps,
  x2: Taps,
  x3: Taps,
  x4: Taps,
  x5: Taps,
}

/** The input rows of the plane at vec4 base from row top (wrapped around below zero). */
fn input_rows(base: u32, top: u32, seg: u32) -> InputRows {
  var x = InputRows();
  x.x0 = src_taps_at(base, top, seg);
  if (RH + K - 1 > 1) { x.x1 = src_taps_at(base, top + 1u, seg); }
  if (RH + K - 1 > 2) { x.x2 = src_taps_at(base, top + 2u, seg); }
  if (RH + K - 1 > 3) { x.x3 = src_taps_at(base, top + 3u, seg); }
  if (RH + K - 1 > 4) { x.x4 = src_taps_at(base, top + 4u, seg); }
  if (RH + K - 1 > 5) { x.x5 = src_taps_at(base, top + 5u, seg); }
  return x;
}

/** Adds one input channel's rows to a quad's RH output rows. */
fn conv_rows(a: ptr<function, QuadRows>, k: QuadKernel, x: InputRows) {
  (*a).r0 = conv_quad((*a).r0, k, x.x0, x.x1, x.x2);
  if (RH > 1) { (*a).r1 = conv_quad((*a).r1, k, x.x1, x.x2, x.x3); }
  if (RH > 2) {
    (*a).r2 = conv_quad((*a).r2, k, x.x2, x.x3, x.x4);
    (*a).r3 = conv_quad((*a).r3, k, x.x3, x.x4, x.x5);
  }
}

/** Adds one input channel to a quad of both samples (a: the first, b: the second if NB = 2). */
fn conv_samples(a: ptr<function, QuadRows>, b: ptr<function, QuadRows>, k: QuadKernel,
  x: InputRows, y: InputRows) {
  conv_rows(a, k, x);
  if (NB > 1) { conv_rows(b, k, y); }
}

// A 1×1 accumulator meets one tap per input channel, so it takes four input channels in a row:
// loaded and stored once per four products instead of once per product (same order of sums).

/** The rows of input channels ci … ci + 3 (x_i: channel ci + i) of a 1×1 convolution. */
struct ChannelRows {
  x0: Row,
  x1: Row,
  x2: Row,
  x3: Row,
}

/** The row at vec4 offset row_at of input channels ci … ci + 3, whose first plane is at plane. */
fn channel_rows(plane: u32, row_at: u32, seg: u32) -> ChannelRows {
  let i = plane + row_at;
  return ChannelRows(
    src_row(i, seg),
    src_row(i + HW4, seg),
    src_row(i + 2u * HW4, seg),
    src_row(i + 3u * HW4, seg),
  );
}

/** a + w.x · x0 + w.y · x1 + w.z · x2 + w.w · x3, summed left to right. */
fn mac4(a: vec4f, w: vec4f, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f) -> vec4f {
  return a + w.x * x0 + w.y * x1 + w.z * x2 + w.w * x3;
}

/** One output channel's row plus its weights w (of the four input channels) times their rows. */
fn mac_channels(a: Row, w: vec4f, x: ChannelRows) -> Row {
  var o = a;
  o.v0 = mac4(o.v0, w, x.x0.v0, x.x1.v0, x.x2.v0, x.x3.v0);
  if (SV > 1) { o.v1 = mac4(o.v1, w, x.x0.v1, x.x1.v1, x.x2.v1, x.x3.v1); }
  if (SV > 2) { o.v2 = mac4(o.v2, w, x.x0.v2, x.x1.v2, x.x2.v2, x.x3.v2); }
  if (SV > 3) { o.v3 = mac4(o.v3, w, x.x0.v3, x.x1.v3, x.x2.v3, x.x3.v3); }
  return o;
}

/** An output channel quad's row plus input channels ci … ci + 3 (k_i: channel ci + i's weights). */
fn quad_channels(a: Quad, k0: vec4f, k1: vec4f, k2: vec4f, k3: vec4f, x: ChannelRows) -> Quad {
  return Quad(
    mac_channels(a.c0, vec4(k0.x, k1.x, k2.x, k3.x), x),
    mac_channels(a.c1, vec4(k0.y, k1.y, k2.y, k3.y), x),
    mac_channels(a.c2, vec4(k0.z, k1.z, k2.z, k3.z), x),
    mac_channels(a.c3, vec4(k0.w, k1.w, k2.w, k3.w), x),
  );
}

/** Adds input channels ci … ci + 3 to quad q of both samples (1×1: one row per tile). */
fn conv_channels(a: ptr<function, QuadRows>, b: ptr<function, QuadRows>, ci: u32, tile: u32,
  q: u32, x: ChannelRows, y: ChannelRows) {
  let k0 = quad_kernel(ci, tile, q).c0;
  let k1 = quad_kernel(ci + 1u, tile, q).c0;
  let k2 = quad_kernel(ci + 2u, tile, q).c0;
  let k3 = quad_kernel(ci + 3u, tile, q).c0;
  (*a).r0 = quad_channels((*a).r0, k0, k1, k2, k3, x);
  if (NB > 1) { (*b).r0 = quad_channels((*b).r0, k0, k1, k2, k3, y); }
}

/** The dst vec4 index where row p.h + r, output channel co of p's row segment starts. */
fn dst_index(p: Place, r: u32, co: u32) -> u32 {
  return ((p.n * COUT + co) * H + p.h + r) * VW + p.seg * SV;
}

fn add_rows(a: Row, b: Row) -> Row {
  return Row(a.v0 + b.v0, a.v1 + b.v1, a.v2 + b.v2, a.v3 + b.v3);
}

fn add_scalar(a: Row, b: f32) -> Row {
  return Row(a.v0 + b, a.v1 + b, a.v2 + b, a.v3 + b);
}

fn dst_row(i: u32, seg: u32) -> Row {
  var r = Row();
  r.v0 = dst[i];
  if (in_row(seg, 1u)) { r.v1 = dst[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = dst[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = dst[i + 3u]; }
  return r;
}

fn residual_row(i: u32, seg: u32) -> Row {
  var r = Row();
  r.v0 = residual[i];
  if (in_row(seg, 1u)) { r.v1 = residual[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = residual[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = residual[i + 3u]; }
  return r;
}

fn store_row(i: u32, seg: u32, r: Row) {
  dst[i] = r.v0;
  if (in_row(seg, 1u)) { dst[i + 1u] = r.v1; }
  if (in_row(seg, 2u)) { dst[i + 2u] = r.v2; }
  if (in_row(seg, 3u)) { dst[i + 3u] = r.v3; }
}

/** Writes accumulator row acc of output channel p.tile · TN + j, row p.h + r, with the epilogue. */
fn store_channel(p: Place, r: u32, j: u32, acc: Row) {
  let co = p.tile * TN + j;
  if (COUT % TN != 0 && co >= COUT) { return; }
  let i = dst_index(p, r, co);
  var y = acc;
  if (BIAS) { y = add_scalar(y, bias[co]); }
  if (RESIDUAL) { y = add_rows(y, residual_row(i, p.seg)); }
  if (ACCUM) { y = add_rows(y, dst_row(i, p.seg)); }
  store_row(i, p.seg, y);
}

fn store_quad(p: Place, r: u32, j: u32, q: Quad) {
  store_channel(p, r, j, q.c0);
  store_channel(p, r, j + 1u, q.c1);
  store_channel(p, r, j + 2u, q.c2);
  store_channel(p, r, j + 3u, q.c3);
}

// Straight-line code with constant indices: extracting rows in a loop would index the
// accumulators dynamically.
fn store_rows(p: Place, j: u32, a: ptr<function, QuadRows>) {
  store_quad(p, 0u, j, (*a).r0);
  if (RH > 1 && p.h + 1u < H) { store_quad(p, 1u, j, (*a).r1); }
  if (RH > 2) {
    if (p.h + 2u < H) { store_quad(p, 2u, j, (*a).r2); }
    if (p.h + 3u < H) { store_quad(p, 3u, j, (*a).r3); }
  }
}

/** Writes the TN output channels (quads a0 … a3, those past TN / 4 unused) of tile p. */
fn store_quads(p: Place, a0: ptr<function, QuadRows>, a1: ptr<function, QuadRows>,
  a2: ptr<function, QuadRows>, a3: ptr<function, QuadRows>) {
  store_rows(p, 0u, a0);
  if (TN > 4) { store_rows(p, 4u, a1); }
  if (TN > 8) {
    store_rows(p, 8u, a2);
    store_rows(p, 12u, a3);
  }
}

// Workgroups of CONV_WG: 16 on CPU adapters, where each workgroup runs on one thread and a
// small-batch layer has only a few dozen invocations; 64 on GPUs (lib/nn/conv2d.ts).
@compute @workgroup_size(CONV_WG)
fn conv(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * CONV_WG;
  if (id >= INVOCATIONS) { return; }
  let p = place(id);
  // Accumulators of output channel quads 0 … 3 (those past TN / 4 stay unused).
  var a0 = QuadRows();
  var a1 = QuadRows();
  var a2 = QuadRows();
  var a3 = QuadRows();
  // and of the second sample when NB = 2.
  var b0 = QuadRows();
  var b1 = QuadRows();
  var b2 = QuadRows();
  var b3 = QuadRows();
  // The input's channel count comes from src's length, not from CIN (0 here): layers that
  // differ only in it share one pipeline, and creating pipelines is most of start-up, while
  // all it decides in this loop is the trip count.
  let cin = arrayLength(&src) / (N * HW4);
  if (CIN_STEP == 4) {
    // 1×1, Cin a multiple of 4: four input channels at a time (see conv_channels).
    for (var ci = 0u; ci < cin; ci += 4u) {
      let plane = (p.n * cin + ci) * HW4;
      let x = channel_rows(plane, p.h * VW, p.seg);
      var y = ChannelRows();
      if (NB > 1) { y = channel_rows(plane + cin * HW4, p.h * VW, p.seg); }
      conv_channels(&a0, &b0, ci, p.tile, 0u, x, y);
      if (TN > 4) { conv_channels(&a1, &b1, ci, p.tile, 1u, x, y); }
      if (TN > 8) {
        conv_channels(&a2, &b2, ci, p.tile, 2u, x, y);
        conv_channels(&a3, &b3, ci, p.tile, 3u, x, y);
      }
    }
  } else {
    for (var ci = 0u; ci < cin; ci++) {
      // Input rows h − PAD … h + RH − 1 + PAD, loaded once for every kernel row they meet;
      // y: the same rows of the second sample, when NB = 2.
      let plane = (p.n * cin + ci) * HW4;
      let top = p.h - PAD; // wraps around below zero
      let x = input_rows(plane, top, p.seg);
      var y = InputRows();
      if (NB > 1) { y = input_rows(plane + cin * HW4, top, p.seg); }
      conv_samples(&a0, &b0, quad_kernel(ci, p.tile, 0u), x, y);
      if (TN > 4) { conv_samples(&a1, &b1, quad_kernel(ci, p.tile, 1u), x, y); }
      if (TN > 8) {
        conv_samples(&a2, &b2, quad_kernel(ci, p.tile, 2u), x, y);
        conv_samples(&a3, &b3, quad_kernel(ci, p.tile, 3u), x, y);
      }
    }
  }
  store_quads(p, &a0, &a1, &a2, &a3);
  if (NB > 1) { store_quads(Place(p.n + 1u, p.tile, p.h, p.seg), &b0, &b1, &b2, &b3); }
}

/** Packed weight (co, ci, tap): weight[co][ci][tap], or weight[ci][co][KK − 1 − tap] when FLIP. */
fn unpacked_weight(co: u32, ci: u32, tap: u32) -> f32 {
  if (co >= COUT) { return 0.0; }
  if (FLIP) { return weight[(ci * COUT + co) * KK + KK - 1u - tap]; }
  return weight[(co * CIN + ci) * KK + tap];
}

// pack_out[ci][tap][co … co + 3] for one vec4 of the packed layout; zero for co ≥ COUT.
// When FLIP, CIN is the layer's output and COUT its input channel count.
@compute @workgroup_size(64)
fn pack_weights(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= CIN * KK * COUTP / 4) { return; }
  let co = id % (COUTP / 4) * 4u;
  let tap = id / (COUTP / 4) % KK;
  let ci = id / (COUTP / 4 * KK);
  pack_out[id] = vec4(
    unpacked_weight(co, ci, tap),
    unpacked_weight(co + 1u, ci, tap),
    unpacked_weight(co + 2u, ci, tap),
    unpacked_weight(co + 3u, ci, tap),
  );
}

// ---- weight_grad, weight_grad_reduce ----

/**
 * Sums of one (output, input) channel pair: kernel rows ky = 0, 1, 2 as vec3s over kx.
 * With K = 1 only k1.y is used.
 */
struct Pair {
  k0: vec3f,
  k1: vec3f,
  k2: vec3f,
}

/** The pairs of one input channel with the 4 output channels of a tile. */
struct Pairs {
  o0: Pair,
  o1: Pair,
  o2: Pair,
  o3: Pair,
}

/** The grad_out rows of the 4 output channels of a tile. */
struct DyRows {
  d0: Row,
  d1: Row,
  d2: Row,
  d3: Row,
}

/** a + Σ over 4 pixels of d · (x shifted right, x, x shifted left). */
fn corr4(a: vec3f, d: vec4f, l: vec4f, c: vec4f, r: vec4f) -> vec3f {
  var s = a;
  if (K == 1) {
    s.y += dot(d, c);
    return s;
  }
  s += d.x * vec3(l.x, c.x, r.x);
  s += d.y * vec3(l.y, c.y, r.y);
  s += d.z * vec3(l.z, c.z, r.z);
  s += d.w * vec3(l.w, c.w, r.w);
  return s;
}

/** a + Σ_w d[w] · (x[w − 1], x[w], x[w + 1]) over the row segment. */
fn corr_row(a: vec3f, d: Row, x: Taps) -> vec3f {
  var s = corr4(a, d.v0, x.l.v0, x.c.v0, x.r.v0);
  if (SV > 1) { s = corr4(s, d.v1, x.l.v1, x.c.v1, x.r.v1); }
  if (SV > 2) { s = corr4(s, d.v2, x.l.v2, x.c.v2, x.r.v2); }
  if (SV > 3) { s = corr4(s, d.v3, x.l.v3, x.c.v3, x.r.v3); }
  return s;
}

// Input row iy meets the dy rows iy + 1 (ky = 0), iy (ky = 1) and iy − 1 (ky = 2).
fn corr_pair(a: Pair, dn: Row, dc: Row, dp: Row, x: Taps) -> Pair {
  if (K == 1) { return Pair(a.k0, corr_row(a.k1, dc, x), a.k2); }
  return Pair(corr_row(a.k0, dn, x), corr_row(a.k1, dc, x), corr_row(a.k2, dp, x));
}

// One x row meets every dy row of the tile right after it is loaded.
fn corr_pairs(a: Pairs, dn: DyRows, dc: DyRows, dp: DyRows, x: Taps) -> Pairs {
  return Pairs(
    corr_pair(a.o0, dn.d0, dc.d0, dp.d0, x),
    corr_pair(a.o1, dn.d1, dc.d1, dp.d1, x),
    corr_pair(a.o2, dn.d2, dc.d2, dp.d2, x),
    corr_pair(a.o3, dn.d3, dc.d3, dp.d3, x),
  );
}

fn row_sum(d: Row) -> vec4f {
  var s = d.v0;
  if (SV > 1) { s += d.v1; }
  if (SV > 2) { s += d.v2; }
  if (SV > 3) { s += d.v3; }
  return s;
}

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

/** Writes split s's sums of pair (co, ci), if the pair exists. */
fn store_pair(a: Pair, s: u32, co: u32, ci: u32) {
  if (co >= COUT || ci >= CIN) { return; }
  let i = s * DWP + (co * CIN + ci) * KK;
  if (K == 1) {
    partial[i] = a.k1.y;
    return;
  }
  partial[i] = a.k0.x;
  partial[i + 1u] = a.k0.y;
  partial[i + 2u] = a.k0.z;
  partial[i + 3u] = a.k1.x;
  partial[i + 4u] = a.k1.y;
  partial[i + 5u] = a.k1.z;
  partial[i + 6u] = a.k2.x;
  partial[i + 7u] = a.k2.y;
  partial[i + 8u] = a.k2.z;
}

fn store_pairs(a: Pairs, s: u32, co: u32, ci: u32) {
  store_pair(a.o0, s, co, ci);
  store_pair(a.o1, s, co + 1u, ci);
  store_pair(a.o2, s, co + 2u, ci);
  store_pair(a.o3, s, co + 3u, ci);
}

/** grad_out row segment (n, co, h, seg), zero for co ≥ COUT. */
fn dy_row(n: u32, co: u32, h: u32, seg: u32) -> Row {
  if (COUT % 4 != 0 && co >= COUT) { return Row(); }
  return grad_out_row(((n * COUT + co) * H + h) * VW, seg);
}

fn dy_rows(n: u32, co: u32, h: u32, seg: u32) -> DyRows {
  return DyRows(
    dy_row(n, co, h, seg),
    dy_row(n, co + 1u, h, seg),
    dy_row(n, co + 2u, h, seg),
    dy_row(n, co + 3u, h, seg),
  );
}

/** src (x) row segment (n, ci, iy, seg) with its shifts, zero for ci ≥ CIN. */
fn x_taps(n: u32, ci: u32, iy: u32, seg: u32) -> Taps {
  if (CIN % 4 != 0 && ci >= CIN) { return Taps(); }
  return src_taps_at((n * CIN + ci) * H * VW, iy, seg);
}

// Invocation (s, co quad, ci quad) sums all K·K taps of 4 × 4 channel pairs over
// row segment s % SEGS of the samples n ≡ s / SEGS (mod S / SEGS). Each x row is loaded
// once; the dy rows it meets (iy − 1, iy, iy + 1) roll through registers.
@compute @workgroup_size(64)
fn weight_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= S * CO_QUADS * CI_QUADS) { return; }
  let ci = id % CI_QUADS * 4u;
  let co = id / CI_QUADS % CO_QUADS * 4u;
  let s = id / (CI_QUADS * CO_QUADS);
  let seg = s % SEGS;
  var a0 = Pairs();
  var a1 = Pairs();
  var a2 = Pairs();
  var a3 = Pairs();
  var dsum = Row(); // Σ dy of each output channel (as 4 lanes), for db
  for (var n = s / SEGS; n < N; n += S / SEGS) {
    var dp = DyRows();
    var dc = DyRows();
    var dn = DyRows();
    if (K == 3) { dn = dy_rows(n, co, 0u, seg); }
    for (var iy = 0u; iy < H; iy++) {
      if (K == 3) {
        dp = dc;
        dc = dn;
        dn = DyRows();
        if (iy + 1u < H) { dn = dy_rows(n, co, iy + 1u, seg); }
      } else {
        dc = dy_rows(n, co, iy, seg);
      }
      a0 = corr_pairs(a0, dn, dc, dp, x_taps(n, ci, iy, seg));
      a1 = corr_pairs(a1, dn, dc, dp, x_taps(n, ci + 1u, iy, seg));
      a2 = corr_pairs(a2, dn, dc, dp, x_taps(n, ci + 2u, iy, seg));
      a3 = corr_pairs(a3, dn, dc, dp, x_taps(n, ci + 3u, iy, seg));
      dsum = add_rows(dsum, Row(row_sum(dc.d0), row_sum(dc.d1), row_sum(dc.d2), row_sum(dc.d3)));
    }
  }
  store_pairs(a0, s, co, ci);
  store_pairs(a1, s, co, ci + 1u);
  store_pairs(a2, s, co, ci + 2u);
  store_pairs(a3, s, co, ci + 3u);
  if (ci == 0u) {
    let i = S * DWP + s * DBP + co;
    partial[i] = hsum(dsum.v0);
    if (co + 1u < COUT) { partial[i + 1u] = hsum(dsum.v1); }
    if (co + 2u < COUT) { partial[i + 2u] = hsum(dsum.v2); }
    if (co + 3u < COUT) { partial[i + 3u] = hsum(dsum.v3); }
  }
}

// ---- weight_grad_1x1 ----

/** vec4 partial sums of 8 channel pairs (one output channel × 8 input channels), or 8 rows. */
struct Oct {
  a0: vec4f,
  a1: vec4f,
  a2: vec4f,
  a3: vec4f,
  a4: vec4f,
  a5: vec4f,
  a6: vec4f,
  a7: vec4f,
}

/** 16 × 8 channel pairs: o_j holds output channel co + j with the 8 input channels. */
struct PairTile {
  o0: Oct,
  o1: Oct,
  o2: Oct,
  o3: Oct,
  o4: Oct,
  o5: Oct,
  o6: Oct,
  o7: Oct,
  o8: Oct,
  o9: Oct,
  o10: Oct,
  o11: Oct,
  o12: Oct,
  o13: Oct,
  o14: Oct,
  o15: Oct,
}

fn fma_oct(a: Oct, d: vec4f, x: Oct) -> Oct {
  return Oct(
    fma(d, x.a0, a.a0),
    fma(d, x.a1, a.a1),
    fma(d, x.a2, a.a2),
    fma(d, x.a3, a.a3),
    fma(d, x.a4, a.a4),
    fma(d, x.a5, a.a5),
    fma(d, x.a6, a.a6),
    fma(d, x.a7, a.a7),
  );
}

fn add_oct(a: Oct, b: Oct) -> Oct {
  return Oct(a.a0 + b.a0, a.a1 + b.a1, a.a2 + b.a2, a.a3 + b.a3,
    a.a4 + b.a4, a.a5 + b.a5, a.a6 + b.a6, a.a7 + b.a7);
}

/** 4 pixels of 8 consecutive channel planes of src; base indexes the first. */
fn src_oct(base: u32) -> Oct {
  return Oct(src[base + 0u * HW4], src[base + 1u * HW4], src[base + 2u * HW4], src[base + 3u * HW4],
    src[base + 4u * HW4], src[base + 5u * HW4], src[base + 6u * HW4], src[base + 7u * HW4]);
}

/** 4 pixels of 8 consecutive channel planes of grad_out; base indexes the first. */
fn grad_out_oct(base: u32) -> Oct {
  return Oct(grad_out[base + 0u * HW4], grad_out[base + 1u * HW4], grad_out[base + 2u * HW4], grad_out[base + 3u * HW4],
    grad_out[base + 4u * HW4], grad_out[base + 5u * HW4], grad_out[base + 6u * HW4], grad_out[base + 7u * HW4]);
}

// Adds the products of 4 pixels of dy (8 output channels from co + first) and x.
fn fma_pairs_lo(t: ptr<function, PairTile>, d: Oct, x: Oct) {
  (*t).o0 = fma_oct((*t).o0, d.a0, x);
  (*t).o1 = fma_oct((*t).o1, d.a1, x);
  (*t).o2 = fma_oct((*t).o2, d.a2, x);
  (*t).o3 = fma_oct((*t).o3, d.a3, x);
  (*t).o4 = fma_oct((*t).o4, d.a4, x);
  (*t).o5 = fma_oct((*t).o5, d.a5, x);
  (*t).o6 = fma_oct((*t).o6, d.a6, x);
  (*t).o7 = fma_oct((*t).o7, d.a7, x);
}

fn fma_pairs_hi(t: ptr<function, PairTile>, d: Oct, x: Oct) {
  (*t).o8 = fma_oct((*t).o8, d.a0, x);
  (*t).o9 = fma_oct((*t).o9, d.a1, x);
  (*t).o10 = fma_oct((*t).o10, d.a2, x);
  (*t).o11 = fma_oct((*t).o11, d.a3, x);
  (*t).o12 = fma_oct((*t).o12, d.a4, x);
  (*t).o13 = fma_oct((*t).o13, d.a5, x);
  (*t).o14 = fma_oct((*t).o14, d.a6, x);
  (*t).o15 = fma_oct((*t).o15, d.a7, x);
}

/** The horizontal sums of an Oct's 8 vec4s, to partial[i … i + 7]. */
fn store_hsums(o: Oct, i: u32) {
  partial[i + 0u] = hsum(o.a0);
  partial[i + 1u] = hsum(o.a1);
  partial[i + 2u] = hsum(o.a2);
  partial[i + 3u] = hsum(o.a3);
  partial[i + 4u] = hsum(o.a4);
  partial[i + 5u] = hsum(o.a5);
  partial[i + 6u] = hsum(o.a6);
  partial[i + 7u] = hsum(o.a7);
}

/** Writes split s's sums of output channel co with input channels ci … ci + 7. */
fn store_oct(a: Oct, s: u32, co: u32, ci: u32) {
  store_hsums(a, s * DWP + co * CIN + ci);
}

/** Writes split s's sums of a 16 × 8 pair tile: output channels co …, input channels ci …. */
fn store_tile(t: ptr<function, PairTile>, s: u32, co: u32, ci: u32) {
  store_oct((*t).o0, s, co + 0u, ci);
  store_oct((*t).o1, s, co + 1u, ci);
  store_oct((*t).o2, s, co + 2u, ci);
  store_oct((*t).o3, s, co + 3u, ci);
  store_oct((*t).o4, s, co + 4u, ci);
  store_oct((*t).o5, s, co + 5u, ci);
  store_oct((*t).o6, s, co + 6u, ci);
  store_oct((*t).o7, s, co + 7u, ci);
  store_oct((*t).o8, s, co + 8u, ci);
  store_oct((*t).o9, s, co + 9u, ci);
  store_oct((*t).o10, s, co + 10u, ci);
  store_oct((*t).o11, s, co + 11u, ci);
  store_oct((*t).o12, s, co + 12u, ci);
  store_oct((*t).o13, s, co + 13u, ci);
  store_oct((*t).o14, s, co + 14u, ci);
  store_oct((*t).o15, s, co + 15u, ci);
}

// Invocation (s, ci tile, co tile) sums 16 × CI_TILE channel pairs over the pixels of the samples
// n ≡ s (mod S); the ci tile 0 also sums dy for db. Neighbouring invocations share the ci tile.
// Each loaded dy oct meets 16 input channels where CI_TILE is 16 (u holds the second eight):
// 1.15–1.23× the 16 × 8 tile's speed by CPU time (scripts/ab.ts --family "conv 1×1 dw").
@compute @workgroup_size(64)
fn weight_grad_1x1(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  // Tiles, declared here so that only this entry point's module needs CI_TILE. It runs only
  // when COUT % 16 = CIN % CI_TILE = 0; the floor of 1 keeps other shapes compiling, since WGSL
  // makes a division by a constant zero an error (Chromium enforces it).
  const CO_TILES = max(COUT / 16, 1);
  const CI_TILES = max(CIN / CI_TILE, 1);
  let id = linear_id(gid, nwg);
  if (id >= S * CO_TILES * CI_TILES) { return; }
  let co = id % CO_TILES * 16u;
  let ci = id / CO_TILES % CI_TILES * CI_TILE;
  let s = id / (CI_TILES * CO_TILES);
  var t = PairTile();
  var u = PairTile();
  var dlo = Oct();
  var dhi = Oct();
  for (var n = s; n < N; n += S) {
    let xb = (n * CIN + ci) * HW4;
    let db = (n * COUT + co) * HW4;
    for (var q = 0u; q < HW4; q++) {
      let x = src_oct(xb + q);
      var y = Oct();
      if (CI_TILE == 16) { y = src_oct(xb + 8u * HW4 + q); }
      let d0 = grad_out_oct(db + q);
      fma_pairs_lo(&t, d0, x);
      if (CI_TILE == 16) { fma_pairs_lo(&u, d0, y); }
      let d1 = grad_out_oct(db + 8u * HW4 + q);
      fma_pairs_hi(&t, d1, x);
      if (CI_TILE == 16) { fma_pairs_hi(&u, d1, y); }
      if (ci == 0u) {
        dlo = add_oct(dlo, d0);
        dhi = add_oct(dhi, d1);
      }
    }
  }
  store_tile(&t, s, co, ci);
  if (CI_TILE == 16) { store_tile(&u, s, co, ci + 8u); }
  if (ci == 0u) {
    store_hsums(dlo, S * DWP + s * DBP + co);
    store_hsums(dhi, S * DWP + s * DBP + co + 8u);
  }
}

@compute @workgroup_size(64)
fn weight_grad_reduce(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let id = linear_id(gid, nwg);
  if (id < DWP / 4) {
    var v = partial4[id];
    for (var s = 1u; s < S; s++) { v += partial4[s * DWP / 4 + id]; }
    dw[id] = v;
  } else if (id < (DWP + DBP) / 4) {
    let j = id - DWP / 4;
    var v = partial4[S * DWP / 4 + j];
    for (var s = 1u; s < S; s++) { v += partial4[(S * DWP + s * DBP) / 4 + j]; }
    db[j] = v;
  }
}
