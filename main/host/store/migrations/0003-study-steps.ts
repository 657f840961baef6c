// Study steps by identity, not by user-editable tags: a study finds its finished steps here, so no tag edit breaks a resume.
export const up = `
CREATE TABLE study_steps (
  study TEXT NOT NULL,
  step TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  PRIMARY KEY (study, step, spec_hash)
) STRICT;
`;
