// The Runs tracker's host side: rows with config and score columns, compare, dependents and delete.
import type { DeleteRequest, DeleteResult, RunComparison, RunQuery, RunRow, RunSummary } from '../../preload/contract';
import type { Repo } from './store/repo';

export function listRunRows(_repo: Repo, _q: RunQuery): RunRow[] {
  throw new Error('not implemented yet');
}

export function compareRuns(_repo: Repo, _ids: number[]): RunComparison {
  throw new Error('not implemented yet');
}

export function runDependents(_repo: Repo, _id: number): RunSummary[] {
  throw new Error('not implemented yet');
}

export function deleteRun(_repo: Repo, _home: string, _id: number, _req: DeleteRequest): DeleteResult {
  throw new Error('not implemented yet');
}
