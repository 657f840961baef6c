// .npy/.npz readers and `toklab fid A B` (computeFidFromFiles) on files numpy wrote, plus malformed ones.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_FID_DIM, checkFidDim, computeFidFromFiles, parseFeatureFile, readFeatureFile } from '../../engine/metrics/feature-files';
import { encodeNpy, parseNpy, readZip } from '../../engine/metrics/npy';

const dir = join(__dirname, '../fixtures/metrics');
const files = join(dir, 'files');
const tiny = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { fid: { case: string; fid_eig: number; kid_all: number }[] }).fid[0];

/** A v1 .npy image with an arbitrary header dict (for malformed cases numpy would not write). */
function npy(header: string, data: Uint8Array): Uint8Array {
  let h = header;
  while ((10 + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
  out.set(new TextEncoder().encode(h), 10);
  out.set(data, 10 + h.length);
  return out;
}

/** A minimal zip (no zip64) holding the given entries, stored or deflated. */
function zip(entries: [string, Uint8Array][], method: 0 | 8): Uint8Array {
  const locals: Uint8Array[] = [], central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const body = method === 8 ? new Uint8Array(deflateRawSync(content)) : content;
    const lh = new DataView(new ArrayBuffer(30));
    lh.setUint32(0, 0x04034b50, true);
    lh.setUint16(8, method, true);
    lh.setUint32(18, body.length, true);
    lh.setUint32(22, content.length, true);
    lh.setUint16(26, nameBytes.length, true);
    locals.push(new Uint8Array(lh.buffer), nameBytes, body);
    const ch = new DataView(new ArrayBuffer(46));
    ch.setUint32(0, 0x02014b50, true);
    ch.setUint16(10, method, true);
    ch.setUint32(20, body.length, true);
    ch.setUint32(24, content.length, true);
    ch.setUint16(28, nameBytes.length, true);
    ch.setUint32(42, offset, true);
    central.push(new Uint8Array(ch.buffer), nameBytes);
    offset += 30 + nameBytes.length + body.length;
  }
  const cdSize = central.reduce((s, b) => s + b.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  return new Uint8Array(Buffer.concat([...locals, ...central, new Uint8Array(end.buffer)]));
}

const f32 = (v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);
const f64 = (v: number[]): Uint8Array => new Uint8Array(new Float64Array(v).buffer);

describe('npy reader', () => {
  it('reads numpy-written v1 (<f4), v2 (<f8) and v3 headers', () => {
    const a = readFeatureFile(join(files, 'tiny-d8.a.npy'));
    expect(a).toMatchObject({ kind: 'features', n: 200, d: 8 });
    const raw = readFileSync(join(dir, 'tiny-d8.a.f32'));
    expect(Array.from((a as { data: Float32Array }).data.subarray(0, 5))).toEqual(Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 20))));
    const v2 = readFeatureFile(join(files, 'tiny-d8.b.f8.v2.npy'));
    const v3 = readFeatureFile(join(files, 'tiny-d8.b.v3.npy'));
    expect(v2).toMatchObject({ kind: 'features', n: 300, d: 8 });
    expect((v2 as { data: Float64Array }).data).toBeInstanceOf(Float64Array);
    expect(Array.from((v2 as { data: Float64Array }).data)).toEqual(Array.from((v3 as { data: Float32Array }).data));
    const d4 = parseNpy(readFileSync(join(files, 'd4.npy')), 'd4.npy');
    expect(d4.shape).toEqual([3, 4]);
    expect(Array.from(d4.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('encodeNpy round-trips float32 and float64, 1-D and 2-D, with a 64-byte aligned header', () => {
    const x = new Float32Array([1, -2, 3.5, 1e-8, 7, 8]);
    const e = encodeNpy(x, [3, 2]);
    expect((10 + (e[8] | (e[9] << 8))) % 64).toBe(0);
    expect(parseNpy(e, 'x.npy')).toEqual({ dtype: '<f4', shape: [3, 2], data: x });
    const y = new Float64Array([Math.PI, -1e300]);
    expect(parseNpy(encodeNpy(y, [2]), 'y.npy')).toEqual({ dtype: '<f8', shape: [2], data: y });
    expect(() => encodeNpy(y, [3])).toThrow(/needs 3 values/);
  });

  it('round-trips a hand-written header with an unaligned data offset', () => {
    const arr = parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", f64([1.5, -2.25])), 'x.npy');
    expect(Array.from(arr.data)).toEqual([1.5, -2.25]);
  });

  it('refuses Fortran order, other dtypes, wrong rank and truncation, naming the file', () => {
    expect(() => readFeatureFile(join(files, 'fortran.npy'))).toThrow(/fortran\.npy: .*Fortran/);
    expect(() => readFeatureFile(join(files, 'int32.npy'))).toThrow(/int32\.npy: dtype <i4 is not supported/);
    expect(() => readFeatureFile(join(files, 'rank3.npy'))).toThrow(/rank3\.npy: features must be a 2-D array \[N, d\], got shape \[2, 3, 4\]/);
    expect(() => parseFeatureFile(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }", f32([1, 2])), 'be.npy')).toThrow(/be\.npy: dtype >f4/);
    const good = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f32([1, 2, 3, 4]));
    expect(() => parseFeatureFile(good.subarray(0, good.length - 3), 'cut.npy')).toThrow(/cut\.npy: holds 13 data bytes .* truncated/);
    expect(() => parseFeatureFile(npy("{'descr': '<f4', 'shape': (2, 2), }", f32([1, 2, 3, 4])), 'nofo.npy')).toThrow(/nofo\.npy: malformed \.npy header/);
    expect(() => parseFeatureFile(new TextEncoder().encode('hello world'), 'text.txt')).toThrow(/text\.txt: neither/);
  });
  it('refuses a dimension FID cannot hold, and non-finite features, naming the file, before any d×d allocation (#12)', () => {
    // [2, 30000]: 240 KB of file, but d×d float64 covariances of 7 GB each
    expect(() => parseFeatureFile(encodeNpy(new Float32Array(2 * 30_000), [2, 30_000]), 'wide.npy')).toThrow(new RegExp(`wide\\.npy: feature dimension d = 30000 is above the limit of ${MAX_FID_DIM}.*transposed`));
    // within the limit but beyond free memory
    expect(() => checkFidDim(4096, 'big.npy', 2 ** 20)).toThrow(/big\.npy: FID at d = 4096 needs about 0\.6 GiB and only 0\.0 GiB is free/);
    expect(() => checkFidDim(4096, 'ok.npy', 64 * 2 ** 30)).not.toThrow();
    const nan = new Float32Array([1, 2, 3, Number.NaN, 5, 6]);
    expect(() => parseFeatureFile(encodeNpy(nan, [3, 2]), 'nan.npy')).toThrow(/nan\.npy: feature \[1, 1\] is NaN; FID needs finite features/);
    const inf = new Float32Array([1, 2, Number.POSITIVE_INFINITY, 4]);
    expect(() => parseFeatureFile(encodeNpy(inf, [2, 2]), 'inf.npy')).toThrow(/inf\.npy: feature \[1, 0\] is Infinity/);
  });
});

describe('npz reader', () => {
  it('reads np.savez (stored, zip64 extras) and np.savez_compressed (deflated)', () => {
    const stored = readFeatureFile(join(files, 'tiny-d8.b.stats.npz'));
    const deflated = readFeatureFile(join(files, 'tiny-d8.b.stats-deflated.npz'));
    expect(stored).toMatchObject({ kind: 'stats', d: 8 });
    expect(deflated).toEqual(stored);
  });

  it('reads a hand-made zip with both methods and refuses unknown compression', () => {
    const mu = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f64([1, 2]));
    const sigma = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f32([1, 0, 0, 1]));
    for (const method of [0, 8] as const) {
      const s = parseFeatureFile(zip([['mu.npy', mu], ['sigma.npy', sigma]], method), 'hand.npz');
      expect(s).toEqual({ kind: 'stats', d: 2, mu: new Float64Array([1, 2]), sigma: new Float64Array([1, 0, 0, 1]) });
    }
    const bad = zip([['mu.npy', mu]], 0);
    new DataView(bad.buffer).setUint16(bad.length - 22 - 46 - 6 + 10, 12, true); // central directory method → bzip2
    expect(() => readZip(bad, 'bz.npz')).toThrow(/bz\.npz: entry mu\.npy uses compression method 12/);
  });

  it('refuses missing entries and mismatched mu/sigma shapes', () => {
    expect(() => readFeatureFile(join(files, 'mu-only.npz'))).toThrow(/mu-only\.npz: a statistics \.npz needs entries mu\.npy and sigma\.npy, found mu\.npy/);
    const mu = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64([1, 2, 3]));
    const sigma = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64([1, 0, 0, 1]));
    expect(() => parseFeatureFile(zip([['mu.npy', mu], ['sigma.npy', sigma]], 0), 'm.npz')).toThrow(/m\.npz: sigma must be \[3, 3\]/);
    const trunc = zip([['mu.npy', mu]], 0);
    expect(() => readZip(trunc.subarray(0, trunc.length - 30), 't.npz')).toThrow(/t\.npz: not a readable/);
  });

  it('refuses a sigma that cannot be a covariance (#12: sigma = −I was accepted), naming the file and the entry', () => {
    const mu = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f64([0, 0]));
    const stats = (s: number[]) => zip([['mu.npy', mu], ['sigma.npy', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64(s))]], 0);
    expect(() => parseFeatureFile(stats([-1, 0, 0, -1]), 'neg.npz')).toThrow(/neg\.npz: sigma is not a covariance matrix: sigma\[0, 0\] = -1 is a negative variance\. Give the features' covariance \(numpy\.cov/);
    expect(() => parseFeatureFile(stats([1, 0.5, 0.2, 1]), 'asym.npz')).toThrow(/asym\.npz: .*sigma\[0, 1\] = 0\.5 but sigma\[1, 0\] = 0\.2 \(not symmetric\)/);
    expect(() => parseFeatureFile(stats([1, 3, 3, 1]), 'big.npz')).toThrow(/big\.npz: .*\|sigma\[0, 1\]\| = 3 exceeds/);
    // a real covariance (and one of a constant feature) passes
    expect(parseFeatureFile(stats([2, 1, 1, 2]), 'ok.npz').kind).toBe('stats');
    expect(parseFeatureFile(stats([1, 0, 0, 0]), 'flat.npz').kind).toBe('stats');
  });
});

