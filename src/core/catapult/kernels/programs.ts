// The catapult lab's kernels (two-layer ReLU network) and their uniform layouts (see core/gpu/program.ts).
import reluForwardWgsl from './reluForward.wgsl';
import reluInputGradWgsl from './reluInputGrad.wgsl';
import reluNtkApplyWgsl from './reluNtkApply.wgsl';
import reluUpdateWgsl from './reluUpdate.wgsl';
import reluWeightGradWgsl from './reluWeightGrad.wgsl';
import { program } from '../../gpu/program';

export const reluForward = program('reluForward', reluForwardWgsl, [
  ['count', 'u32'],
  ['m', 'u32'],
  ['dPad4', 'u32'],
  ['useRows', 'u32'],
  ['scale', 'f32'],
  ['_p0', 'u32'],
  ['_p1', 'u32'],
  ['_p2', 'u32'],
]);

export const reluInputGrad = program('reluInputGrad', reluInputGradWgsl, [
  ['n', 'u32'],
  ['m', 'u32'],
  ['dPad4', 'u32'],
  ['scale', 'f32'],
]);

export const reluWeightGrad = program('reluWeightGrad', reluWeightGradWgsl, [
  ['count', 'u32'],
  ['m', 'u32'],
  ['dPad4', 'u32'],
  ['useRows', 'u32'],
]);

export const reluUpdate = program('reluUpdate', reluUpdateWgsl, [
  ['m', 'u32'],
  ['dPad4', 'u32'],
  ['s', 'f32'],
  ['_p0', 'u32'],
]);

export const reluNtkApply = program('reluNtkApply', reluNtkApplyWgsl, [
  ['n', 'u32'],
  ['m', 'u32'],
  ['dPad4', 'u32'],
  ['s', 'f32'],
]);
