// The Analysis page's comparison table (figures/score-table.ts, shared with `toklab export table tokenizers`).
export { archOf, buildScoreTable, gfidColumn, scoreTableProvenance, scoreTableRows, type Cell, type ScoreTable } from '../../../figures/score-table';
