#!/usr/bin/env node
// `npm start`: build, then launch the desktop app; where no Electron binary is installed, say
// so in one line and start `toklab serve` instead (it prints the URL to open).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']);

let electronPath = null;
try {
  const p = createRequire(join(root, 'package.json'))('electron');
  if (typeof p === 'string' && existsSync(p)) electronPath = p;
} catch {
  electronPath = null;
}

const passthrough = process.argv.slice(2);
if (electronPath) {
  run(process.execPath, [join(root, 'scripts/electron-native.mjs')]);
  const child = spawn(electronPath, [root, ...passthrough], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log('No Electron binary is installed here; starting `toklab serve` instead — open the URL it prints.');
  const child = spawn(process.execPath, [join(root, 'bin/toklab.mjs'), ...passthrough, 'serve'], { cwd: root, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
