// Fuzzing `toklab serve` (issue "Reliability"): 1,200 malformed inputs from a seeded generator, i.e.
// contract messages with bad methods, params and specs, non-JSON and binary frames, raw malformed
// WebSocket frames and malformed HTTP request targets. Afterwards the server answers a valid request,
// and the database holds exactly what it held before: every invalid spec was refused.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LAB_METHODS } from '../../preload/contract';
import type { Lab } from '../../main/host/lab';
import { serve, type Served } from '../../main/serve/server';
import { openTestLab, tempHome } from './helpers';

/** mulberry32: the same 1,200 inputs on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(12);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));

const BAD_VALUES: unknown[] = [-1, 0, 1.5, 1e308, -1e308, 'x', '', '1; DROP TABLE runs', {}, [], [[]], true, { __proto__: { polluted: 1 } }, 'é'.repeat(5000), { a: { b: { c: { d: {} } } } }];
const BAD_KINDS = ['format-disk', '', 'SELFTEST', '__proto__', 'constructor', 'train-tokenizer ', 42, null, ['selftest']];

/** One contract message that must be refused (never a valid request that could add a row or a file). */
function badMessage(id: number): string | Buffer {
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return bytes(1 + Math.floor(rnd() * 64)).toString('latin1'); // not JSON
    case 1:
      return JSON.stringify(pick([null, 7, 'listRuns', [1, 'listRuns', []], true])); // JSON, not a frame
    case 2:
      return JSON.stringify({ id, method: pick(['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'close', 'repo']), params: [] });
    case 3:
      return JSON.stringify({ id, method: pick(LAB_METHODS.filter((m) => m !== 'appInfo' && m !== 'pickFolder' && m !== 'listRuns' && m !== 'listDatasets' && m !== 'listSweeps')), params: pick(['x', 5, null, { 0: 1 }]) });
    case 4:
      return JSON.stringify({ id, method: 'startJob', params: [{ kind: pick(BAD_KINDS), spec: {} }] });
    case 5: // a real kind with a spec that breaks its validator
      return JSON.stringify({ id, method: 'startJob', params: [{ kind: 'selftest', spec: pick([null, 'spec', 5, [], { steps: pick([-1, 0, 1e9, 'x', 2.5, {}]) }, { batchSize: 0 }, { resolution: 4096 }, { seed: -3 }]) }] });
    case 6:
      return JSON.stringify({ id, method: pick(['getRun', 'cancelRun', 'resumeRun', 'getDataset']), params: [pick([-1, 0, 1e12, 'x', 2.5, null, 999_999])] });
    case 7:
      return JSON.stringify({ id, method: pick(['exportFile', 'setRunTags', 'setRunNotes', 'createSweep', 'correlate']), params: [pick(BAD_VALUES), pick(BAD_VALUES)] });
    default:
      return bytes(1 + Math.floor(rnd() * 32)); // a binary frame
  }
}

const HANDSHAKE = (port: number, token: string) =>
  `GET /ws?token=${token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** Writes bytes on a raw socket (after a WebSocket handshake when `upgrade`), resolves when the server closes it or after `ms`. */
function raw(port: number, data: Buffer, upgrade: string | null, ms = 400): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const done = (): void => {
      sock.destroy();
      resolve();
    };
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (upgrade && got.includes('101 Switching')) sock.write(data);
    });
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => sock.write(upgrade ?? data));
    setTimeout(done, ms);
  });
}

/** A raw frame the protocol forbids or that carries garbage: bad opcodes, RSV bits, no mask, lying lengths. */
function badFrame(): Buffer {
  const opcode = pick([0x0, 0x1, 0x2, 0x3, 0x7, 0x8, 0x9, 0xb, 0xf]);
  const fin = rnd() < 0.5 ? 0x80 : 0;
  const rsv = pick([0, 0x40, 0x20, 0x10, 0x70]);
  const masked = rnd() < 0.7 ? 0x80 : 0;
  const len = pick([0, 1, 125, 126, 127]);
  const head = Buffer.from([fin | rsv | opcode, masked | len]);
  const ext = len === 126 ? Buffer.from([0xff, 0xff]) : len === 127 ? Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) : Buffer.alloc(0);
  return Buffer.concat([head, ext, masked ? bytes(4) : Buffer.alloc(0), bytes(Math.floor(rnd() * 40))]);
}

function badTarget(): string {
  return pick([
    `//a:${Math.floor(rnd() * 1e6)}/`,
    `//${bytes(6).toString('hex')}:99999/x`,
    `/%${bytes(1).toString('hex')}%zz`,
    `/artifacts/${pick(['..', '%2e%2e', '..%2f..', '%00'])}/${pick(['lab.db', 'etc/passwd', 'worker.lock'])}`,
    `http://[::1`,
    `/${'a'.repeat(9000)}`,
    `*`,
    `/?token=${'%'.repeat(5)}`,
  ]);
}

