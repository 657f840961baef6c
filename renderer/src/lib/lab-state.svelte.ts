// Reactive lab state for the whole renderer: engine status, runs, datasets and live metrics,
// kept current from the host's event stream.
import type { AppInfo, Dataset, LabEvent, MetricSeries, Progress, RunSummary } from '../../../preload/contract';
import { lab } from './api';

export class LabState {
  info = $state<AppInfo | null>(null);
  engine = $state<AppInfo['engine'] | null>(null);
  runs = $state.raw<RunSummary[]>([]);
  datasets = $state.raw<Dataset[]>([]);
  progress = $state<Record<number, Progress>>({});
  /** Live metric series of runs seen this session, by run id then metric name. */
  live = $state.raw<Record<number, Record<string, MetricSeries>>>({});
  messages = $state.raw<{ level: string; text: string; time: string }[]>([]);
  /** Bumped on any artifact/score/run/dataset event; lab-wide views reload on change. */
  revision = $state(0);
  /** Bumped per run on its run/artifact/score events; one run's detail view reloads only on its own. */
  runRevision = $state<Record<number, number>>({});
  /** Runs deleted this session (the 'deleted' event), so lists drop them before their next reload. */
  deleted = $state.raw<ReadonlySet<number>>(new Set());

  active = $derived(this.runs.filter((r) => r.status === 'running'));
  queued = $derived(this.runs.filter((r) => r.status === 'queued'));

  constructor() {
    lab.onEvent((e) => this.apply(e));
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const [info, runs, datasets] = await Promise.all([lab.appInfo(), lab.listRuns({}), lab.listDatasets()]);
      this.info = info;
      this.engine = info.engine;
      this.runs = runs;
      this.datasets = datasets;
    } catch (e) {
      this.note('error', (e as Error).message);
      setTimeout(() => void this.refresh(), 2000);
    }
  }

  note(level: string, text: string): void {
    this.messages = [{ level, text, time: new Date().toLocaleTimeString() }, ...this.messages].slice(0, 50);
  }

  private bump(runId: number): void {
    this.runRevision[runId] = (this.runRevision[runId] ?? 0) + 1;
    this.revision++;
  }

  private apply(e: LabEvent): void {
    switch (e.type) {
      case 'engine':
        this.engine = e.engine;
        break;
      case 'run': {
        const i = this.runs.findIndex((r) => r.id === e.run.id);
        this.runs = i < 0 ? [e.run, ...this.runs] : this.runs.map((r) => (r.id === e.run.id ? e.run : r));
        // SQLite may hand a deleted run's id (the highest) to the next run
        if (this.deleted.has(e.run.id)) this.deleted = new Set([...this.deleted].filter((id) => id !== e.run.id));
        this.bump(e.run.id);
        break;
      }
      case 'deleted':
        this.runs = this.runs.filter((r) => r.id !== e.runId);
        this.deleted = new Set([...this.deleted, e.runId]);
        delete this.progress[e.runId];
        this.bump(e.runId);
        break;
      case 'progress':
        this.progress[e.runId] = e.progress;
        break;
      case 'metrics': {
        // append in place (copying every series on every event is quadratic over a long run);
        // the new wrapper objects are what tells the views that something changed
        const byName = { ...(this.live[e.runId] ?? {}) };
        for (const p of e.points) {
          const s = byName[p.name] ?? { name: p.name, steps: [], values: [] };
          s.steps.push(p.step);
          s.values.push(p.value);
          byName[p.name] = { ...s };
        }
        this.live = { ...this.live, [e.runId]: byName };
        break;
      }
      case 'dataset':
        this.datasets = [...this.datasets.filter((d) => d.id !== e.dataset.id), e.dataset];
        this.revision++;
        break;
      case 'artifact':
        this.bump(e.artifact.runId);
        break;
      case 'score':
        this.bump(e.score.runId);
        break;
      case 'log':
        this.note(e.level, e.runId ? `run ${e.runId}: ${e.message}` : e.message);
        break;
    }
  }
}

export const labState = new LabState();
