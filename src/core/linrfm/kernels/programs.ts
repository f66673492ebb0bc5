// The lin-RFM kernels and their uniform layouts (see core/gpu/program.ts). W^T W and (W^T W)^2 use
// the shared transposeProduct (core/gpu/programs.ts).
import heldOutErrorWgsl from './heldOutError.wgsl';
import ridgePredictWgsl from './ridgePredict.wgsl';
import { program } from '../../gpu/program';

export const ridgePredict = program('linrfmRidgePredict', ridgePredictWgsl, [
  ['rowOffset', 'u32'],
  ['rowCount', 'u32'],
  ['d', 'u32'],
  ['ldP', 'u32'],
  ['ldW', 'u32'],
  ['lambda', 'f32'],
  ['pScale', 'f32'],
  ['slotFloats', 'u32'],
]);

export const heldOutError = program('linrfmHeldOutError', heldOutErrorWgsl, [
  ['count', 'u32'],
  ['_p0', 'u32'],
  ['_p1', 'u32'],
  ['_p2', 'u32'],
]);
