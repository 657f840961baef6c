// IPC wiring: one handler per LabApi method (channel `lab:<method>`), inputs validated by the
// host's dispatcher, and calls from any sender other than our own window refused.
import type { BrowserWindow, IpcMainInvokeEvent } from 'electron';
import { dialog, ipcMain } from 'electron';
import type { LabApi } from '../../preload/contract';
import { channelFor, EVENT_CHANNEL, LAB_METHODS } from '../../preload/contract';
import type { Lab } from '../host/lab';
import { dispatch } from '../host/validate';

export function wireIpc(lab: Lab, getWindow: () => BrowserWindow | null): void {
  const api: LabApi = new Proxy(lab, {
    get(target, prop, receiver) {
      if (prop === 'pickFolder')
        return async () => {
          const win = getWindow();
          if (!win) return null;
          const r = await dialog.showOpenDialog(win, { properties: ['openDirectory'] });
          return r.canceled ? null : (r.filePaths[0] ?? null);
        };
      return Reflect.get(target, prop, receiver);
    },
  });
  for (const m of LAB_METHODS) {
    ipcMain.handle(channelFor(m), (e: IpcMainInvokeEvent, ...args: unknown[]) => {
      const win = getWindow();
      if (!win || e.sender.id !== win.webContents.id) throw new Error('refused: unknown sender');
      return dispatch(api, m, args);
    });
  }
  lab.onEvent((event) => {
    const win = getWindow();
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
  });
}
