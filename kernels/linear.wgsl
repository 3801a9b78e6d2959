// Fully connected layer y = act(x Wᵀ + b) and its gradients (see lib/nn/linear.ts).
// PyTorch nn.Linear layout: x [N, IN], w [OUT, IN], b [OUT], y [N, OUT]; act is SiLU or none.
//
// Constants: N (rows), IN (any), OUT (a multiple of 4), ACCUM (grad_input: dx += instead of dx =).
// Entry points and bindings (group 0). Each entry point declares its own variables, so a slot
// means different things in different entry points; no entry point uses two variables of one slot.
//   forward        0 x, 1 w, 2 b, 3 y                  y = x Wᵀ + b
//   forward_silu   0 x, 1 w, 2 b, 3 y, 4 preact        preact = x Wᵀ + b, y = SiLU(preact)
//   silu_grad      0 dy, 1 preact, 2 dz               dz = dy · SiLU'(preact)
//   grad_weight    0 x, 1 dw, 2 dz, 3 db              dw = dzᵀ x, db = Σ_n dz (both overwritten)
//   grad_input     0 dx, 1 w, 2 dz                    dx = (ACCUM ? dx : 0) + dz W
// dz is the gradient of the pre-activation: dy itself when there is no SiLU.
// Every invocation owns a 4 × 4 tile of its output (4 rows × one vec4), reads its operands as
// vec4s and keeps the tile in named registers. All arrays are vec4 arrays; the IN axis is only
// 16-byte aligned per row when IN % 4 == 0, so the *_quad helpers fall back to element access
// otherwise (the first time-MLP layer, IN = 1). The 1-D invocation index is split over x and y.

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> w: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> preact: array<vec4f>;

@group(0) @binding(0) var<storage, read> dy: array<vec4f>;
@group(0) @binding(1) var<storage, read> z: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dz_out: array<vec4f>;

@group(0) @binding(1) var<storage, read_write> dw: array<vec4f>;
@group(0) @binding(2) var<storage, read> dz: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> db: array<vec4f>;

@group(0) @binding(0) var<storage, read_write> dx: array<vec4f>;

const OUT4 = OUT / 4;
// Quads (groups of 4 columns) per row of the IN axis; the last one is zero-padded past IN.
const IN4 = (IN + 3) / 4;
const ALIGNED = IN % 4 == 0;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * 64u;
}

fn hsum(v: vec4f) -> f32 {
  return dot(v, vec4f(1.0));
}

// Columns k .. k+3 (k % 4 == 0) of row `row` of x; columns past IN read as 0.
fn x_quad(row: u32, k: u32) -> vec4f {
  if (ALIGNED) {
    return x[row * IN4 + k / 4u];
  }
  var q = vec4f(0.0);
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    q[j] = x[e / 4u][e % 4u];
  }
  return q;
}

// Columns k .. k+3 (k % 4 == 0) of row `row` of w; columns past IN read as 0.
fn w_quad(row: u32, k: u32) -> vec4f {
  if (ALIGNED) {
    return w[row * IN4 + k / 4u];
  }
  var q = vec4f(0.0);
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    q[j] = w[e / 4u][e % 4u];
  }
  return q;
}

// dw[row, k .. k+3] = v, dropping columns past IN.
fn store_dw(row: u32, k: u32, v: vec4f) {
  if (ALIGNED) {
    dw[row * IN4 + k / 4u] = v;
    return;
  }
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    dw[e / 4u][e % 4u] = v[j];
  }
}

// dx[row, k .. k+3] = (ACCUM ? dx : 0) + v, dropping columns past IN.
fn store_dx(row: u32, k: u32, v: vec4f) {
  if (ALIGNED) {
    let i = row * IN4 + k / 4u;
    dx[i] = select(v, dx[i] + v, ACCUM);
    return;
  }
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    dx[e / 4u][e % 4u] = select(v[j], dx[e / 4u][e % 4u] + v[j], ACCUM);
  }
}

