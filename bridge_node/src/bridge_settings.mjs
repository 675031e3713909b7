// @ts-check
/**
 * The tenant settings the relay gave last (`config` in `welcome`, or a `config` frame),
 * kept across restarts so calls are handled the same before the relay is back.
 */
import { DEFAULT_SETTINGS } from './protocol.mjs';

/** The durable copy of the relay's settings. */
export class BridgeSettingsStore {
  /** @param {import('better-sqlite3').Database} db */
  constructor(db) {
    this.select = db.prepare('SELECT value FROM bridge_settings WHERE id = 1');
    this.upsert = db.prepare(
      'INSERT INTO bridge_settings (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value',
    );
    const row = /** @type {{value: string} | undefined} */ (this.select.get());
    /** @type {import('./protocol.mjs').BridgeSettings} */
    this.current = { ...DEFAULT_SETTINGS, ...(row ? JSON.parse(row.value) : {}) };
  }

  /**
   * Apply the fields the relay sent; absent fields keep their value.
   * @param {import('./protocol.mjs').SettingsUpdate} update
   */
  apply(update) {
    this.current = { ...this.current, ...update };
    this.upsert.run(JSON.stringify(this.current));
  }
}