describe('computeFidFromFiles', () => {
  it('features vs features: FID and KID match the SciPy fixture', async () => {
    const r = await computeFidFromFiles(join(files, 'tiny-d8.a.npy'), join(files, 'tiny-d8.b.v3.npy'), { kid: { allSamples: true } });
    expect(Math.abs(r.fid - tiny.fid_eig) / tiny.fid_eig).toBeLessThan(1e-6);
    expect(Math.abs((r.kid?.kid ?? NaN) - tiny.kid_all) / tiny.kid_all).toBeLessThan(1e-6);
    expect(r).toMatchObject({ nA: 200, nB: 300, d: 8, warnings: [] });
    const sub = await computeFidFromFiles(join(files, 'tiny-d8.a.npy'), join(files, 'tiny-d8.b.v3.npy'));
    expect(sub.kid?.subsets).toBe(10);
  });

  it('features vs numpy statistics: same FID, no KID, a note saying why', async () => {
    const r = await computeFidFromFiles(join(files, 'tiny-d8.a.npy'), join(files, 'tiny-d8.b.stats-deflated.npz'));
    expect(Math.abs(r.fid - tiny.fid_eig) / tiny.fid_eig).toBeLessThan(1e-6);
    expect(r.kid).toBeUndefined();
    expect(r.nB).toBeNull();
    expect(r.warnings.join(' ')).toMatch(/KID needs features on both sides/);
  });

  it('refuses mismatched dimensions naming both files', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'toklab-metrics-'));
    const p = join(tmp, 'd3.npy');
    writeFileSync(p, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32([1, 2, 3, 4, 5, 6])));
    await expect(computeFidFromFiles(join(files, 'tiny-d8.a.npy'), p)).rejects.toThrow(/feature dimensions differ: tiny-d8\.a\.npy has d = 8, d3\.npy has d = 3/);
  });
});
