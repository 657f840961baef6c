// Jobs that must finish first: a job whose prerequisite run did not end `done` fails with the
// prerequisite's reason instead of running into a missing token cache or feature network.
export const up = `
CREATE TABLE job_deps (
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  PRIMARY KEY (job_id, run_id)
) STRICT;
`;
