// Single-head attention core (see lib/nn/attention.ts). Per sample n, q, k, v, o are [C, L]
// matrices (channels × positions, L = H·W) and p, ds are [L, L] (query i × key j):
//   s[i,j] = SCALE Σ_c q[c,i] k[c,j];   p = softmax over j of s;   o[c,i] = Σ_j v[c,j] p[i,j]
// Backward:  dv = dout · p;  dp[i,j] = Σ_c dout[c,i] v[c,j];
//            ds = SCALE · p ∘ (dp − Σ_j p ∘ dp);  dq = k · dsᵀ;  dk = q · ds.
// Every product of a [C, L] and an [L, L] matrix is `matmul` (prod = a · m), so the row kernels
// also write the transposes pt = pᵀ and dst = dsᵀ; then every operand is read as vec4s along
// the axis it is stored in.
//
// Constants: N, C, L (both multiples of 8), SCALE (C^-0.5).
// Entry points and bindings (group 0). Each entry point declares its own variables, so a slot
// means different things in different entry points; no entry point uses two variables of one slot.
//   scores_softmax  0 lhs = q, 1 rhs = k, 2 p, 3 pt                  N · L/8 invocations
//   grad_scores     0 lhs = dout, 1 rhs = v, 2 probs = p, 3 ds, 4 dst  N · L/8 invocations
//   matmul          0 a [N,C,L], 1 m [N,L,L], 2 prod [N,C,L]          N · C/8 · L/8 invocations
//     prod[c,j] = Σ_i a[c,i] m[i,j]:  o = v · pt,  dv = dout · p,  dq = k · dst,  dk = q · ds
// An invocation of a row kernel owns 8 whole rows (queries) of its [L, L] outputs, so it does
// the softmax (or its gradient) itself in a second pass over those rows; an invocation of
// matmul owns an 8 × 8 output tile. Tiles live in named registers; 4 × 4 blocks are mat4x4f,
// transposed without memory traffic. The 1-D invocation index is split over x and y of the grid.

@group(0) @binding(0) var<storage, read> lhs: array<vec4f>;
@group(0) @binding(1) var<storage, read> rhs: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> p: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> pt: array<vec4f>;

@group(0) @binding(2) var<storage, read> probs: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> ds: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dst: array<vec4f>;

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> m: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> prod: array<vec4f>;

const L4 = L / 4;
const L8 = L / 8;
const C8 = C / 8;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * 64u;
}

// b + x ⊗ y: column u gains x · y[u].
fn outer_add(b: mat4x4f, x: vec4f, y: vec4f) -> mat4x4f {
  return mat4x4f(
    fma(x, vec4f(y.x), b[0]),
    fma(x, vec4f(y.y), b[1]),
    fma(x, vec4f(y.z), b[2]),
    fma(x, vec4f(y.w), b[3]),
  );
}

// An 8 × 8 block of an [L, L] matrix, queries i = 8·it + (0..7) × keys j = 8·jt + (0..7), stored
// key-major: column u of lo is key 8·jt + u and of hi key 8·jt + 4 + u, each a vec4 over
// queries 8·it + (0..3) in block a and 8·it + (4..7) in block b.
struct Tile {
  a_lo: mat4x4f,
  a_hi: mat4x4f,
  b_lo: mat4x4f,
  b_hi: mat4x4f,
}

// scale · Σ_c lhs[n,c,i] rhs[n,c,j] over the tile (it, jt) of sample n.
fn outer_tile(n: u32, it: u32, jt: u32, scale: f32) -> Tile {
  var t: Tile;
  var i = n * C * L4;
  for (var c = 0u; c < C; c++) {
    let xa = lhs[i + 2u * it] * scale;
    let xb = lhs[i + 2u * it + 1u] * scale;
    let ylo = rhs[i + 2u * jt];
    let yhi = rhs[i + 2u * jt + 1u];
    t.a_lo = outer_add(t.a_lo, xa, ylo);
    t.a_hi = outer_add(t.a_hi, xa, yhi);
    t.b_lo = outer_add(t.b_lo, xb, ylo);
    t.b_hi = outer_add(t.b_hi, xb, yhi);
    i += L4;
  }
  return t;
}

