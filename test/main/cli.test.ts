// The toklab CLI as a user runs it (bin/toklab.mjs through tsx, no build step).
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../main/host/store/db';
import { Lab } from '../../main/host/lab';
import { tempHome } from './helpers';

const run = promisify(execFile);
const BIN = join(__dirname, '../../bin/toklab.mjs');
let cleanup = (): void => {};
afterEach(() => cleanup());

async function toklab(home: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, '--home', home, ...args], { env: { ...process.env, TOKLAB_BACKEND: 'wasm' }, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A float32 .npy [n, d] (version 1 header). */
function writeNpy(path: string, data: Float32Array, n: number, d: number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const h = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(h);
  h[6] = 1;
  h.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
}

describe('toklab CLI', () => {
  it('runs list and runs show leave queued jobs alone and exit at once (#12 item 7)', async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const queuer = new Lab({ home: t.home, frontDoor: 'cli', queueHolder: false });
    const run = await queuer.startJob({ kind: 'selftest', spec: { steps: 2 } });
    for (const args of [['runs', 'list', '--json'], ['runs', 'show', String(run.id), '--json']]) {
      const t0 = Date.now();
      const r = await toklab(t.home, ...args);
      expect(r.code, r.stderr).toBe(0);
      expect(Date.now() - t0, `${args.join(' ')} waited for the queue`).toBeLessThan(20_000);
    }
    expect((await queuer.getRun(run.id)).status).toBe('queued'); // nobody ran it
    await queuer.close();
  });
  it('starts its engine from any working directory (#12 item 9)', async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const r = await run(process.execPath, [BIN, '--home', t.home, 'selftest', '--steps', '3', '--json'], { cwd: tmpdir(), env: { ...process.env, TOKLAB_BACKEND: 'wasm' }, timeout: 120_000 });
    const out = JSON.parse(r.stdout) as { status: string };
    expect(out.status).toBe('done');
  });

  it('doctor --json reports backend, versions, home and schema version', async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const r = await toklab(t.home, 'doctor', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j.backend).toBe('wasm');
    expect(j.home).toBe(t.home);
    expect(j.schemaVersion).toBe(SCHEMA_VERSION);
    expect((j.versions as Record<string, string>)['tfjs-core']).toBe('4.22.0');
    expect(j.patchedKernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'UnsortedSegmentSum', 'BatchMatMul']));
  });

  it('runs list --json reads the run store; unknown commands and options exit 2 with a message', async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const r = await toklab(t.home, 'runs', 'list', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const bad = await toklab(t.home, 'frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
    const badOpt = await toklab(t.home, 'runs', 'list', '--colour');
    expect(badOpt.code).toBe(2);
  });

  it('fid A B matches a hand-checked value and refuses mismatched files', async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    // a: N(0,1) in 2-d with 4 points; b: a shifted by (1, 0): FID = |Δμ|² = 1 exactly
    const a = new Float32Array([1, 0, -1, 0, 0, 1, 0, -1]);
    const b = a.map((v, i) => (i % 2 === 0 ? v + 1 : v));
    writeNpy(join(t.home, 'a.npy'), a, 4, 2);
    writeNpy(join(t.home, 'b.npy'), b, 4, 2);
    writeNpy(join(t.home, 'c.npy'), new Float32Array(12), 4, 3);
    const r = await toklab(t.home, 'fid', join(t.home, 'a.npy'), join(t.home, 'b.npy'), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { fid: number; kid: unknown; d: number };
    expect(j.fid).toBeCloseTo(1, 9);
    expect(j.d).toBe(2);
    expect(j.kid).not.toBeNull();
    const mism = await toklab(t.home, 'fid', join(t.home, 'a.npy'), join(t.home, 'c.npy'));
    expect(mism.code).toBe(1);
    expect(mism.stderr).toMatch(/feature dimensions differ/);
  });
});
