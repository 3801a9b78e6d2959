// Softmax cross-entropy of the sprite classifier against target distributions, loss and
// gradient in one pass (see lib/eval/xent.ts):
//   losses[n]     = logsumexp(logits[n, 0..K)) − Σ_k targets[n, k] · logits[n, k]
//   dlogits[n, k] = (softmax(logits[n])[k] − targets[n, k]) / N   (∂ mean loss / ∂ logits)
// Each target row sums to 1: a one-hot row gives the plain −log softmax[label]; smoothed or
// mixed labels are rows with more than one non-zero entry.
//
// Bindings (group 0):
//   0 logits   [N, KP] f32  read        class scores in the first K columns of each row
//   1 targets  [N, KP] f32  read        class probabilities in the first K columns (sum 1)
//   2 dlogits  [N, KP] f32  read_write  overwritten; the padding columns K..KP get 0
//   3 losses   [N] f32      read_write  overwritten; the mean is summed on the CPU when logged
// Constants: N (rows), K (classes), KP (row stride ≥ K: the classifier's head pads its outputs
//   to a multiple of 4 for the linear kernel).
// Entry point: softmax_xent, one invocation per row (the index may be split over x and y).
// A row is K scalars (8 for the default dataset), so plain scalar loops cost next to nothing
// beside the classifier's convolutions.

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;

@compute @workgroup_size(64)
fn softmax_xent(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = id.x + id.y * nwg.x * 64u;
  if (n >= N) { return; }
  let row = n * KP;
  // Subtracting the row maximum keeps exp() in range whatever the logits' scale.
  var top = logits[row];
  for (var k = 1u; k < K; k++) {
    top = max(top, logits[row + k]);
  }
  var total = 0.0;
  var expected = 0.0;
  for (var k = 0u; k < K; k++) {
    total += exp(logits[row + k] - top);
    expected += targets[row + k] * (logits[row + k] - top);
  }
  losses[n] = log(total) - expected;
  for (var k = 0u; k < KP; k++) {
    var g = 0.0;
    if (k < K) {
      g = exp(logits[row + k] - top) / total - targets[row + k];
    }
    dlogits[row + k] = g / f32(N);
  }
}
