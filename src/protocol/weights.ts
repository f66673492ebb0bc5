// Messages between the extension host and the weights editor: a table of tensors; values stay in the host, stats arrive one by one.

/** One tensor row of the weights editor. */
export interface WireTensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  byteLength: number;
}

export interface WireTensorStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  nonFinite: number;
}

/** A non-tensor value of a checkpoint (epoch, loss, config...): core/weights MetadataEntry. */
export interface WireMetadataEntry {
  name: string;
  pyType: string;
  value: string;
}

export type WeightsHostToWebview =
  | {
      type: 'tensors';
      file: string;
      format: string;
      sizeBytes: number;
      tensors: WireTensorInfo[];
      note: string | null;
      metadata: WireMetadataEntry[];
      /** The checkpoint dict the network is read from (its 2-D weights link to the NFA view), or null for the whole file. */
      modelScope: string | null;
    }
  | { type: 'stats'; name: string; stats: WireTensorStats | null; error: string | null }
  | { type: 'failed'; message: string };

export type WeightsWebviewToHost =
  /** A 2-D tensor was clicked: open the NFA view of the network, focused on this layer. */
  { type: 'openNfa'; tensor: string };
