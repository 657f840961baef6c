// Readers for NumPy's .npy format (v1/v2/v3 headers, little-endian float32/float64, C order) and the
// .npz zip container (stored or deflated entries, zip64 extras as np.savez writes them). Errors name the
// file and the problem, since these come straight from a user's `toklab fid A B`.
import { inflateRawSync } from 'node:zlib';

export interface NpyArray {
  dtype: '<f4' | '<f8';
  shape: number[];
  data: Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(buf: Uint8Array): boolean {
  return buf.length >= 6 && MAGIC.every((b, i) => buf[i] === b);
}

export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

/** Parse one .npy image; `name` is used only in error messages. */
export function parseNpy(buf: Uint8Array, name: string): NpyArray {
  const fail = (problem: string): Error => new Error(`${name}: ${problem}`);
  if (!isNpy(buf)) throw fail('not a .npy file (missing the \\x93NUMPY magic)');
  if (buf.length < 10) throw fail('truncated .npy header');
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw fail('truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw fail(`unsupported .npy format version ${major}.${buf[7]} (1.0, 2.0 and 3.0 are supported)`);
  }
  if (start + headerLen > buf.length) throw fail('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw fail(`malformed .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw fail('array is in Fortran (column-major) order; save it C-contiguous (np.ascontiguousarray) instead');
  if (descr !== '<f4' && descr !== '<f8') throw fail(`dtype ${descr} is not supported; save little-endian float32 ('<f4') or float64 ('<f8')`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(v) || v < 0) throw fail(`bad shape entry ${JSON.stringify(s)} in .npy header`);
      return v;
    });
  const itemSize = descr === '<f4' ? 4 : 8;
  const count = shape.reduce((p, v) => p * v, 1);
  const offset = start + headerLen;
  if (buf.length - offset !== count * itemSize) {
    throw fail(`holds ${buf.length - offset} data bytes but its header (shape [${shape.join(', ')}], ${descr}) needs ${count * itemSize}: the file is truncated or corrupt`);
  }
  // copy into a fresh, aligned buffer: the data offset need not be a multiple of 8, and a Node Buffer's
  // .buffer is a shared pool (Buffer#slice does not copy)
  const bytes = new ArrayBuffer(count * itemSize);
  new Uint8Array(bytes).set(buf.subarray(offset, offset + count * itemSize));
  const data = descr === '<f4' ? new Float32Array(bytes) : new Float64Array(bytes);
  return { dtype: descr, shape, data };
}

function u64(view: DataView, at: number, fail: (p: string) => Error): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('zip64 size too large');
  return Number(v);
}

/** Entries of a zip archive by name, decompressed. Parses the central directory, not the local headers' sizes. */
export function readZip(buf: Uint8Array, name: string): Map<string, Uint8Array> {
  const fail = (problem: string): Error => new Error(`${name}: ${problem}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw fail('not a readable .npz/zip file (no end-of-central-directory record)');
  let entries = view.getUint16(eocd + 10, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (entries === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== 0x07064b50) throw fail('zip64 archive without a zip64 locator');
    const z64 = u64(view, loc + 8, fail);
    if (z64 + 56 > buf.length || view.getUint32(z64, true) !== 0x06064b50) throw fail('corrupt zip64 end-of-central-directory record');
    entries = u64(view, z64 + 32, fail);
    cdOffset = u64(view, z64 + 48, fail);
  }
  const out = new Map<string, Uint8Array>();
  let p = cdOffset;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > buf.length || view.getUint32(p, true) !== 0x02014b50) throw fail('corrupt zip central directory');
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    let compSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const entryName = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field (id 1): 8-byte values, present only for the fields saturated at 0xffffffff
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = view.getUint16(x, true), len = view.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        if (size === 0xffffffff) {
          size = u64(view, q, fail);
          q += 8;
        }
        if (compSize === 0xffffffff) {
          compSize = u64(view, q, fail);
          q += 8;
        }
        if (local === 0xffffffff) local = u64(view, q, fail);
      }
      x += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 1) throw fail(`entry ${entryName} is encrypted`);
    if (local + 30 > buf.length || view.getUint32(local, true) !== 0x04034b50) throw fail(`corrupt local header for entry ${entryName}`);
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (dataStart + compSize > buf.length) throw fail(`entry ${entryName} is truncated`);
    const raw = buf.subarray(dataStart, dataStart + compSize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch (err) {
        throw fail(`entry ${entryName} does not inflate: ${(err as Error).message}`);
      }
    } else throw fail(`entry ${entryName} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (data.length !== size) throw fail(`entry ${entryName} has ${data.length} bytes, its directory says ${size}`);
    out.set(entryName, data);
  }
  return out;
}

/** A v1 .npy image (C order, little-endian) of a float32/float64 array, e.g. features [N,d] for `toklab fid`. */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((p, v) => p * v, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] needs ${count} values, got ${data.length}`);
  const descr = data instanceof Float32Array ? '<f4' : '<f8';
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // pad so the data starts on a 64-byte boundary, header ends with '\n' (as numpy writes it)
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  if (header.length > 0xffff) throw new Error('encodeNpy: header too long for format 1.0');
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
