// A ustar archive writer (POSIX.1-1988), as much as `relaystore backup` needs: directories and
// regular files, streamed, so that a database of gigabytes never sits in memory. Any `tar -x` reads it.
import { open } from 'node:fs/promises';

export type TarEntry =
  | { readonly kind: 'dir'; readonly name: string; readonly mode: number }
  | { readonly kind: 'file'; readonly name: string; readonly mode: number; readonly path: string };

const BLOCK = 512;
/** The largest size the 11 octal digits of ustar hold; beyond it, GNU tar's base-256 form (which bsdtar reads too). */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

/** The archive, block by block: each entry's header, then its content padded to a whole block, then two empty blocks. */
export async function* tarStream(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if (entry.kind === 'dir') {
      yield header(entry.name.replace(/\/?$/, '/'), entry.mode, 0, '5');
      continue;
    }
    const file = await open(entry.path, 'r');
    try {
      const { size } = await file.stat();
      yield header(entry.name, entry.mode, size, '0');
      yield* content(file, size);
    } finally {
      await file.close();
    }
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** Exactly `size` bytes of `file` (taken when its header was written), then zeros to the block. */
async function* content(file: Awaited<ReturnType<typeof open>>, size: number): AsyncGenerator<Buffer> {
  for (let done = 0; done < size; ) {
    const buffer = Buffer.alloc(Math.min(1 << 20, size - done));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, done);
    if (bytesRead === 0) throw new Error('file shrank while it was archived');
    done += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
  if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
}

/** One 512-byte ustar header. Owner 0 and time 0: the archive says nothing about who made it, or when. */
function header(name: string, mode: number, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  writeSize(h, size);
  h.write(octal(0, 12), 136);
  h.write(type, 156);
  h.write('ustar\u000000', 257);
  h.fill(' ', 148, 156); // the checksum counts its own field as spaces
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148);
  return h;
}

function writeSize(h: Buffer, size: number): void {
  if (size <= MAX_OCTAL_SIZE) h.write(octal(size, 12), 124);
  else {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
}

/** `width - 1` octal digits and a NUL. */
function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\u0000`;
}
