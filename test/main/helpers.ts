// Shared test helpers for host tests: a temporary lab home and a lab on the real engine.
import { mkdtempSync, rmSync } from 'node:fs';
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