let lab: Lab | null = null;
let served: Served | null = null;
const t = tempHome();
afterAll(async () => {
  await served?.close();
  await lab?.close();
  t.cleanup();
});

function tableCounts(l: Lab): Record<string, number> {
  const tables = (l.repo.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
  return Object.fromEntries(tables.map((name) => [name, (l.repo.db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n]));
}

describe('toklab serve under fuzzing', () => {
  it('survives 1,200 malformed inputs with no crash and no row changed, then answers a valid request', async () => {
    const rendererDir = mkdtempSync(join(tmpdir(), 'toklab-renderer-'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>toklab</title>');
    mkdirSync(join(t.home, 'runs'), { recursive: true });
    lab = openTestLab(t.home);
    served = await serve({ lab, rendererDir });
    const { port, token } = served;
    const before = tableCounts(lab);
    let errors = 0;
    const onError = (): void => void errors++;
    process.on('uncaughtException', onError);
    try {
      // 1,000 contract messages over WebSocket connections; every framed one with an id gets a refusal
      let sent = 0, expected = 0, refused = 0, accepted = 0;
      while (sent < 1000) {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
        await new Promise<void>((res, rej) => {
          ws.on('open', () => res());
          ws.on('error', rej);
        });
        const ids = new Set<number>();
        ws.on('message', (d) => {
          const f = JSON.parse(String(d)) as { id?: number; ok?: boolean };
          if (typeof f.id !== 'number' || !ids.delete(f.id)) return;
          if (f.ok) accepted++;
          else refused++;
        });
        for (let k = 0; k < 100; k++, sent++) {
          const m = badMessage(sent);
          if (typeof m === 'string' && /^\{"id":\d+/.test(m)) {
            ids.add(sent);
            expected++;
          }
          ws.send(m);
        }
        for (let w = 0; w < 200 && ids.size > 0; w++) await new Promise((r) => setTimeout(r, 25));
        expect(ids.size, 'every framed request got an answer').toBe(0);
        ws.close();
      }
      expect(expected).toBeGreaterThan(500); // most messages are framed requests that reach the dispatcher
      expect(refused + accepted).toBe(expected);
      expect(accepted, 'no malformed request was accepted').toBe(0);
      // 100 raw malformed frames, each after a real handshake, 10 connections at a time
      for (let b = 0; b < 10; b++) await Promise.all(Array.from({ length: 10 }, () => raw(port, badFrame(), HANDSHAKE(port, token))));
      // 100 malformed request targets, plain and on the upgrade path
      for (let b = 0; b < 10; b++)
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => {
            const upgrade = i % 2 === 1 ? 'Upgrade: websocket\r\nConnection: Upgrade\r\n' : '';
            return raw(port, Buffer.from(`GET ${badTarget()} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${upgrade}\r\n`, 'latin1'), null);
          }),
        );
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors, 'uncaught exceptions in the server').toBe(0);
    // still serving: a page, a valid call, and the same rows as before
    expect((await fetch(`http://127.0.0.1:${port}/?token=${token}`)).status).toBe(200);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
    const answer = await new Promise<unknown>((res, rej) => {
      ws.on('error', rej);
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'listRuns', params: [{}] })));
      ws.on('message', (d) => res(JSON.parse(String(d))));
    });
    ws.close();
    expect(answer).toEqual({ id: 1, ok: true, result: [] });
    expect(tableCounts(lab)).toEqual(before);
  }, 120_000);
});
