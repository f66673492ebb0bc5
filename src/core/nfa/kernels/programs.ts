// The NFA kernels and their uniform layouts (see core/gpu/program.ts). The forward and Jacobian
// kernels include the activation functions of mlpActivation.wgsl.
import mlpActivationWgsl from './mlpActivation.wgsl';
import mlpForwardWgsl from './mlpForward.wgsl';
import mlpGatherRowsWgsl from './mlpGatherRows.wgsl';
import mlpJacobianWgsl from './mlpJacobian.wgsl';
import mlpMseDeltaWgsl from './mlpMseDelta.wgsl';
import mlpOptimizerStepWgsl from './mlpOptimizerStep.wgsl';
import mlpWeightGradWgsl from './mlpWeightGrad.wgsl';
import convActPoolWgsl from './convActPool.wgsl';
import convActPoolBackwardWgsl from './convActPoolBackward.wgsl';
import convBackwardInputWgsl from './convBackwardInput.wgsl';
import convParamsWgsl from './convParams.wgsl';
import convForwardWgsl from './convForward.wgsl';
import convGramWgsl from './convGram.wgsl';
import convRouteBackwardWgsl from './convRouteBackward.wgsl';
import { program, type GpuProgram } from '../../gpu/program';

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

/** The layer geometry every conv-network kernel shares: the struct Params of convParams.wgsl. */
const CONV_FIELDS = [
  ['images', 'u32'],
  ['outputs', 'u32'],
  ['c', 'u32'],
  ['h', 'u32'],
  ['w', 'u32'],
  ['k', 'u32'],
  ['ho', 'u32'],
  ['wo', 'u32'],
  ['kh', 'u32'],
  ['kw', 'u32'],
  ['stride', 'u32'],
  ['padding', 'u32'],
  ['ph', 'u32'],
  ['pw', 'u32'],
  ['poolSize', 'u32'],
  ['poolStride', 'u32'],
  ['xStride', 'u32'],
  ['applyAct', 'u32'],
  ['poolKind', 'u32'],
  ['_p0', 'u32'],
] as const;

/** A conv-network kernel: convParams.wgsl (its uniform), then the activations where it applies one, then its body. */
const conv = (name: string, body: string, activation = false): GpuProgram<(typeof CONV_FIELDS)[number][0]> =>
  program(name, [convParamsWgsl, ...(activation ? [mlpActivationWgsl] : []), body].join('\n'), CONV_FIELDS);

export const convForward = conv('convForward', convForwardWgsl);
export const convActPool = conv('convActPool', convActPoolWgsl, true);
export const convActPoolBackward = conv('convActPoolBackward', convActPoolBackwardWgsl, true);
export const convRouteBackward = conv('convRouteBackward', convRouteBackwardWgsl, true);
export const convBackwardInput = conv('convBackwardInput', convBackwardInputWgsl);
export const convGram = program('convGram', convGramWgsl, [
  ['rows', 'u32'],
  ['k', 'u32'],
  ['positions', 'u32'],
  ['segments', 'u32'],
  ['perSegment', 'u32'],
  ['xStride', 'u32'],
  ['blocks', 'u32'],
  ['_p0', 'u32'],
]);
