// `toklab import`: a persistent identity per lab home, and where each imported row came from.
// origin is `<lab uuid>:<id in that lab>` (NULL for a row made here: its origin is this lab's uuid and its
// own id). An import keeps a row's origin when it passes it on, so a chain of imports never duplicates a run.
// import_moves journals the folder renames an import still owes after its rows were committed.
export const up = `
CREATE TABLE lab_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  uuid TEXT NOT NULL
) STRICT;
INSERT INTO lab_identity (id, uuid) VALUES (1,
  lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' ||
  substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))));

ALTER TABLE datasets ADD COLUMN origin TEXT;
ALTER TABLE runs ADD COLUMN origin TEXT;
ALTER TABLE sweeps ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX datasets_origin ON datasets(origin);
CREATE UNIQUE INDEX runs_origin ON runs(origin);
CREATE UNIQUE INDEX sweeps_origin ON sweeps(origin);

CREATE TABLE import_moves (
  id INTEGER PRIMARY KEY,
  staging TEXT NOT NULL,
  target TEXT NOT NULL
) STRICT;
`;
