// The RFM kernels and their uniform layouts (see core/gpu/program.ts).
import gradAccumulateWgsl from './gradAccumulate.wgsl';
import gradFusedWgsl from './gradFused.wgsl';
import kernelMatrixWgsl from './kernelMatrix.wgsl';
import kernelTimesColsWgsl from './kernelTimesCols.wgsl';
import kernelTimesColsSymWgsl from './kernelTimesColsSym.wgsl';
import kernelTimesColsSymReduceWgsl from './kernelTimesColsSymReduce.wgsl';
import patchKernelWgsl from './patchKernel.wgsl';
import { program } from '../../gpu/program';

export const kernelMatrix = program('kernelMatrix', kernelMatrixWgsl, [
  ['rowsA', 'u32'],
  ['rowsB', 'u32'],
  ['d', 'u32'],
  ['ldA4', 'u32'],
  ['ldB4', 'u32'],
  ['ldOut', 'u32'],
  ['invL', 'f32'],
  ['aCol4', 'u32'],
]);

export const kernelTimesCols = program('kernelTimesCols', kernelTimesColsWgsl, [
  ['rows', 'u32'],
  ['ld4', 'u32'],
  ['cPad4', 'u32'],
  ['_pad', 'u32'],
]);

export const kernelTimesColsSym = program('kernelTimesColsSym', kernelTimesColsSymWgsl, [
  ['rows', 'u32'],
  ['n', 'u32'],
  ['ld4', 'u32'],
  ['cPad4', 'u32'],
  ['r0', 'u32'],
  ['_p0', 'u32'],
  ['_p1', 'u32'],
  ['_p2', 'u32'],
]);

export const kernelTimesColsSymReduce = program('kernelTimesColsSymReduce', kernelTimesColsSymReduceWgsl, [
  ['n', 'u32'],
  ['ld4', 'u32'],
  ['cPad4', 'u32'],
  ['slots', 'u32'],
]);

export const gradFused = program('gradFused', gradFusedWgsl, [
  ['rows', 'u32'],
  ['n', 'u32'],
  ['c', 'u32'],
  ['xStride', 'u32'],
  ['invL', 'f32'],
  ['_p0', 'u32'],
  ['_p1', 'u32'],
  ['_p2', 'u32'],
]);

export const gradAccumulate = program('gradAccumulate', gradAccumulateWgsl, [
  ['rows', 'u32'],
  ['n', 'u32'],
  ['c', 'u32'],
  ['dPad4', 'u32'],
  ['ldW', 'u32'],
  ['xStride', 'u32'],
  ['_p1', 'u32'],
  ['_p2', 'u32'],
]);

/** ConvRFM's aligned-patch kernel matrix (conv-webgpu.ts). */
export const patchKernel = program('patchKernel', patchKernelWgsl, [
  ['nA', 'u32'],
  ['nB', 'u32'],
  ['k', 'u32'],
  ['P', 'u32'],
  ['invL', 'f32'],
  ['aRow0', 'u32'],
  ['rows', 'u32'],
  ['_pad', 'u32'],
]);
