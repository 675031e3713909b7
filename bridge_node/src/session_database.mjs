// @ts-check
/**
 * The one SQLite file of a session directory: auth state, undelivered event frames,
 * answered send refs, recently sent messages, what is known of each chat, and the
 * tenant settings the relay last gave.
 */
import path from 'node:path';
import Database from 'better-sqlite3';

const FILE_NAME = 'session.sqlite3';

/** Numbered migrations; index + 1 is the schema version they lead to. */
const MIGRATIONS = [
  `
  CREATE TABLE auth_creds (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);
  CREATE TABLE auth_keys (
    type TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (type, id)
  ) WITHOUT ROWID;
  CREATE TABLE pending_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, frame TEXT NOT NULL
  );
  CREATE TABLE send_results (
    ref TEXT PRIMARY KEY, message_id TEXT NOT NULL, result TEXT, created_at INTEGER NOT NULL
  );
  CREATE TABLE sent_messages (
    id TEXT PRIMARY KEY, chat TEXT NOT NULL, content BLOB, sent_at INTEGER NOT NULL
  );
  CREATE INDEX sent_messages_by_time ON sent_messages (sent_at);
  CREATE INDEX send_results_by_time ON send_results (created_at);
  `,
  `
  CREATE TABLE chats (
    chat TEXT PRIMARY KEY, address TEXT, expiration INTEGER, updated_at INTEGER NOT NULL
  );
  CREATE TABLE lid_chats (lid TEXT PRIMARY KEY, chat TEXT NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE bridge_settings (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);
  ALTER TABLE send_results ADD COLUMN chat TEXT;
  CREATE INDEX send_results_by_message ON send_results (message_id);
  `,
];

/** Raised when the database was written by a newer bridge than this one. */
export class SchemaTooNew extends Error {
  /** @param {number} found @param {number} known */
  constructor(found, known) {
    super(`session database schema ${found} is newer than this bridge knows (${known})`);
    this.name = 'SchemaTooNew';
  }
}

/**
 * Open (and migrate) the session database of a directory.
 * @param {string} sessionDir
 * @returns {import('better-sqlite3').Database}
 */
export function openSessionDatabase(sessionDir) {
  const db = new Database(path.join(sessionDir, FILE_NAME));
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL survives a process crash, which is what at-least-once delivery needs.
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}

/** @param {import('better-sqlite3').Database} db */
function migrate(db) {
  const current = /** @type {number} */ (db.pragma('user_version', { simple: true }));
  if (current > MIGRATIONS.length) throw new SchemaTooNew(current, MIGRATIONS.length);
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
