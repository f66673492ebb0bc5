// Node-only: a ByteSource over a file on disk, reading ranges with positional reads.
import { open, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from './types';

export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

export async function fileByteSource(path: string): Promise<FileByteSource> {
  const handle: FileHandle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(len);
      let done = 0;
      while (done < len) {
        const { bytesRead } = await handle.read(buf, done, len - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === len ? buf : buf.subarray(0, done);
    },
    close: () => handle.close(),
  };
}
