// Preload bridge (sandboxed, contextIsolation): exposes the LabApi as named methods only,
// each forwarding to its own IPC channel. No generic invoke, no ipcRenderer on window.
import { contextBridge, ipcRenderer } from 'electron';
import type { LabBridge, LabEvent, LabMethod } from './contract';
import { channelFor, EVENT_CHANNEL, LAB_METHODS } from './contract';

const call =
  (m: LabMethod) =>
  (...args: unknown[]): Promise<unknown> =>
    ipcRenderer.invoke(channelFor(m), ...args);

const methods = Object.fromEntries(LAB_METHODS.map((m) => [m, call(m)])) as unknown as Omit<LabBridge, 'onEvent' | 'artifactUrl'>;

const bridge: LabBridge = {
  ...methods,
  onEvent(listener: (e: LabEvent) => void) {
    const wrapped = (_: unknown, e: LabEvent): void => listener(e);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
    };
  },
  artifactUrl: (path: string) => `toklab-artifact://lab/${path.split('/').map(encodeURIComponent).join('/')}`,
};

contextBridge.exposeInMainWorld('lab', bridge);
