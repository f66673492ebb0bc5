// Kernels several features share.
import transposeProductWgsl from './transposeProduct.wgsl';
import { program } from './program';

export const transposeProduct = program('transposeProduct', transposeProductWgsl, [
  ['rows', 'u32'],
  ['aPad4', 'u32'],
  ['bPad4', 'u32'],
  ['_pad', 'u32'],
]);
