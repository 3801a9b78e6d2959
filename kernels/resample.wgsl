// 2×2 resampling (average pool, nearest upsample and their gradients), channel concat and
// dst += src, all NCHW f32 read and written as vec4s (see lib/nn/resample.ts).
//
// Bindings (group 0; each entry point uses two or three):
//   0 src   read        input
//   1 dst   read_write  output, or for concat_split the first output
//   2 src2  read        concat: the second input
//   3 dst2  read_write  concat_split: the second output
// Constants:
//   THREADS   invocations that do work (64 per workgroup, the index may be split over x and y)
//   QUADS     vec4s per row of the large image (W/4; W a multiple of 4)
//   SCALE     factor applied to every output value
//   ACCUM     dst = (ACCUM ? dst : 0) + value; ACCUM_B likewise for dst2
//   A_QUADS, B_QUADS  vec4s per sample of the first and second concat part (Ca·H·W/4, Cb·H·W/4)
// Entry points (one invocation per THREADS unit):
//   down          per 2 rows × 4 columns of src (large): dst (small, vec2) = SCALE·Σ 2×2
//   up            per 2 rows × 4 columns of dst (large): each value = SCALE·src (small, vec2)
//   concat        per vec4 of dst: dst[n] = [src[n], src2[n]] along channels
//   concat_split  per vec4 of src: the inverse of concat, into dst and dst2
//   add           per vec4: dst += src

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(2) var<storage, read> src2: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dst2: array<vec4f>;

// The small image viewed as vec2s: 2 columns of the small image per 4 of the large one.
@group(0) @binding(0) var<storage, read> src_small: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> dst_small: array<vec2f>;

fn invocation(id: vec3u, nwg: vec3u) -> u32 {
  return id.x + id.y * nwg.x * 64u;
}

// Invocation t covers small vec2 t; its pair of large rows starts at vec4 2·(t / QUADS)·QUADS.
fn large_index(t: u32) -> u32 {
  return 2u * t - t % QUADS;
}

@compute @workgroup_size(64)
fn down(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let i = large_index(t);
  let top = src[i];
  let bottom = src[i + QUADS];
  var v = SCALE * (top.xz + top.yw + bottom.xz + bottom.yw);
  if (ACCUM) { v += dst_small[t]; }
  dst_small[t] = v;
}

@compute @workgroup_size(64)
fn up(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let i = large_index(t);
  var v = SCALE * src_small[t].xxyy;
  var top = v;
  var bottom = v;
  if (ACCUM) {
    top += dst[i];
    bottom += dst[i + QUADS];
  }
  dst[i] = top;
  dst[i + QUADS] = bottom;
}

@compute @workgroup_size(64)
fn concat(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let n = t / (A_QUADS + B_QUADS);
  let k = t % (A_QUADS + B_QUADS);
  if (k < A_QUADS) {
    dst[t] = src[n * A_QUADS + k];
  } else {
    dst[t] = src2[n * B_QUADS + k - A_QUADS];
  }
}

@compute @workgroup_size(64)
fn concat_split(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let n = t / (A_QUADS + B_QUADS);
  let k = t % (A_QUADS + B_QUADS);
  var v = src[t];
  if (k < A_QUADS) {
    let j = n * A_QUADS + k;
    if (ACCUM) { v += dst[j]; }
    dst[j] = v;
  } else {
    let j = n * B_QUADS + k - A_QUADS;
    if (ACCUM_B) { v += dst2[j]; }
    dst2[j] = v;
  }
}

@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  dst[t] += src[t];
}