// x Wᵀ + b for rows n0 .. n0+3 and outputs 4·oq .. 4·oq+3; column r of the result is row n0+r.
// Rows past N are computed from row N-1 (cheaper than masking loads); the caller drops them.
fn affine_tile(n0: u32, oq: u32) -> mat4x4f {
  let n1 = min(n0 + 1u, N - 1u);
  let n2 = min(n0 + 2u, N - 1u);
  let n3 = min(n0 + 3u, N - 1u);
  let o0 = oq * 4u;
  // a<r><s>: Σ_k over one lane of k mod 4 of x[n_r, k] w[o_s, k]; summed across lanes at the end.
  var a00 = vec4f(0.0); var a01 = vec4f(0.0); var a02 = vec4f(0.0); var a03 = vec4f(0.0);
  var a10 = vec4f(0.0); var a11 = vec4f(0.0); var a12 = vec4f(0.0); var a13 = vec4f(0.0);
  var a20 = vec4f(0.0); var a21 = vec4f(0.0); var a22 = vec4f(0.0); var a23 = vec4f(0.0);
  var a30 = vec4f(0.0); var a31 = vec4f(0.0); var a32 = vec4f(0.0); var a33 = vec4f(0.0);
  for (var k = 0u; k < IN; k += 4u) {
    let x0 = x_quad(n0, k); let x1 = x_quad(n1, k); let x2 = x_quad(n2, k); let x3 = x_quad(n3, k);
    let w0 = w_quad(o0, k); let w1 = w_quad(o0 + 1u, k);
    let w2 = w_quad(o0 + 2u, k); let w3 = w_quad(o0 + 3u, k);
    a00 = fma(x0, w0, a00); a01 = fma(x0, w1, a01); a02 = fma(x0, w2, a02); a03 = fma(x0, w3, a03);
    a10 = fma(x1, w0, a10); a11 = fma(x1, w1, a11); a12 = fma(x1, w2, a12); a13 = fma(x1, w3, a13);
    a20 = fma(x2, w0, a20); a21 = fma(x2, w1, a21); a22 = fma(x2, w2, a22); a23 = fma(x2, w3, a23);
    a30 = fma(x3, w0, a30); a31 = fma(x3, w1, a31); a32 = fma(x3, w2, a32); a33 = fma(x3, w3, a33);
  }
  let bias = b[oq];
  return mat4x4f(
    vec4f(hsum(a00), hsum(a01), hsum(a02), hsum(a03)) + bias,
    vec4f(hsum(a10), hsum(a11), hsum(a12), hsum(a13)) + bias,
    vec4f(hsum(a20), hsum(a21), hsum(a22), hsum(a23)) + bias,
    vec4f(hsum(a30), hsum(a31), hsum(a32), hsum(a33)) + bias,
  );
}

// preact[i] = v, y[i] = SiLU(v).
fn store_silu(i: u32, v: vec4f) {
  preact[i] = v;
  y[i] = v / (1.0 + exp(-v));
}

// One invocation per (4 rows, 4 outputs): ceil(N / 4) · OUT4 invocations, outputs fastest.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= (N + 3u) / 4u * OUT4) { return; }
  let oq = t % OUT4;
  let n0 = t / OUT4 * 4u;
  let tile = affine_tile(n0, oq);
  let i = n0 * OUT4 + oq;
  y[i] = tile[0];
  if (n0 + 1u < N) { y[i + OUT4] = tile[1]; }
  if (n0 + 2u < N) { y[i + 2u * OUT4] = tile[2]; }
  if (n0 + 3u < N) { y[i + 3u * OUT4] = tile[3]; }
}

