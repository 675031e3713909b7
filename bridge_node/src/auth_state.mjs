// @ts-check
/**
 * Baileys' authentication state (creds and every signal key type) kept in the session
 * database instead of Baileys' one-file-per-key folder.
 */
import { BufferJSON, initAuthCreds, makeCacheableSignalKeyStore, proto } from 'baileys';

/**
 * @typedef {import('baileys').AuthenticationState} AuthenticationState
 * @typedef {import('baileys').SignalKeyStore} SignalKeyStore
 */

/**
 * Whether creds belong to a linked device. Baileys sets `me` and `account` on pair-success
 * (Utils/validate-connection.js configureSuccessfulPairing) for QR and code logins alike;
 * `registered` is only set by the pairing-code flow (Socket/messages-recv.js), and
 * requestPairingCode writes a provisional `me` (Socket/socket.js), so neither alone says so.
 * @param {Partial<AuthenticationState['creds']> | undefined} creds
 */
export function isLinked(creds) {
  return Boolean(creds?.me?.id && creds.account);
}

/**
 * Forget an unfinished pairing-code login: with `me` left in the creds the next socket would
 * try to log in (validateConnection) instead of registering, and be refused.
 * @param {AuthenticationState['creds']} creds
 * @returns {boolean} whether anything changed
 */
export function clearUnfinishedLogin(creds) {
  if (isLinked(creds) || (!creds.me && !creds.pairingCode)) return false;
  delete creds.me;
  delete creds.pairingCode;
  return true;
}

/** Reads and writes creds and keys; one instance per session database. */
export class AuthStore {
  /**
   * @param {import('better-sqlite3').Database} db
   * @param {import('pino').Logger} logger
   */
  constructor(db, logger) {
    this.db = db;
    this.logger = logger;
    this.selectCreds = db.prepare('SELECT value FROM auth_creds WHERE id = 1');
    this.upsertCreds = db.prepare(
      'INSERT INTO auth_creds (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value',
    );
    this.selectKey = db.prepare('SELECT value FROM auth_keys WHERE type = ? AND id = ?');
    this.upsertKey = db.prepare(
      'INSERT INTO auth_keys (type, id, value) VALUES (?, ?, ?) ON CONFLICT (type, id) DO UPDATE SET value = excluded.value',
    );
    this.deleteKey = db.prepare('DELETE FROM auth_keys WHERE type = ? AND id = ?');
  }

  /**
   * Load the auth state for a new socket: stored creds (or fresh ones) and a cached key store.
   * @returns {AuthenticationState}
   */
  load() {
    const row = /** @type {{value: string} | undefined} */ (this.selectCreds.get());
    const creds = row ? JSON.parse(row.value, BufferJSON.reviver) : initAuthCreds();
    if (!row) this.saveCreds(creds);
    return { creds, keys: makeCacheableSignalKeyStore(this.keyStore(), this.logger) };
  }

  /**
   * Persist the whole creds object (Baileys mutates it in place before creds.update).
   * @param {AuthenticationState['creds']} creds
   */
  saveCreds(creds) {
    this.upsertCreds.run(JSON.stringify(creds, BufferJSON.replacer));
  }

  /** @returns {boolean} whether stored creds belong to a linked device */
  isRegistered() {
    const row = /** @type {{value: string} | undefined} */ (this.selectCreds.get());
    return row ? isLinked(JSON.parse(row.value, BufferJSON.reviver)) : false;
  }

  /**
   * The PN user of a LID user, from the mapping Baileys keeps in the key store
   * (Signal/lid-mapping.js storeLIDPNMappings writes `<lid user>_reverse` -> PN user).
   * Readable without a socket.
   * @param {string} lidUser
   * @returns {string | undefined}
   */
  phoneUserForLid(lidUser) {
    const row = /** @type {{value: string} | undefined} */ (this.selectKey.get('lid-mapping', `${lidUser}_reverse`));
    const value = row ? JSON.parse(row.value) : undefined;
    return typeof value === 'string' && value ? value : undefined;
  }

  /** Forget the linked device: creds and every key. */
  wipe() {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM auth_creds').run();
      this.db.prepare('DELETE FROM auth_keys').run();
    })();
  }

  /**
   * The raw key store, generic over (type, id) so key types added by Baileys need no code.
   * @returns {SignalKeyStore}
   */
  keyStore() {
    /** @type {SignalKeyStore['get']} */
    const get = async (type, ids) => {
      /** @type {Record<string, any>} */
      const found = {};
      for (const id of ids) {
        const row = /** @type {{value: string} | undefined} */ (this.selectKey.get(type, id));
        if (!row) continue;
        let value = JSON.parse(row.value, BufferJSON.reviver);
        // Baileys expects the protobuf class here, as its own file store does.
        if (type === 'app-state-sync-key') value = proto.Message.AppStateSyncKeyData.fromObject(value);
        found[id] = value;
      }
      return found;
    };
    const setAll = this.db.transaction((/** @type {import('baileys').SignalDataSet} */ data) => {
      for (const [type, entries] of Object.entries(data)) {
        for (const [id, value] of Object.entries(entries ?? {})) {
          if (value === null || value === undefined) this.deleteKey.run(type, id);
          else this.upsertKey.run(type, id, JSON.stringify(value, BufferJSON.replacer));
        }
      }
    });
    return {
      get,
      set: async (data) => setAll(data),
      clear: async () => {
        this.db.prepare('DELETE FROM auth_keys').run();
      },
    };
  }
}
