// The app window with Electron's security defaults on, and the artifact protocol that serves
// files from the lab home only.
import { BrowserWindow, net, protocol, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { artifactPath } from '../host/paths';
// a token grid with one perturbed token: the lab's icon
import icon from '../../resources/icon.png?asset';

export const ARTIFACT_SCHEME = 'toklab-artifact';

/** Must run before app ready. */
export function registerSchemes(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: ARTIFACT_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveArtifacts(home: string): void {
  protocol.handle(ARTIFACT_SCHEME, (req) => {
    const url = new URL(req.url);
    // the same rule as toklab serve: run and dataset artifacts only, never lab.db, the lock or the logs
    const file = artifactPath(home, url.pathname.slice(1));
    if (!file) return new Response('only run and dataset artifacts are served', { status: 403 });
    return net.fetch(pathToFileURL(file).toString());
  });
}

export function createWindow(outDir: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'toklab',
    icon,
    webPreferences: {
      preload: join(outDir, 'preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // Links open in the user's browser; the window itself never navigates away from the app.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  const devUrl = process.env.ELECTRON_RENDERER_URL;
  if (devUrl) void win.loadURL(devUrl);
  else void win.loadFile(join(outDir, 'renderer/index.html'));
  return win;
}