@compute @workgroup_size(64)
fn forward_silu(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= (N + 3u) / 4u * OUT4) { return; }
  let oq = t % OUT4;
  let n0 = t / OUT4 * 4u;
  let tile = affine_tile(n0, oq);
  let i = n0 * OUT4 + oq;
  store_silu(i, tile[0]);
  if (n0 + 1u < N) { store_silu(i + OUT4, tile[1]); }
  if (n0 + 2u < N) { store_silu(i + 2u * OUT4, tile[2]); }
  if (n0 + 3u < N) { store_silu(i + 3u * OUT4, tile[3]); }
}

// One invocation per vec4 of dz: N · OUT4 invocations.
@compute @workgroup_size(64)
fn silu_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= N * OUT4) { return; }
  let v = z[i];
  let s = 1.0 / (1.0 + exp(-v));
  // d/dv [v σ(v)] = σ(v) (1 + v (1 − σ(v)))
  dz_out[i] = dy[i] * s * (1.0 + v * (1.0 - s));
}

// One invocation per (4 outputs, 4 inputs) of dw: OUT4 · IN4 invocations, inputs fastest.
// Outer products over the N rows; the invocations of input quad 0 also write db.
@compute @workgroup_size(64)
fn grad_weight(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= OUT4 * IN4) { return; }
  let k = t % IN4 * 4u;
  let oq = t / IN4;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  var bias = vec4f(0.0);
  for (var n = 0u; n < N; n++) {
    let g = dz[n * OUT4 + oq];
    let xq = x_quad(n, k);
    c0 = fma(vec4f(g.x), xq, c0);
    c1 = fma(vec4f(g.y), xq, c1);
    c2 = fma(vec4f(g.z), xq, c2);
    c3 = fma(vec4f(g.w), xq, c3);
    bias += g;
  }
  let o0 = oq * 4u;
  store_dw(o0, k, c0);
  store_dw(o0 + 1u, k, c1);
  store_dw(o0 + 2u, k, c2);
  store_dw(o0 + 3u, k, c3);
  if (k == 0u) { db[oq] = bias; }
}

// One invocation per (4 rows, 4 inputs) of dx: ceil(N / 4) · IN4 invocations, inputs fastest.
@compute @workgroup_size(64)
fn grad_input(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= (N + 3u) / 4u * IN4) { return; }
  let k = t % IN4 * 4u;
  let n0 = t / IN4 * 4u;
  let n1 = min(n0 + 1u, N - 1u);
  let n2 = min(n0 + 2u, N - 1u);
  let n3 = min(n0 + 3u, N - 1u);
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var oq = 0u; oq < OUT4; oq++) {
    let g0 = dz[n0 * OUT4 + oq]; let g1 = dz[n1 * OUT4 + oq];
    let g2 = dz[n2 * OUT4 + oq]; let g3 = dz[n3 * OUT4 + oq];
    let o0 = oq * 4u;
    let w0 = w_quad(o0, k); let w1 = w_quad(o0 + 1u, k);
    let w2 = w_quad(o0 + 2u, k); let w3 = w_quad(o0 + 3u, k);
    c0 = fma(vec4f(g0.x), w0, fma(vec4f(g0.y), w1, fma(vec4f(g0.z), w2, fma(vec4f(g0.w), w3, c0))));
    c1 = fma(vec4f(g1.x), w0, fma(vec4f(g1.y), w1, fma(vec4f(g1.z), w2, fma(vec4f(g1.w), w3, c1))));
    c2 = fma(vec4f(g2.x), w0, fma(vec4f(g2.y), w1, fma(vec4f(g2.z), w2, fma(vec4f(g2.w), w3, c2))));
    c3 = fma(vec4f(g3.x), w0, fma(vec4f(g3.y), w1, fma(vec4f(g3.z), w2, fma(vec4f(g3.w), w3, c3))));
  }
  store_dx(n0, k, c0);
  if (n0 + 1u < N) { store_dx(n0 + 1u, k, c1); }
  if (n0 + 2u < N) { store_dx(n0 + 2u, k, c2); }
  if (n0 + 3u < N) { store_dx(n0 + 3u, k, c3); }
}
