// @ts-check
/**
 * What the bridge remembers of each chat, by its canonical id: the address the chat was
 * last seen under (a 1:1 chat shows on the owner's phone under the LID or the phone-number
 * form, and a reply must go to that form to land in the same thread), and the chat's
 * disappearing-messages timer. It also remembers which phone-number chat each LID chat
 * turned out to be: Baileys' own LID store can be overwritten with a wrong pair (on the
 * owner's messages remoteJidAlt is the owner's number, and Socket/messages-recv.js
 * handleMessage stores it against the customer's LID), so a pair learned from the
 * customer's own stanza is kept here too.
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
    this.selectLid = db.prepare('SELECT chat FROM lid_chats WHERE lid = ?');
    this.upsertLid = db.prepare(
      'INSERT INTO lid_chats (lid, chat, updated_at) VALUES (?, ?, ?) ON CONFLICT (lid) DO UPDATE SET chat = excluded.chat, updated_at = excluded.updated_at',
    );
    db.prepare('DELETE FROM chats WHERE updated_at < ?').run(now() - KEEP_MS);
    db.prepare('DELETE FROM lid_chats WHERE updated_at < ?').run(now() - KEEP_MS);
  }

  /**
   * @param {string} chat canonical id
   * @param {string} address the JID the chat was just seen under
   */
  seenAt(chat, address) {
    this.upsertAddress.run(chat, address, this.now());
  }

  /** @param {string} lid a LID chat @param {string} chat the phone-number chat it is */
  learnLid(lid, chat) {
    this.upsertLid.run(lid, chat, this.now());
  }

  /** @param {string} lid @returns {string | undefined} the phone-number chat of a LID chat, if learned */
  chatForLid(lid) {
    const row = /** @type {{chat: string} | undefined} */ (this.selectLid.get(lid));
    return row?.chat;
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
