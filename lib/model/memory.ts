/**
 * How many batch rows fit the adapter: every activation is one storage binding,
 * so the largest activation of one row bounds the batch by the adapter's
 * maxStorageBufferBindingSize.
 */

import { IMAGE_SIZE, type ModelConfig, unetPlan } from "./config.ts";

/** Bytes of the largest single activation tensor for one batch row. */
export function largestActivationPerRow(c: ModelConfig): number {
  const plan = unetPlan(c);
  let largest = c.in_ch * IMAGE_SIZE ** 2;
  let size = IMAGE_SIZE;
  plan.downs.forEach((level, i) => {
    largest = Math.max(largest, level.ch * size ** 2);
    if (level.attn) largest = Math.max(largest, size ** 4); // attention weights, L×L
    if (i < plan.downs.length - 1) size /= 2;
  });
  plan.ups.forEach((level, u) => {
    if (u > 0) size *= 2;
    largest = Math.max(largest, level.blocks[0].inCh * size ** 2);
    if (level.attn) largest = Math.max(largest, size ** 4);
  });
  return largest * 4;
}

/** The most rows (sprites × 2 with guidance) one forward pass can take. */
export const maxSampleRows = (c: ModelConfig, maxBinding: number): number =>
  Math.floor(maxBinding / largestActivationPerRow(c));
