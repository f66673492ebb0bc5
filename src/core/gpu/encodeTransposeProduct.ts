// Encoding the shared transposeProduct kernel (programs.ts) with the grid its workgroups need.
import { BackendError } from '../errors';
import type { Binding, GpuContext, GpuOp } from './context';
import { transposeProduct } from './programs';

/**
 * Encodes out (aPad x bPad) = A^T B over `rows` rows of A (rows x aPad) and B (rows x bPad),
 * transposeProduct.wgsl with its grid (one invocation per 4 x 4 block, 64 a workgroup). diagOnly:
 * only the diagonal blocks; symmetric (A = B): half the blocks, mirrored. A grid beyond one dispatch
 * is a BackendError naming `what`.
 */
export function encodeTransposeProduct(
  ctx: GpuContext,
  op: GpuOp,
  pass: GPUComputePassEncoder,
  buffers: [A: Binding, B: Binding, out: Binding],
  rows: number,
  aPad: number,
  bPad: number,
  what: string,
  flags: { diagOnly?: boolean; symmetric?: boolean } = {},
): void {
  const groups = Math.ceil(((aPad / 4) * (bPad / 4)) / 64);
  if (groups > ctx.device.limits.maxComputeWorkgroupsPerDimension)
    throw new BackendError('webgpu', `${what}: ${aPad} x ${bPad} Gram blocks exceed one dispatch`);
  ctx.dispatchProgram(op, pass, transposeProduct, { rows, aPad4: aPad / 4, bPad4: bPad / 4 }, buffers, [groups, 1], {
    DIAG_ONLY: flags.diagOnly ? 1 : 0,
    ...(flags.symmetric ? { SYMMETRIC: 1 } : {}),
  });
}
