// Training-batch construction: one kernel draws t, the label dropout, the flip and the noise
// of every sample from (seed, step) and writes the model's inputs and the target.
// (kernels/random.wgsl is prepended: pcg, uniform01, gaussian, flat_index.)
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

struct BatchParams { seed: u32, step: u32, p_uncond: f32, pad: u32 }

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