// Index of the vec4 (row, 4·quad .. 4·quad+3) of sample n of an [N, L, L] tensor.
fn at(n: u32, row: u32, quad: u32) -> u32 {
  return (n * L + row) * L4 + quad;
}

fn col_max(b: mat4x4f) -> vec4f {
  return max(max(b[0], b[1]), max(b[2], b[3]));
}

fn col_sum_exp(b: mat4x4f, shift: vec4f) -> vec4f {
  return exp(b[0] - shift) + exp(b[1] - shift) + exp(b[2] - shift) + exp(b[3] - shift);
}

// pt rows key .. key+3, query quad iq = b (key-major block).
fn store_pt(n: u32, key: u32, iq: u32, b: mat4x4f) {
  let i = at(n, key, iq);
  pt[i] = b[0];
  pt[i + L4] = b[1];
  pt[i + 2u * L4] = b[2];
  pt[i + 3u * L4] = b[3];
}

fn load_pt(n: u32, key: u32, iq: u32) -> mat4x4f {
  let i = at(n, key, iq);
  return mat4x4f(pt[i], pt[i + L4], pt[i + 2u * L4], pt[i + 3u * L4]);
}

// p rows query .. query+3, key quad jq = the transpose of the key-major block b.
fn store_p(n: u32, query: u32, jq: u32, b: mat4x4f) {
  let r = transpose(b);
  let i = at(n, query, jq);
  p[i] = r[0];
  p[i + L4] = r[1];
  p[i + 2u * L4] = r[2];
  p[i + 3u * L4] = r[3];
}

// Pass 1 stores the scaled scores key-major in pt and keeps each query's running max mx and
// Σ exp(s − mx) (online softmax); pass 2 rereads them and writes p and pt.
@compute @workgroup_size(64)
fn scores_softmax(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let t = thread_index(id, groups);
  if (t >= N * L8) { return; }
  let n = t / L8;
  let it = t % L8;
  // Per query (vec4s over queries 8·it + 0..3 and + 4..7): running max, running Σ exp(s − max).
  var mx_a = vec4f(-3.0e38);
  var mx_b = vec4f(-3.0e38);
  var sum_a = vec4f(0.0);
  var sum_b = vec4f(0.0);
  for (var jt = 0u; jt < L8; jt++) {
    let s = outer_tile(n, it, jt, SCALE);
    store_pt(n, 8u * jt, 2u * it, s.a_lo);
    store_pt(n, 8u * jt + 4u, 2u * it, s.a_hi);
    store_pt(n, 8u * jt, 2u * it + 1u, s.b_lo);
    store_pt(n, 8u * jt + 4u, 2u * it + 1u, s.b_hi);
    let new_a = max(mx_a, max(col_max(s.a_lo), col_max(s.a_hi)));
    let new_b = max(mx_b, max(col_max(s.b_lo), col_max(s.b_hi)));
    sum_a = sum_a * exp(mx_a - new_a) + col_sum_exp(s.a_lo, new_a) + col_sum_exp(s.a_hi, new_a);
    sum_b = sum_b * exp(mx_b - new_b) + col_sum_exp(s.b_lo, new_b) + col_sum_exp(s.b_hi, new_b);
    mx_a = new_a;
    mx_b = new_b;
  }
  let inv_a = 1.0 / sum_a;
  let inv_b = 1.0 / sum_b;
  for (var jq = 0u; jq < L4; jq++) {
    let sa = load_pt(n, 4u * jq, 2u * it);
    let sb = load_pt(n, 4u * jq, 2u * it + 1u);
    let pa = mat4x4f(
      exp(sa[0] - mx_a) * inv_a,
      exp(sa[1] - mx_a) * inv_a,
      exp(sa[2] - mx_a) * inv_a,
      exp(sa[3] - mx_a) * inv_a,
    );
    let pb = mat4x4f(
      exp(sb[0] - mx_b) * inv_b,
      exp(sb[1] - mx_b) * inv_b,
      exp(sb[2] - mx_b) * inv_b,
      exp(sb[3] - mx_b) * inv_b,
    );
    store_pt(n, 4u * jq, 2u * it, pa);
    store_pt(n, 4u * jq, 2u * it + 1u, pb);
    store_p(n, 8u * it, jq, pa);
    store_p(n, 8u * it + 4u, jq, pb);
  }
}

