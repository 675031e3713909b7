// @ts-check
/**
 * Messages this bridge sent: their ids mark `sent_by_bridge`, their encoded content
 * answers Baileys' getMessage when a recipient asks for a retry.
 */

const KEEP_MS = 3 * 24 * 3600 * 1000;

/** The durable record of recently sent messages. */
export class SentMessages {
  /**
   * @param {import('better-sqlite3').Database} db
   * @param {() => number} now milliseconds clock
   */
  constructor(db, now = Date.now) {
    this.now = now;
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO sent_messages (id, chat, content, sent_at) VALUES (?, ?, NULL, ?)',
    );
    this.setContent = db.prepare('UPDATE sent_messages SET content = ? WHERE id = ?');
    this.select = db.prepare('SELECT content FROM sent_messages WHERE id = ?');
    this.prune = db.prepare('DELETE FROM sent_messages WHERE sent_at < ?');
    this.clear = db.prepare('DELETE FROM sent_messages');
  }

  /**
   * Claim an id before sending, so the echo of the message is known as the bridge's own.
   * @param {string} id
   * @param {string} chat
   */
  claim(id, chat) {
    this.prune.run(this.now() - KEEP_MS);
    this.insert.run(id, chat, this.now());
  }

  /**
   * Keep the encoded content of a sent message for retries.
   * @param {string} id
   * @param {Uint8Array} content
   */
  keepContent(id, content) {
    this.setContent.run(Buffer.from(content), id);
  }

  /** @param {string} id @returns {boolean} whether this bridge sent the message */
  has(id) {
    return this.select.get(id) !== undefined;
  }

  /** @param {string} id @returns {Uint8Array | undefined} encoded content, if kept */
  content(id) {
    const row = /** @type {{content: Buffer | null} | undefined} */ (this.select.get(id));
    return row?.content ?? undefined;
  }

  /** Forget everything, as after an unlink (the next account is another one). */
  wipe() {
    this.clear.run();
  }
}
