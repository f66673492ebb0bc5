// Work budgets and event-loop pacing shared by the weight readers. A crafted file must fail with an
// InputError (file, what, the limit) in bounded time and memory, and a long parse must hand the event
// loop back every few milliseconds: the same readers run inside the VS Code extension host.

import type { PaceOptions } from '../pacer';

export { defaultYield, Pacer, type YieldNow } from '../pacer';

export type ReadOptions = PaceOptions;

/** Limits of the pickle VM and the checkpoint walk; a torch.save pickle holds structure only (tensor data is stored apart). */
export const PICKLE_LIMITS = {
  /** Largest data.pkl read (bytes). */
  maxBytes: 256 * 2 ** 20,
  /** Opcodes executed plus items moved between containers. */
  maxWork: 40_000_000,
  /** Values created plus items stored in containers. */
  maxObjects: 8_000_000,
  /** Containers nested deeper than this are not a checkpoint. */
  maxNesting: 64,
  /** Distinct containers and references visited by the checkpoint walk. */
  maxVisits: 10_000_000,
  /** Tensors a checkpoint may list. */
  maxTensors: 500_000,
} as const;

/** Zip limits: the central directory is read whole, members are inflated in bounded steps. */
export const ZIP_LIMITS = {
  /** Largest central directory read (bytes). */
  maxDirectoryBytes: 256 * 2 ** 20,
  /** Compressed bytes pushed to the inflater per step (DEFLATE expands at most 1032:1, so ≤ 4 MiB out). */
  inflateStep: 4 * 1024,
} as const;
