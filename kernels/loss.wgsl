// Mean squared error and its gradient in one read of pred and the target `truth` (`target` is
// reserved in WGSL); see lib/nn/loss.ts:
//   loss[0] = Σ (pred − truth)² / (4·NV),   dpred = 2 (pred − truth) / (4·NV)
//
// Bindings (group 0):
//   0 pred      [NV] vec4  read
//   1 truth     [NV] vec4  read
//   2 dpred     [NV] vec4  read_write  overwritten
//   3 partials  [PARTIALS] vec4  read_write  per-invocation sums of squares (scratch)
//   4 loss      [1] f32    read_write  overwritten
// Constants: NV (vec4s of pred), CHUNK (vec4s per invocation of the first pass),
//   PARTIALS (= ceil(NV / CHUNK)).
// Entry points, dispatched in this order:
//   partial_sums  ceil(PARTIALS / 64) workgroups (split over x and y past the limit): writes dpred
//                 and partials[i] = Σ over vec4s [i·CHUNK, (i+1)·CHUNK)
//   final_sum     1 workgroup: one invocation adds the partials in order (deterministic)

@group(0) @binding(0) var<storage, read> pred: array<vec4f>;
@group(0) @binding(1) var<storage, read> truth: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dpred: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;

const INV_COUNT = 1.0 / f32(4 * NV);

@compute @workgroup_size(64)
fn partial_sums(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = id.x + id.y * nwg.x * 64u;
  if (p >= PARTIALS) { return; }
  let end = min(p * CHUNK + CHUNK, NV);
  var acc = vec4f(0.0);
  for (var i = p * CHUNK; i < end; i++) {
    let d = pred[i] - truth[i];
    acc = fma(d, d, acc);
    dpred[i] = (2.0 * INV_COUNT) * d;
  }
  partials[p] = acc;
}

@compute @workgroup_size(64)
fn final_sum(@builtin(local_invocation_index) lane: u32) {
  if (lane != 0u) { return; }
  var acc = vec4f(0.0);
  for (var p = 0u; p < PARTIALS; p++) {
    acc += partials[p];
  }
  loss[0] = ((acc.x + acc.y) + (acc.z + acc.w)) * INV_COUNT;
}
