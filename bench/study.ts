// Benchmark: the headless study end to end (`toklab study --plan quick` from a fresh lab home, the
// README's main job). Reports its wall time and the peak RSS of every engine process and of the host,
// read from /proc once a second (VmHWM, the kernel's own high-water mark, so a peak between two reads
// is not missed). The study runs with its default thread sharing: TOKLAB_THREADS is not passed on.
// Takes about 20 minutes on 2 cores. TOKLAB_BENCH_STUDY=0 skips it; TOKLAB_BENCH_STUDY_PLAN picks
// another plan; TOKLAB_BENCH_STUDY_HOME keeps the lab home (report, figures) in that folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchResult } from './types';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KiB = 1024;
const MiB = 1024 * 1024;

interface Proc {
  pid: number;
  /** An engine the host forked: TOKLAB_ENGINE=1, and its parent is not an engine (children inherit the variable). */
  engine: boolean;
  peakBytes: number;
}

function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // the process exited between listing and reading
  }
}

/** pid → parent pid for every process (Linux /proc). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readOr(`/proc/${name}/stat`);
    if (!stat) continue;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(name), Number(fields[1]));
  }
  return out;
}

/** The process tree under `root`, each with its parent. */
function descendants(root: number): { pid: number; ppid: number }[] {
  const pp = parents();
  const found = [{ pid: root, ppid: pp.get(root) ?? 0 }];
  for (let i = 0; i < found.length; i++) for (const [pid, ppid] of pp) if (ppid === found[i].pid) found.push({ pid, ppid });
  return found;
}

/** VmHWM in bytes, or null when the process is gone. */
function peakRss(pid: number): number | null {
  const m = /VmHWM:\s+(\d+) kB/.exec(readOr(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * KiB : null;
}

function isEngine(pid: number): boolean {
  return (readOr(`/proc/${pid}/environ`) ?? '').split('\0').includes('TOKLAB_ENGINE=1');
}

export const bench: Bench = async () => {
  if (process.env.TOKLAB_BENCH_STUDY === '0') {
    process.stderr.write('study bench: skipped, TOKLAB_BENCH_STUDY=0\n');
    return [];
  }
  if (!fs.existsSync('/proc/self/status')) {
    process.stderr.write('study bench: skipped, peak RSS is read from /proc (Linux only)\n');
    return [];
  }
  const plan = process.env.TOKLAB_BENCH_STUDY_PLAN ?? 'quick';
  const keep = process.env.TOKLAB_BENCH_STUDY_HOME;
  const home = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(tmpdir(), 'toklab-bench-study-'));
  if (keep && fs.existsSync(home) && fs.readdirSync(home).length > 0) throw new Error(`TOKLAB_BENCH_STUDY_HOME=${home} is not empty; the study must start from a fresh lab home. Remove it or name another folder.`);
  fs.mkdirSync(home, { recursive: true });
  const env = { ...process.env };
  delete env.TOKLAB_THREADS; // bench/run.ts pins 1 thread for the PyTorch ratios; the study shares the cores itself
  const procs = new Map<number, Proc>();
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'bin', 'toklab.mjs'), 'study', '--plan', plan, '--home', home], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = `${home}.log`; // beside the home, which the study finds empty
  const log = fs.createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const poll = (): void => {
    if (child.pid === undefined) return;
    for (const { pid, ppid } of descendants(child.pid)) {
      const peak = peakRss(pid);
      if (peak === null) continue;
      const p = procs.get(pid) ?? { pid, engine: isEngine(pid) && !isEngine(ppid), peakBytes: 0 };
      p.peakBytes = Math.max(p.peakBytes, peak);
      procs.set(pid, p);
    }
  };
  const timer = setInterval(poll, 1000);
  // 'error' (the process could not start) comes instead of 'exit'
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.on('error', () => resolve(null));
  });
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  try {
    if (code !== 0) throw new Error(`toklab study --plan ${plan} exited with ${code}; its output is in ${logFile}`);
    const engines = [...procs.values()].filter((p) => p.engine);
    const host = child.pid === undefined ? undefined : procs.get(child.pid);
    if (engines.length === 0 || !host) throw new Error('study bench: no engine process was seen under the study (TOKLAB_ENGINE=1 in its environment)');
    const d = { plan, dataset: 'shapes', engines: engines.length, pollS: 1 };
    const rows: BenchResult[] = [
      { name: `study ${plan}: wall time`, value: seconds / 60, unit: 'min', details: { ...d, seconds: +seconds.toFixed(0) } },
      { name: `study ${plan}: peak RSS of one engine`, value: Math.max(...engines.map((p) => p.peakBytes)) / MiB, unit: 'MiB', details: { ...d, perEngineMiB: engines.map((p) => (p.peakBytes / MiB).toFixed(0)).join(' / ') } },
      { name: `study ${plan}: peak RSS of the host process`, value: host.peakBytes / MiB, unit: 'MiB', details: d },
    ];
    return rows;
  } finally {
    if (!keep) {
      fs.rmSync(home, { recursive: true, force: true });
      if (code === 0) fs.rmSync(logFile, { force: true });
    }
  }
};
