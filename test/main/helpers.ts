// Shared test helpers for host tests: a temporary lab home and a lab on the real engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../main/host/lab';

export function tempHome(): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'toklab-test-'));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** A lab on a real forked engine, forced to the wasm backend. */
export function openTestLab(home: string, engines = 1): Lab {
  process.env.TOKLAB_BACKEND = 'wasm';
  return new Lab({ home, frontDoor: 'cli', engines });
}

/** Cleanups a test registers as it goes (labs to close, homes to remove), run in reverse after each test. */
export function cleanupsAfterEach(): (c: () => void | Promise<void>) => void {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return (c) => void cleanups.push(c);
}