// The key-major block of probs for queries query .. query+3 and key quad jq.
fn load_probs(n: u32, query: u32, jq: u32) -> mat4x4f {
  let i = at(n, query, jq);
  return transpose(mat4x4f(probs[i], probs[i + L4], probs[i + 2u * L4], probs[i + 3u * L4]));
}

fn store_dst(n: u32, key: u32, iq: u32, b: mat4x4f) {
  let i = at(n, key, iq);
  dst[i] = b[0];
  dst[i + L4] = b[1];
  dst[i + 2u * L4] = b[2];
  dst[i + 3u * L4] = b[3];
}

fn load_dst(n: u32, key: u32, iq: u32) -> mat4x4f {
  let i = at(n, key, iq);
  return mat4x4f(dst[i], dst[i + L4], dst[i + 2u * L4], dst[i + 3u * L4]);
}

fn store_ds(n: u32, query: u32, jq: u32, b: mat4x4f) {
  let r = transpose(b);
  let i = at(n, query, jq);
  ds[i] = r[0];
  ds[i + L4] = r[1];
  ds[i + 2u * L4] = r[2];
  ds[i + 3u * L4] = r[3];
}

// Σ_u of the columns of x ∘ y: per query, the dot product over one key quad.
fn col_dot(x: mat4x4f, y: mat4x4f) -> vec4f {
  return x[0] * y[0] + x[1] * y[1] + x[2] * y[2] + x[3] * y[3];
}

// SCALE · p ∘ (dp − pdp) for one key-major block (pdp per query).
fn softmax_grad(pk: mat4x4f, dp: mat4x4f, pdp: vec4f) -> mat4x4f {
  return mat4x4f(
    SCALE * pk[0] * (dp[0] - pdp),
    SCALE * pk[1] * (dp[1] - pdp),
    SCALE * pk[2] * (dp[2] - pdp),
    SCALE * pk[3] * (dp[3] - pdp),
  );
}

// Pass 1 stores dp key-major in dst and sums p ∘ dp per query; pass 2 turns dst into dsᵀ and
// writes ds.
@compute @workgroup_size(64)
fn grad_scores(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= N * L8) { return; }
  let n = t / L8;
  let it = t % L8;
  var pdp_a = vec4f(0.0);
  var pdp_b = vec4f(0.0);
  for (var jt = 0u; jt < L8; jt++) {
    let d = outer_tile(n, it, jt, 1.0);
    store_dst(n, 8u * jt, 2u * it, d.a_lo);
    store_dst(n, 8u * jt + 4u, 2u * it, d.a_hi);
    store_dst(n, 8u * jt, 2u * it + 1u, d.b_lo);
    store_dst(n, 8u * jt + 4u, 2u * it + 1u, d.b_hi);
    pdp_a += col_dot(load_probs(n, 8u * it, 2u * jt), d.a_lo);
    pdp_a += col_dot(load_probs(n, 8u * it, 2u * jt + 1u), d.a_hi);
    pdp_b += col_dot(load_probs(n, 8u * it + 4u, 2u * jt), d.b_lo);
    pdp_b += col_dot(load_probs(n, 8u * it + 4u, 2u * jt + 1u), d.b_hi);
  }
  for (var jq = 0u; jq < L4; jq++) {
    let ga = softmax_grad(load_probs(n, 8u * it, jq), load_dst(n, 4u * jq, 2u * it), pdp_a);
    let gb = softmax_grad(
      load_probs(n, 8u * it + 4u, jq),
      load_dst(n, 4u * jq, 2u * it + 1u),
      pdp_b,
    );
    store_dst(n, 4u * jq, 2u * it, ga);
    store_dst(n, 4u * jq, 2u * it + 1u, gb);
    store_ds(n, 8u * it, jq, ga);
    store_ds(n, 8u * it + 4u, jq, gb);
  }
}

