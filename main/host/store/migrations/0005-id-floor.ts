// Ids are never reused: the highest id a deleted run or dataset had is kept here, and new rows are
// numbered above it (SQLite's INTEGER PRIMARY KEY would hand the newest deleted id to the next row, so
// "run 12" in a note, an export's provenance or another lab's import could silently mean another run).
export const up = `
CREATE TABLE id_floor (
  tbl TEXT PRIMARY KEY CHECK (tbl IN ('runs', 'datasets')),
  max_id INTEGER NOT NULL
) STRICT;
INSERT INTO id_floor (tbl, max_id) VALUES ('runs', (SELECT coalesce(max(id), 0) FROM runs)), ('datasets', (SELECT coalesce(max(id), 0) FROM datasets));
`;
