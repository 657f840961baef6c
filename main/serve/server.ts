// `toklab serve`: the renderer build and the LabApi over HTTP + WebSocket on 127.0.0.1.
// Every request needs the per-start token the printed URL carries (then kept in a strict
// cookie), so other local users and web pages cannot drive the lab.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { WebSocketServer } from 'ws';
import type { WsClientFrame, WsServerFrame } from '../../preload/contract';
import type { Lab } from '../host/lab';
import { artifactPath, safeJoin } from '../host/paths';
import { dispatch } from '../host/validate';

/** The request target as a URL, or null when it does not parse (e.g. `//a:99999/`). */
function requestUrl(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

export interface ServeOptions {
  lab: Lab;
  port?: number;
  rendererDir: string;
  token?: string;
}

export interface Served {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export function csp(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://127.0.0.1:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

export async function serve(opts: ServeOptions): Promise<Served> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const tokenBuf = Buffer.from(token);
  const lab = opts.lab;
  let port = 0;

  const tokenOk = (req: IncomingMessage, url: URL): boolean => {
    const given = url.searchParams.get('token') ?? /(?:^|;\s*)toklab_token=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
    const b = Buffer.from(given);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  // DNS-rebinding guard: only our own loopback host names.
  const hostOk = (req: IncomingMessage): boolean => [`127.0.0.1:${port}`, `localhost:${port}`].includes(req.headers.host ?? '');

  const send = (res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(code, { 'content-type': type, 'x-content-type-options': 'nosniff' });
    res.end(body);
  };

  const sendFile = (res: ServerResponse, file: string, extra: Record<string, string> = {}): void => {
    if (!existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'not found');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
      ...extra,
    });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    }
  });
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = requestUrl(req.url);
    if (!url) return send(res, 400, 'bad request target');
    if (!hostOk(req)) return send(res, 403, 'forbidden host');
    if (!tokenOk(req, url)) return send(res, 401, 'toklab serve needs the token from the URL it printed at start (…?token=…).');
    const cookie = `toklab_token=${token}; HttpOnly; SameSite=Strict; Path=/`;
    if (url.pathname.startsWith('/artifacts/')) {
      // only what runs and datasets wrote: never the database, the lock or the logs
      const file = artifactPath(lab.opts.home, url.pathname.slice('/artifacts/'.length));
      return file ? sendFile(res, file) : send(res, 403, 'only run and dataset artifacts are served');
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      return sendFile(res, join(opts.rendererDir, 'index.html'), { 'content-security-policy': csp(port), 'set-cookie': cookie });
    }
    const file = safeJoin(opts.rendererDir, url.pathname.slice(1));
    return file ? sendFile(res, file) : send(res, 403, 'forbidden');
  };

  // room for a print-size figure export (a PNG data URL of tens of MB); larger frames close that connection only
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  // a malformed request or frame ends that connection only, never the server
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    else socket.destroy();
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req.url);
    if (!url) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const originOk = req.headers.origin === undefined || [`http://127.0.0.1:${port}`, `http://localhost:${port}`].includes(req.headers.origin);
    if (url.pathname !== '/ws' || !hostOk(req) || !originOk || !tokenOk(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const push = (f: WsServerFrame): void => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(f));
      };
      const off = lab.onEvent((event) => push({ event }));
      ws.on('close', off);
      ws.on('error', () => ws.terminate());
      ws.on('message', (data) => {
        let frame: WsClientFrame;
        try {
          frame = JSON.parse(String(data)) as WsClientFrame;
        } catch {
          return;
        }
        if (typeof frame?.id !== 'number') return;
        dispatch(lab, frame.method, frame.params).then(
          (result) => push({ id: frame.id, ok: true, result }),
          (e: unknown) => push({ id: frame.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
        );
      });
    });
  });

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? 0, '127.0.0.1', () => res());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((res) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => res());
        server.closeAllConnections();
      }),
  };
}
