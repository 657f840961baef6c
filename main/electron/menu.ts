// The desktop app's native menu: pages and export with keyboard shortcuts, and the lab home (open
// another one, show this one). The template is built from plain callbacks so it can be checked
// without Electron; main/index.ts wires it to the window.
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuAction } from '../../preload/contract';
import { PAGES } from '../../preload/contract';

export interface MenuActions {
  /** Sent to the renderer as a `menu` event. */
  send(action: MenuAction): void;
  /** Pick another lab home folder and reopen the app on it. */
  openHome(): void;
  /** Show this lab home in the system's file manager. */
  showHome(): void;
  isMac: boolean;
}

export function menuTemplate(a: MenuActions): MenuItemConstructorOptions[] {
  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open Lab Home…', accelerator: 'CmdOrCtrl+O', click: () => a.openHome() },
      { label: 'Show Lab Home in Folder', accelerator: 'CmdOrCtrl+Shift+O', click: () => a.showHome() },
      { type: 'separator' },
      { label: 'Export Chart…', accelerator: 'CmdOrCtrl+E', click: () => a.send({ kind: 'export' }) },
      { type: 'separator' },
      a.isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const go: MenuItemConstructorOptions = {
    label: '&Go',
    submenu: PAGES.map((page, i) => ({ label: page, accelerator: `CmdOrCtrl+${i + 1}`, click: () => a.send({ kind: 'page', page }) })),
  };
  const edit: MenuItemConstructorOptions = { role: 'editMenu' };
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }],
  };
  const win: MenuItemConstructorOptions = { role: 'windowMenu' };
  return [...(a.isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []), file, edit, go, view, win];
}

/** `--home=DIR` or `--home DIR` among the app's arguments (a reopen from the menu passes it). */
export function homeArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--home=')) return argv[i].slice('--home='.length);
    if (argv[i] === '--home' && argv[i + 1]) return argv[i + 1];
  }
  return undefined;
}
