// Electron main process: lifecycle only. The lab itself (SQLite, queue, engine supervision)
// lives in main/host and is shared with `toklab serve` and the CLI.
import { app, BrowserWindow, dialog, Menu, shell } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_CHANNEL } from '../preload/contract';
import { resolveHome } from './host/home';
import { Lab } from './host/lab';
import { utilityLauncher } from './electron/engine-utility';
import { wireIpc } from './electron/ipc';
import { homeArg, menuTemplate } from './electron/menu';
import { createWindow, registerSchemes, serveArtifacts } from './electron/window';

// out/main/index.js → out/
const OUT_DIR = join(__dirname, '..');
let win: BrowserWindow | null = null;
let lab: Lab | null = null;

// The artifact scheme must be privileged before ready.
registerSchemes();

// One instance per lab home: a second launch focuses the first window.
if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', () => win?.focus());

app.whenReady().then(() => {
  // --home DIR (a reopen from File → Open Lab Home passes it), else TOKLAB_HOME, else the app's own folder
  const home = resolveHome(homeArg(process.argv) ?? (process.env.TOKLAB_HOME ? undefined : join(app.getPath('userData'), 'lab')));
  // better-sqlite3 built for Electron's ABI (scripts/electron-native.mjs); the Node build stays for tests.
  const native = join(app.getAppPath(), '.electron-native/better_sqlite3.node');
  lab = new Lab({
    home,
    frontDoor: 'electron',
    eagerEngine: true,
    launcher: utilityLauncher(join(__dirname, 'engine.js'), home),
    nativeBinding: existsSync(native) ? native : undefined,
  });
  serveArtifacts(home);
  wireIpc(lab, () => win);
  win = createWindow(OUT_DIR);
  win.on('closed', () => (win = null));
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        isMac: process.platform === 'darwin',
        send: (action) => win?.webContents.send(EVENT_CHANNEL, { type: 'menu', action }),
        showHome: () => void shell.openPath(home),
        openHome: () => {
          if (!win) return;
          void dialog.showOpenDialog(win, { title: 'Open a lab home', properties: ['openDirectory', 'createDirectory'] }).then((r) => {
            const dir = r.canceled ? undefined : r.filePaths[0];
            if (!dir || dir === home) return;
            // one lab per process (one SQLite writer, one queue): reopen the app on the chosen folder
            const args = process.argv.slice(1).filter((x, i, all) => !x.startsWith('--home') && all[i - 1] !== '--home');
            app.relaunch({ args: [...args, `--home=${dir}`] });
            app.quit();
          });
        },
      }),
    ),
  );
});

// Closing the window ends the app on every platform: the lab has no background mode.
app.on('window-all-closed', () => app.quit());

// Stop the engine and close the database before exit (bounded by the supervisor's grace time).
let quitting = false;
app.on('before-quit', (e) => {
  if (quitting || !lab) return;
  quitting = true;
  e.preventDefault();
  void lab.close().finally(() => app.quit());
});
