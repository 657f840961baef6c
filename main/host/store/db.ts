// Opens the lab database: WAL, foreign keys, numbered migrations tracked in user_version.
// A database written by a newer toklab is refused rather than silently misread.
import Database from 'better-sqlite3';
import * as m0001 from './migrations/0001-init';
import * as m0002 from './migrations/0002-job-deps';
import * as m0003 from './migrations/0003-study-steps';
import * as m0004 from './migrations/0004-lab-origin';
import * as m0005 from './migrations/0005-id-floor';

/** Index i holds migration i+1; append only. */
const MIGRATIONS: readonly { up: string }[] = [m0001, m0002, m0003, m0004, m0005];

export const SCHEMA_VERSION = MIGRATIONS.length;

export type Db = Database.Database;

/** `nativeBinding`: a better-sqlite3 addon built for another ABI (Electron's), see scripts/electron-native.mjs. */
export function openDb(file: string, nativeBinding?: string): Db {
  const db = new Database(file, nativeBinding ? { nativeBinding } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `lab.db has schema version ${current}, newer than this toklab understands (${SCHEMA_VERSION}). ` +
        'Update toklab, or point --home at another lab folder.',
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v].up);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
