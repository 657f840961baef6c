// `toklab import <other-home>` and the app's Import: merges another lab home into this one.
import type { ImportReport } from '../../preload/contract';
import type { Repo } from './store/repo';

export function importLab(_repo: Repo, _home: string, _source: string): ImportReport {
  throw new Error('importLab is not implemented yet');
}
