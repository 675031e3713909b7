// @ts-check
/**
 * Answered `send` refs with their result, so a repeated ref (also after a restart) is
 * answered again instead of sent again.
 */

const KEEP_MS = 7 * 24 * 3600 * 1000;

/**
 * @typedef {{ok: boolean, message_id?: string, error?: string}} SendOutcome
 * @typedef {{state: 'done', outcome: SendOutcome} | {state: 'unfinished', messageId: string}} LedgerEntry
 */

/** The durable record of send refs. */
export class SendLedger {
  /**
   * @param {import('better-sqlite3').Database} db
   * @param {() => number} now milliseconds clock
   */
  constructor(db, now = Date.now) {
    this.now = now;
    this.select = db.prepare('SELECT message_id, result FROM send_results WHERE ref = ?');
    this.insert = db.prepare(
      'INSERT INTO send_results (ref, message_id, chat, result, created_at) VALUES (?, ?, ?, NULL, ?)',
    );
    this.selectByMessage = db.prepare('SELECT ref, chat FROM send_results WHERE message_id = ?');
    this.update = db.prepare('UPDATE send_results SET result = ? WHERE ref = ?');
    this.remove = db.prepare('DELETE FROM send_results WHERE ref = ?');
    this.prune = db.prepare('DELETE FROM send_results WHERE created_at < ?');
  }

  /**
   * What is known of a ref: its outcome, or that a send started and never finished.
   * @param {string} ref
   * @returns {LedgerEntry | undefined}
   */
  find(ref) {
    const row = /** @type {{message_id: string, result: string | null} | undefined} */ (this.select.get(ref));
    if (!row) return undefined;
    if (row.result === null) return { state: 'unfinished', messageId: row.message_id };
    return { state: 'done', outcome: JSON.parse(row.result) };
  }

  /**
   * Note a send before it reaches WhatsApp, so a crash mid-send is not retried blindly.
   * @param {string} ref
   * @param {string} messageId the id the message will carry
   * @param {string} [chat] the chat as the relay named it
   */
  begin(ref, messageId, chat) {
    this.prune.run(this.now() - KEEP_MS);
    this.insert.run(ref, messageId, chat ?? null, this.now());
  }

  /**
   * The send that produced a message id, if this bridge made it.
   * @param {string} messageId
   * @returns {{ref: string, chat: string | null} | undefined}
   */
  findByMessageId(messageId) {
    return /** @type {{ref: string, chat: string | null} | undefined} */ (this.selectByMessage.get(messageId));
  }

  /**
   * Record the outcome of a send that reached WhatsApp.
   * @param {string} ref
   * @param {SendOutcome} outcome
   */
  complete(ref, outcome) {
    this.update.run(JSON.stringify(outcome), ref);
  }

  /**
   * Forget a send that certainly did not happen, so the relay may retry the same ref.
   * @param {string} ref
   */
  abandon(ref) {
    this.remove.run(ref);
  }
}