// prod[c,j] = Σ_i a[c,i] m[i,j] for channels c = 8·ct + (0..7) and columns j = 8·jt + (0..7).
// Per quad of i, the 4 × 4 blocks of m are matrices whose column u is row 4·iq + u, so a
// channel's contribution is one matrix–vector product.
@compute @workgroup_size(64)
fn matmul(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= N * C8 * L8) { return; }
  let jt = t % L8;
  let ct = t / L8 % C8;
  let n = t / (L8 * C8);
  let ar = (n * C + 8u * ct) * L4; // row c = 8·ct of sample n of a and prod
  var o0l = vec4f(0.0); var o0h = vec4f(0.0); var o1l = vec4f(0.0); var o1h = vec4f(0.0);
  var o2l = vec4f(0.0); var o2h = vec4f(0.0); var o3l = vec4f(0.0); var o3h = vec4f(0.0);
  var o4l = vec4f(0.0); var o4h = vec4f(0.0); var o5l = vec4f(0.0); var o5h = vec4f(0.0);
  var o6l = vec4f(0.0); var o6h = vec4f(0.0); var o7l = vec4f(0.0); var o7h = vec4f(0.0);
  for (var iq = 0u; iq < L4; iq++) {
    let mi = at(n, 4u * iq, 2u * jt);
    let ml = mat4x4f(m[mi], m[mi + L4], m[mi + 2u * L4], m[mi + 3u * L4]);
    let mh = mat4x4f(m[mi + 1u], m[mi + L4 + 1u], m[mi + 2u * L4 + 1u], m[mi + 3u * L4 + 1u]);
    let ai = ar + iq;
    let x0 = a[ai]; let x1 = a[ai + L4];
    let x2 = a[ai + 2u * L4]; let x3 = a[ai + 3u * L4];
    let x4 = a[ai + 4u * L4]; let x5 = a[ai + 5u * L4];
    let x6 = a[ai + 6u * L4]; let x7 = a[ai + 7u * L4];
    o0l += ml * x0; o0h += mh * x0; o1l += ml * x1; o1h += mh * x1;
    o2l += ml * x2; o2h += mh * x2; o3l += ml * x3; o3h += mh * x3;
    o4l += ml * x4; o4h += mh * x4; o5l += ml * x5; o5h += mh * x5;
    o6l += ml * x6; o6h += mh * x6; o7l += ml * x7; o7h += mh * x7;
  }
  let oi = ar + 2u * jt;
  prod[oi] = o0l; prod[oi + 1u] = o0h;
  prod[oi + L4] = o1l; prod[oi + L4 + 1u] = o1h;
  prod[oi + 2u * L4] = o2l; prod[oi + 2u * L4 + 1u] = o2h;
  prod[oi + 3u * L4] = o3l; prod[oi + 3u * L4 + 1u] = o3h;
  prod[oi + 4u * L4] = o4l; prod[oi + 4u * L4 + 1u] = o4h;
  prod[oi + 5u * L4] = o5l; prod[oi + 5u * L4 + 1u] = o5h;
  prod[oi + 6u * L4] = o6l; prod[oi + 6u * L4 + 1u] = o6h;
  prod[oi + 7u * L4] = o7l; prod[oi + 7u * L4 + 1u] = o7h;
}
