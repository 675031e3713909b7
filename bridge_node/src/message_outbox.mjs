// @ts-check
/**
 * Event frames (`message`, `send_failed`) the relay has not acked yet, kept durably and
 * in arrival order.
 */

/** The durable queue of unacked event frames. */
export class MessageOutbox {
  /** @param {import('better-sqlite3').Database} db */
  constructor(db) {
    this.insert = db.prepare('INSERT OR IGNORE INTO pending_messages (id, frame) VALUES (?, ?)');
    this.remove = db.prepare('DELETE FROM pending_messages WHERE id = ?');
    this.selectAll = db.prepare('SELECT frame FROM pending_messages ORDER BY seq');
  }

  /**
   * Keep a frame until it is acked; a frame whose id is already waiting is not added twice.
   * @param {import('./protocol.mjs').EventFrame} frame
   * @returns {boolean} whether the frame was new
   */
  add(frame) {
    return this.insert.run(frame.id, JSON.stringify(frame)).changes > 0;
  }

  /**
   * Forget a frame the relay has durably recorded.
   * @param {string} id
   */
  ack(id) {
    this.remove.run(id);
  }

  /** @returns {import('./protocol.mjs').EventFrame[]} every unacked frame, oldest first */
  pending() {
    return this.selectAll.all().map((row) => JSON.parse(/** @type {{frame: string}} */ (row).frame));
  }
}
