// The export list of the andor kernel module: every kernel the engine calls, by its one name
// (camelCase + dtype suffix, the same names as KernelExports in engine/contracts/kernels.ts).
// Buffers are owned by the host; kernels take byte pointers into this module's linear memory.

export {
  zetaSubsetF64,
  mobiusSubsetF64,
  zetaSupersetF64,
  mobiusSupersetF64,
  affineF64,
  orTransformF64,
  orInverseF64,
} from './kernels/transforms';

export { objectiveF64, objectiveGradientF64, sgdReferenceF64, sgdF64, adamF64, pdhgF64 } from './kernels/decompose';

export { bitGramF32, conjugateGradientsF32, decoupleF32 } from './kernels/least-squares';

export { treeHistogramF64, treeNibblesF64, treeTableF64, treeDescendI32, treeBoostF64, boostWorkF64 } from './kernels/trees';

export { zetaSubsetRadix2F64, mobiusSubsetRadix2F64, zetaSupersetRadix2F64, mobiusSupersetRadix2F64 } from './kernels/radix2';

/** First byte past the module's static data: the host allocates its buffers from here up. */
export function heapBase(): usize {
  return __heap_base;
}
