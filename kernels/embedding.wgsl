// Label embedding added to a base vector (see lib/nn/embedding.ts):
//   forward:   y[n] = base[n] + table[labels[n]]
//   mixed:     y[n] = base[n] + Σ_k mix[n, k] · table[k]   (class mixing; sampling only)
//   backward:  dtable[k] = Σ_{n : labels[n] = k} dy[n]   (overwritten; absent labels get 0)
// Shapes: base, y, dy [N, E]; table, dtable [ROWS, E]; labels [N] u32 (each < ROWS);
//   mix [N, ROWS] f32 (each row's weights over the table rows).
// Constants: N, E (a multiple of 4), ROWS.
// Entry points and bindings (group 0; each entry point declares its own variables):
//   embed_add   0 base, 1 table, 2 labels, 3 y   N · E/4 invocations, one per vec4 of y
//   embed_grad  0 dy, 1 dtable, 2 labels         ROWS · E/4 invocations, one per vec4 of dtable
//   embed_mix   0 base, 1 table, 4 mix, 3 y      N · E/4 invocations, one per vec4 of y
// Both split their 1-D invocation index over x and y of the grid.

@group(0) @binding(0) var<storage, read> base: array<vec4f>;
@group(0) @binding(1) var<storage, read> table: array<vec4f>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;

@group(0) @binding(0) var<storage, read> dy: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dtable: array<vec4f>;

@group(0) @binding(4) var<storage, read> mix: array<f32>;

const E4 = E / 4;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * 64u;
}

@compute @workgroup_size(64)
fn embed_add(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= N * E4) { return; }
  let n = i / E4;
  y[i] = base[i] + table[labels[n] * E4 + i % E4];
}

// A gather over the batch instead of a scatter from it: no atomics, and each sum runs in
// batch order, so the result is deterministic. Every invocation reads all N labels, which is
// cheap next to the rows it adds (ROWS is small).
@compute @workgroup_size(64)
fn embed_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= ROWS * E4) { return; }
  let row = i / E4;
  let col = i % E4;
  var acc = vec4f(0.0);
  for (var n = 0u; n < N; n++) {
    if (labels[n] == row) { acc += dy[n * E4 + col]; }
  }
  dtable[i] = acc;
}

// The table rows summed in row order, so a one-hot row of weights reproduces embed_add's value
// bit for bit (1·v + 0·u = v).
@compute @workgroup_size(64)
fn embed_mix(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= N * E4) { return; }
  let n = i / E4;
  var acc = vec4f(0.0);
  for (var k = 0u; k < ROWS; k++) { acc += mix[n * ROWS + k] * table[k * E4 + i % E4]; }
  y[i] = base[i] + acc;
}
