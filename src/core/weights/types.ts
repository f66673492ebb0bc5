/** Element types a weight file may hold (safetensors spelling; other formats map onto these). */
export type DType =
  'F64' | 'F32' | 'F16' | 'BF16' | 'I8' | 'I16' | 'I32' | 'I64' | 'U8' | 'U16' | 'U32' | 'U64' | 'BOOL';

export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Bytes the tensor occupies in the file (numel * element size). */
  readonly byteLength: number;
}

/**
 * Random access to a file's bytes, so a multi-gigabyte checkpoint is listed by reading its header
 * only. `read` may return fewer bytes only at the end of the source.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export type WeightFormat = 'safetensors' | 'pytorch' | 'npz' | 'npy';

/** A value of a checkpoint that is not a tensor (epoch, loss, config, optimiser hyper-parameters...). */
export interface MetadataEntry {
  /** Key path, dotted like tensor names (`config.width`, `optimizer_state_dict.param_groups.0.lr`). */
  readonly name: string;
  /** Python type name: int, float, str, bool, NoneType, list, tuple, dict, OrderedDict, set, bytes... */
  readonly pyType: string;
  /** Python-like repr, shortened to about 80 characters. */
  readonly value: string;
}

/** An opened weight file: its tensor list is known, tensor values are read on demand. */
export interface WeightFile {
  readonly fileName: string;
  readonly format: WeightFormat;
  readonly tensors: readonly TensorInfo[];
  /**
   * True when `tensors` is in the order the writer was given them (torch.save's state_dict order,
   * np.savez's argument order); false for safetensors, whose reference writer sorts them.
   */
  readonly savedOrder: boolean;
  /** Non-tensor entries (a training checkpoint's epoch, loss, config; safetensors `__metadata__`). */
  readonly metadata: readonly MetadataEntry[];
  /**
   * Key path of the one nested dict holding every 2-D `*.weight` tensor, when the file is a checkpoint
   * wrapping a state_dict (`model_state_dict`, `state_dict`); absent when the weights are at the top.
   * The network is read from that dict with its plain names (see networkView).
   */
  readonly modelScope?: string;
  /** Values of one tensor as float64, row-major (C order), whatever the stored dtype and strides. */
  read(name: string): Promise<Float64Array>;
  /**
   * The same values in C order, a bounded number at a time, so tensors larger than memory can be
   * summarised (non-contiguous or compressed tensors come in one piece, as read() gives them).
   */
  chunks(name: string, elementsPerChunk?: number): AsyncIterable<Float64Array>;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, Math.min(offset + length, bytes.length)),
  };
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
