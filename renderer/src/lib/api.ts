// The LabBridge the renderer talks to: `window.lab` inside Electron, else a WebSocket client of
// `toklab serve` carrying the token from the page URL. Both are typed by preload/contract.ts.
import type { LabBridge, LabEvent, LabMethod, WsServerFrame } from '../../../preload/contract';
import { LAB_METHODS } from '../../../preload/contract';

function wsBridge(): LabBridge {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const listeners = new Set<(e: LabEvent) => void>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const queue: string[] = [];
  let nextId = 1;
  let ws: WebSocket;

  const open = (): void => {
    ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
    ws.onopen = () => {
      for (const f of queue.splice(0)) ws.send(f);
    };
    ws.onmessage = (msg) => {
      const f = JSON.parse(String(msg.data)) as WsServerFrame;
      if ('event' in f) {
        for (const l of listeners) l(f.event);
        return;
      }
      const p = pending.get(f.id);
      pending.delete(f.id);
      if (f.ok) p?.resolve(f.result);
      else p?.reject(new Error(f.error));
    };
    ws.onclose = () => {
      for (const p of pending.values()) p.reject(new Error('lost the connection to toklab serve'));
      pending.clear();
      for (const l of listeners) l({ type: 'log', runId: null, level: 'error', message: 'Disconnected from toklab serve; retrying…' });
      setTimeout(open, 1500);
    };
  };
  open();

  const call =
    (method: LabMethod) =>
    (...params: unknown[]): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        const frame = JSON.stringify({ id, method, params });
        if (ws.readyState === WebSocket.OPEN) ws.send(frame);
        else queue.push(frame);
      });

  const methods = Object.fromEntries(LAB_METHODS.map((m) => [m, call(m)])) as unknown as Omit<LabBridge, 'onEvent' | 'artifactUrl'>;
  return {
    ...methods,
    onEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    artifactUrl: (path) => `/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`,
  };
}

export function connectLab(): LabBridge {
  const w = window as unknown as { lab?: LabBridge };
  return w.lab ?? wsBridge();
}

export const lab: LabBridge = connectLab();
