// The column count of a dataset file from its first bytes, without reading or parsing the whole file: the
// first record of a text table (its delimiter sniffed as the CSV reader sniffs it) or the shape in an .npy
// header. Pickers use it to offer only the files whose width fits (the NFA form: a network's input width).
import Papa from 'papaparse';
import { sniffDelimiter } from './csv';
import { parseNpyHeader } from './npy';

/** Bytes read from the start of a file to count its columns. */
export const HEAD_BYTES = 64 * 1024;

/**
 * Columns of the table in `head` (the first bytes of `fileName`, the whole file when `whole`), or null when
 * the first bytes do not tell: Parquet and .npz (footer and directory at the end), a first line longer
 * than the head, a malformed header. `fileName` chooses the reader as the loaders do (its extension).
 */
export function columnsFromHead(head: Uint8Array, fileName: string, whole: boolean): number | null {
  const ext = /\.[^./\\]+$/.exec(fileName.toLowerCase())?.[0] ?? '';
  if (ext === '.npy') {
    try {
      const { shape } = parseNpyHeader(head, fileName);
      // Rows are the first axis; columns the product of the others (as the loader flattens them).
      return shape.length === 0 ? null : shape.slice(1).reduce((a, b) => a * b, 1);
    } catch {
      return null;
    }
  }
  if (ext !== '.csv' && ext !== '.tsv' && ext !== '.txt') return null;
  let text = new TextDecoder('utf-8').decode(head).replace(/^\uFEFF/, '');
  // A cut multi-byte character or record at the end of the head is dropped.
  if (!whole) {
    const end = text.lastIndexOf('\n');
    if (end < 0) return null;
    text = text.slice(0, end + 1);
  }
  const delimiter = ext === '.tsv' ? '\t' : sniffDelimiter(text);
  const first = Papa.parse<string[]>(text, { delimiter, preview: 1, skipEmptyLines: true }).data[0];
  return first && first.length ? first.length : null;
}
