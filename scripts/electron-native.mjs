#!/usr/bin/env node
// Builds better-sqlite3 for Electron's ABI into .electron-native/ (loaded by the app through
// better-sqlite3's `nativeBinding` option), leaving node_modules' Node build for the CLI and tests.
// better-sqlite3 uses the V8 API, not N-API, so one binary cannot serve both runtimes.
//
// The build is @electron/rebuild's (the ecosystem's tool: it takes better-sqlite3's Electron prebuild
// when one is published for this Electron, else compiles against Electron's headers). It rebuilds in
// place, so the Node binary is set aside first and put back afterwards, whatever happens.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
const outDir = join(root, '.electron-native');
const out = join(outDir, 'better_sqlite3.node');
const stamp = join(outDir, `electron-${electronVersion}`);
if (existsSync(out) && existsSync(stamp)) process.exit(0);

const moduleDir = dirname(require.resolve('better-sqlite3/package.json'));
const built = join(moduleDir, 'build/Release/better_sqlite3.node');
console.log(`Building better-sqlite3 for Electron ${electronVersion} with @electron/rebuild (a prebuild or Electron's headers are fetched once)…`);
const { rebuild } = await import('@electron/rebuild');
const keep = mkdtempSync(join(tmpdir(), 'toklab-sqlite-node-'));
const nodeBinary = join(keep, 'better_sqlite3.node');
if (existsSync(built)) copyFileSync(built, nodeBinary);
try {
  await rebuild({ buildPath: root, electronVersion, onlyModules: ['better-sqlite3'], force: true });
  mkdirSync(outDir, { recursive: true });
  copyFileSync(built, out);
  copyFileSync(out, stamp);
} catch (e) {
  console.error(`Could not build better-sqlite3 for Electron (${e instanceof Error ? e.message : e}). Offline, or no compiler? The app cannot open its database without it; \`npx toklab serve\` works without it.`);
  process.exitCode = 1;
} finally {
  // the CLI, `toklab serve` and the tests keep the Node build
  if (existsSync(nodeBinary)) {
    mkdirSync(dirname(built), { recursive: true });
    copyFileSync(nodeBinary, built);
  }
  rmSync(keep, { recursive: true, force: true });
}
