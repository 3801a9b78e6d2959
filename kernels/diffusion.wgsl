// Diffusion kernels: training-batch construction, initial noise, and the reverse (sampling) step.
//
// Random numbers are a counter-based hash (PCG) of (seed, step, element), so a
// batch or a sampling step is a pure function of those three: runs reproduce
// bit for bit and a resumed training run draws exactly what the uninterrupted
// one would have. Gaussians come from Box–Muller on two hashed uniforms.
//
// make_batch   (one thread per element of the batch, N·CHW threads)
//   @binding(0) uniform BatchParams { seed, step, p_uncond }
//   @binding(1) images  f32 [M, CHW]   the whole dataset, in [-1, 1], NCHW per sprite
//   @binding(2) dlabels i32 [M]        class per sprite, -1 = unlabelled (null class only)
//   @binding(3) indices u32 [N]        dataset rows of this batch
//   @binding(4) sched   f32 [2, T]     √ᾱ_t then √(1−ᾱ_t)
//   @binding(5) xt      f32 [N, CHW]   model input  √ᾱ x0 + √(1−ᾱ) ε
//   @binding(6) target  f32 [N, CHW]   ε
//   @binding(7) tfrac   f32 [N]        t / T
//   @binding(8) labels  u32 [N]        class, or NULL_CLASS with probability p_uncond
//   consts: N, CHW, W (row length, for the flip), T, NULL_CLASS, FLIP (bool)
//
// init_noise   (N·CHW threads) x[r] = z for rows r < N, copied into rows N…2N−1 when CFG
//   @binding(0) uniform StepParams (seed used), @binding(2) x f32 [R, CHW]
//
// sample_step  (N·CHW threads)
//   @binding(0) uniform StepParams { seed, step, sqrt_ab, sqrt_1mab, coef_x0, coef_x, sigma, guidance }
//   @binding(1) eps  f32 [R, CHW]   model output; with CFG rows 0…N−1 conditional, N…2N−1 unconditional
//   @binding(2) x    f32 [R, CHW]   current sample, updated in place (both halves with CFG)
//   @binding(3) x0   f32 [N, CHW]   the clamped prediction of the clean image (the preview)
//   consts: N, CHW, CFG (bool: R = 2N)

struct BatchParams { seed: u32, step: u32, p_uncond: f32, pad: u32 }
struct StepParams {
  seed: u32, step: u32, sqrt_ab: f32, sqrt_1mab: f32,
  coef_x0: f32, coef_x: f32, sigma: f32, guidance: f32,
}

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

// A uniform in (0, 1] from (seed, step, stream, index).
fn uniform01(seed: u32, step: u32, stream: u32, index: u32) -> f32 {
  let h = pcg(index ^ pcg(stream ^ pcg(step ^ pcg(seed))));
  return (f32(h >> 8u) + 1.0) / 16777216.0;
}

fn gaussian(seed: u32, step: u32, index: u32) -> f32 {
  let u1 = uniform01(seed, step, 0u, index);
  let u2 = uniform01(seed, step, 1u, index);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

fn flat_index(id: vec3u, nwg: vec3u) -> u32 {
  return id.x + id.y * nwg.x * 64u;
}

@group(0) @binding(0) var<uniform> batch: BatchParams;
@group(0) @binding(1) var<storage, read> images: array<f32>;
@group(0) @binding(2) var<storage, read> dlabels: array<i32>;
@group(0) @binding(3) var<storage, read> indices: array<u32>;
@group(0) @binding(4) var<storage, read> sched: array<f32>;
@group(0) @binding(5) var<storage, read_write> xt: array<f32>;
@group(0) @binding(6) var<storage, read_write> target_eps: array<f32>;
@group(0) @binding(7) var<storage, read_write> tfrac: array<f32>;
@group(0) @binding(8) var<storage, read_write> labels: array<u32>;

// Streams 2…4 of the per-sample draws; 0 and 1 belong to the Gaussians.
const STREAM_T = 2u;
const STREAM_DROP = 3u;
const STREAM_FLIP = 4u;

@compute @workgroup_size(64)
fn make_batch(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  let n = i / CHW;
  let e = i % CHW;
  let t = min(u32(uniform01(batch.seed, batch.step, STREAM_T, n) * f32(T)), T - 1u);
  var src = e;
  if (FLIP && uniform01(batch.seed, batch.step, STREAM_FLIP, n) <= 0.5) {
    let col = e % W;
    src = e - col + (W - 1u - col);
  }
  let x0 = images[indices[n] * CHW + src];
  let eps = gaussian(batch.seed, batch.step, i);
  xt[i] = sched[t] * x0 + sched[T + t] * eps;
  target_eps[i] = eps;
  if (e == 0u) {
    tfrac[n] = f32(t) / f32(T);
    let label = dlabels[indices[n]];
    let drop = uniform01(batch.seed, batch.step, STREAM_DROP, n) <= batch.p_uncond;
    labels[n] = select(u32(label), u32(NULL_CLASS), label < 0 || drop);
  }
}

@group(0) @binding(0) var<uniform> stepp: StepParams;
@group(0) @binding(1) var<storage, read> eps_model: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> x0_out: array<f32>;

// The initial noise draws from step 0xffffffff, a step number sampling never reaches.
@compute @workgroup_size(64)
fn init_noise(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  let z = gaussian(stepp.seed, 0xffffffffu, i);
  x[i] = z;
  if (CFG) { x[N * CHW + i] = z; }
}

@compute @workgroup_size(64)
fn sample_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  var eps = eps_model[i];
  if (CFG) {
    let uncond = eps_model[N * CHW + i];
    eps = uncond + stepp.guidance * (eps - uncond);
  }
  let xi = x[i];
  let x0 = clamp((xi - stepp.sqrt_1mab * eps) / stepp.sqrt_ab, -1.0, 1.0);
  var next = stepp.coef_x0 * x0 + stepp.coef_x * xi;
  if (stepp.sigma > 0.0) { next += stepp.sigma * gaussian(stepp.seed, stepp.step, i); }
  x[i] = next;
  if (CFG) { x[N * CHW + i] = next; }
  x0_out[i] = x0;
}
