// Compute backends for the NFA orchestrator (compute.ts). The CPU float64 implementation is the
// reference; a WebGPU one (batched forward/backward in WGSL) is a later step and only has to
// implement this interface: the orchestrator chunks the rows and does everything else.
import type { BackendName } from '../backend';
import type { Mat } from '../mat';
import { agopSumsCpu, forwardTrace } from './mlp';
import type { Mlp } from './network';

export interface NfaBackend {
  readonly name: BackendName;
  readonly device: string;
  /** Network outputs at the rows of X (X.rows x outDim). */
  forward(net: Mlp, X: Mat): Promise<Mat>;
  /**
   * Per layer l (input order), the SUM over rows x of X of J_l(x)^T J_l(x), J_l = d(all outputs)/d(input
   * of layer l); inDim_l x inDim_l row-major, symmetric. Sums, not means, so chunks add up.
   */
  agopSums(net: Mlp, X: Mat): Promise<Float64Array[]>;
  dispose(): void;
}

export class CpuNfaBackend implements NfaBackend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  async forward(net: Mlp, X: Mat): Promise<Mat> { return forwardTrace(net, X).out; }
  async agopSums(net: Mlp, X: Mat): Promise<Float64Array[]> { return agopSumsCpu(net, X); }
  dispose(): void {}
}
