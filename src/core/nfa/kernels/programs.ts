// The NFA kernels and their uniform layouts (see core/gpu/program.ts). The forward and Jacobian
// kernels include the activation functions of mlpActivation.wgsl.
import mlpActivationWgsl from './mlpActivation.wgsl';
import mlpForwardWgsl from './mlpForward.wgsl';
import mlpGatherRowsWgsl from './mlpGatherRows.wgsl';
import mlpJacobianWgsl from './mlpJacobian.wgsl';
import mlpMseDeltaWgsl from './mlpMseDelta.wgsl';
import mlpOptimizerStepWgsl from './mlpOptimizerStep.wgsl';
import mlpWeightGradWgsl from './mlpWeightGrad.wgsl';
import { program } from '../../gpu/program';

export const mlpForward = program('mlpForward', mlpActivationWgsl + '\n' + mlpForwardWgsl, [
  ['rows', 'u32'],
  ['inPad4', 'u32'],
  ['outDim', 'u32'],
  ['outPad4', 'u32'],
  ['xStride', 'u32'],
  ['_p0', 'u32'],
  ['_p1', 'u32'],
  ['_p2', 'u32'],
]);

export const mlpJacobian = program('mlpJacobian', mlpActivationWgsl + '\n' + mlpJacobianWgsl, [
  ['jRows', 'u32'],
  ['c', 'u32'],
  ['mPad4', 'u32'],
  ['nPad4', 'u32'],
  ['xStride', 'u32'],
  ['_p0', 'u32'],
  ['_p1', 'u32'],
  ['_p2', 'u32'],
]);

export const mlpGatherRows = program('mlpGatherRows', mlpGatherRowsWgsl, [
  ['rows', 'u32'],
  ['start', 'u32'],
  ['xPad4', 'u32'],
  ['yPad4', 'u32'],
]);

export const mlpMseDelta = program('mlpMseDelta', mlpMseDeltaWgsl, [
  ['rows', 'u32'],
  ['cPad4', 'u32'],
  ['scale', 'f32'],
  ['lossOffset', 'u32'],
]);

export const mlpWeightGrad = program('mlpWeightGrad', mlpWeightGradWgsl, [
  ['rows', 'u32'],
  ['outPad4', 'u32'],
  ['inPad4', 'u32'],
  ['xStride', 'u32'],
]);

export const mlpOptimizerStep = program('mlpOptimizerStep', mlpOptimizerStepWgsl, [
  ['count4', 'u32'],
  ['xStride', 'u32'],
  ['lr', 'f32'],
  ['momentum', 'f32'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['eps', 'f32'],
  ['c1', 'f32'],
  ['c2', 'f32'],
  ['oneMinusBeta1', 'f32'],
  ['oneMinusBeta2', 'f32'],
  ['decay', 'f32'],
]);
