#!/usr/bin/env node
// Builds better-sqlite3 for Electron's ABI into .electron-native/ (loaded by the app through
// better-sqlite3's `nativeBinding` option), leaving node_modules' Node build for the CLI and tests.
// better-sqlite3 uses the V8 API, not N-API, so one binary cannot serve both runtimes.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
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

console.log(`Building better-sqlite3 for Electron ${electronVersion} (needs Electron's headers once)…`);
const src = dirname(require.resolve('better-sqlite3/package.json'));
const work = mkdtempSync(join(tmpdir(), 'toklab-sqlite-electron-'));
cpSync(src, work, { recursive: true, filter: (p) => !p.includes(`${'build'}/Release/obj`) });
// npm ships node-gyp and names it in npm_config_node_gyp for scripts it runs (`npm start`).
const gyp = process.env.npm_config_node_gyp ?? join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers', '--runtime=electron'], { cwd: work, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('Could not build better-sqlite3 for Electron (offline? no compiler?). The app cannot open its database without it; `toklab serve` works without it.');
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
copyFileSync(join(work, 'build/Release/better_sqlite3.node'), out);
copyFileSync(out, stamp);
rmSync(work, { recursive: true, force: true });
