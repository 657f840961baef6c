// First schema: datasets, runs (+ tags), metrics (long format), scores with provenance,
// artifacts, sweeps and the persistent job queue.
export const up = `
CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  resolution INTEGER NOT NULL,
  channels INTEGER NOT NULL,
  num_classes INTEGER NOT NULL,
  train_n INTEGER NOT NULL,
  val_n INTEGER NOT NULL,
  path TEXT NOT NULL,
  run_id INTEGER,
  meta TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  job_kind TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled','interrupted')),
  parent_id INTEGER REFERENCES runs(id),
  sweep_id INTEGER REFERENCES sweeps(id),
  dataset_id INTEGER REFERENCES datasets(id),
  config TEXT NOT NULL,
  seed INTEGER,
  backend TEXT,
  app_version TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  error TEXT,
  result TEXT,
  progress TEXT,
  notes TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX runs_status ON runs(status);

CREATE TABLE run_tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) STRICT;

CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  time REAL NOT NULL
) STRICT;
CREATE INDEX metrics_run_name_step ON metrics(run_id, name, step);

CREATE TABLE scores (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  metric TEXT NOT NULL,
  value REAL NOT NULL,
  provenance TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX scores_run ON scores(run_id);

CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  meta TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX artifacts_run ON artifacts(run_id);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','finished')),
  attempt INTEGER NOT NULL DEFAULT 1,
  enqueued_at TEXT NOT NULL
) STRICT;
CREATE INDEX jobs_status ON jobs(status, id);
`;
