// Backend selection: TOKLAB_BACKEND / prefer parsing, refusals with a fix, auto picking wasm here.
import { availableParallelism } from 'node:os';
import { wantedThreads } from '../../engine/wasm-threads';
import { afterEach, describe, expect, it } from 'vitest';
import { currentBackendInfo, initBackend, parseBackendOverride } from '../../engine/backend';
import { tf } from '../../engine/tf';

const saved = process.env.TOKLAB_BACKEND;
afterEach(() => {
  if (saved === undefined) delete process.env.TOKLAB_BACKEND;
  else process.env.TOKLAB_BACKEND = saved;
});

describe('parseBackendOverride', () => {
  it('reads empty as auto and accepts every backend name, case and spaces aside', () => {
    expect(parseBackendOverride(undefined)).toBe('auto');
    expect(parseBackendOverride('')).toBe('auto');
    expect(parseBackendOverride('  ')).toBe('auto');
    expect(parseBackendOverride('auto')).toBe('auto');
    expect(parseBackendOverride(' WASM ')).toBe('wasm');
    for (const name of ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const) expect(parseBackendOverride(name)).toBe(name);
  });

  it('refuses junk with a message listing the valid values', () => {
    for (const junk of ['gpu', 'webgl', 'wasm,cpu', 'tfjs-node', '1']) {
      expect(() => parseBackendOverride(junk)).toThrow(new RegExp(`"${junk}".*tensorflow-gpu, tensorflow, wasm, cpu, auto`));
    }
  });
});

describe('initBackend', () => {
  it('auto picks wasm here, with versions, device and one note per skipped faster backend', async () => {
    delete process.env.TOKLAB_BACKEND;
    expect(currentBackendInfo()).toBeNull();
    const info = await initBackend();
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.device).toMatch(/^cpu \(wasm( simd)?, 1 thread\)$/); // TOKLAB_THREADS=1 (vitest.config.ts)
    expect(info.threads).toBe(1);
    expect(info.versions['tfjs-core']).toBe('4.22.0');
    expect(info.versions['tfjs-backend-wasm']).toBe('4.22.0');
    expect(info.versions.node).toBe(process.versions.node);
    expect(info.notes).toHaveLength(2);
    expect(info.notes[0]).toMatch(/^tensorflow-gpu skipped: @tensorflow\/tfjs-node-gpu/);
    expect(info.notes[1]).toMatch(/^tensorflow skipped: @tensorflow\/tfjs-node\b/);
    expect(info.patchedKernels).toContain('Conv2DBackpropFilter');
    expect(currentBackendInfo()).toBe(info);
  });

  it('is idempotent, also for concurrent calls', async () => {
    delete process.env.TOKLAB_BACKEND;
    const a = await initBackend();
    const [b, c] = await Promise.all([initBackend(), initBackend({ prefer: 'wasm' })]);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('refuses an unavailable forced backend, naming it and the fix, and keeps the current one', async () => {
    delete process.env.TOKLAB_BACKEND;
    const before = await initBackend();
    await expect(initBackend({ prefer: 'tensorflow-gpu' })).rejects.toThrow(
      /"tensorflow-gpu" was requested \(opts\.prefer\).*not installed.*npm install .*@tensorflow\/tfjs-node-gpu/,
    );
    await expect(initBackend({ prefer: 'tensorflow' })).rejects.toThrow(/"tensorflow".*npm install .*@tensorflow\/tfjs-node@/);
    process.env.TOKLAB_BACKEND = 'tensorflow-gpu';
    await expect(initBackend()).rejects.toThrow(/"tensorflow-gpu" was requested \(TOKLAB_BACKEND\)/);
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackendInfo()).toBe(before);
  });

  it('follows TOKLAB_BACKEND, lets an explicit prefer win over it, and lets it win over prefer auto', async () => {
    process.env.TOKLAB_BACKEND = 'cpu';
    const cpu = await initBackend();
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(cpu.patchedKernels).toEqual(['ResizeNearestNeighborGrad']);
    expect(cpu.versions['tfjs-backend-cpu']).toBe('4.22.0');
    expect((await initBackend({ prefer: 'auto' })).backend).toBe('cpu');
    const wasm = await initBackend({ prefer: 'wasm' });
    expect(wasm.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    // a tensor op really runs on the chosen backend
    expect(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]).toBe(5);
  });

  it('refuses a junk TOKLAB_BACKEND instead of silently falling back', async () => {
    process.env.TOKLAB_BACKEND = 'gpu';
    await expect(initBackend()).rejects.toThrow(/Unknown TensorFlow\.js backend "gpu"/);
  });
});

describe('wantedThreads', () => {
  it('reads TOKLAB_THREADS, defaults to every core, and refuses nonsense with the fix', () => {
    expect(wantedThreads({ TOKLAB_THREADS: '3' })).toBe(3);
    expect(wantedThreads({})).toBe(availableParallelism());
    expect(() => wantedThreads({ TOKLAB_THREADS: 'all' })).toThrow(/TOKLAB_THREADS is "all": give a whole number from 1 to 64.*or unset it/);
    expect(() => wantedThreads({ TOKLAB_THREADS: '0' })).toThrow(/from 1 to 64/);
  });
});
