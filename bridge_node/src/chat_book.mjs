// @ts-check
/**
 * What the bridge remembers of each chat, by its canonical id: the address the chat was
 * last seen under (a 1:1 chat shows on the owner's phone under the LID or the phone-number
 * form, and a reply must go to that form to land in the same thread), and the chat's
 * disappearing-messages timer.
 */

const KEEP_MS = 90 * 24 * 3600 * 1000;

/** The durable record of chats. */
export class ChatBook {
  /**
   * @param {import('better-sqlite3').Database} db
   * @param {() => number} now milliseconds clock
   */
  constructor(db, now = Date.now) {
    this.now = now;
    this.select = db.prepare('SELECT address, expiration FROM chats WHERE chat = ?');
    this.upsertAddress = db.prepare(
      'INSERT INTO chats (chat, address, updated_at) VALUES (?, ?, ?) ON CONFLICT (chat) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at',
    );
    this.upsertExpiration = db.prepare(
      'INSERT INTO chats (chat, expiration, updated_at) VALUES (?, ?, ?) ON CONFLICT (chat) DO UPDATE SET expiration = excluded.expiration, updated_at = excluded.updated_at',
    );
    this.prune = db.prepare('DELETE FROM chats WHERE updated_at < ?');
    this.prune.run(now() - KEEP_MS);
  }

  /**
   * @param {string} chat canonical id
   * @param {string} address the JID the chat was just seen under
   */
  seenAt(chat, address) {
    this.upsertAddress.run(chat, address, this.now());
  }

  /** @param {string} chat @param {number} seconds 0 when disappearing messages are off */
  setExpiration(chat, seconds) {
    this.upsertExpiration.run(chat, seconds, this.now());
  }

  /** @param {string} chat @returns {string} where to write to reach the chat */
  addressOf(chat) {
    const row = /** @type {{address: string | null} | undefined} */ (this.select.get(chat));
    return row?.address ?? chat;
  }

  /** @param {string} chat @returns {number | undefined} the chat's disappearing timer, if on */
  expirationOf(chat) {
    const row = /** @type {{expiration: number | null} | undefined} */ (this.select.get(chat));
    return row?.expiration ? row.expiration : undefined;
  }
}
