// @ts-check
/**
 * What to do when WhatsApp closes the connection, by Baileys' DisconnectReason code.
 */

/**
 * @typedef {'reconnect_now'|'relogin'|'banned'|'replaced'|'qr_timeout'|'refresh_version'|'back_off'} CloseAction
 * @typedef {{action: CloseAction, reason: string}} CloseDecision
 */

/** Codes of Baileys' DisconnectReason (and 405) that the policy tells apart. */
export const DISCONNECT = Object.freeze({
  timedOut: 408,
  loggedOut: 401,
  forbidden: 403,
  outdatedVersion: 405,
  connectionReplaced: 440,
  restartRequired: 515,
});

/**
 * Decide how to react to a closed WhatsApp connection.
 * @param {number | undefined} code the disconnect status code
 * @param {string} [message] the error message Baileys closed with
 * @returns {CloseDecision}
 */
export function decideAfterClose(code, message = '') {
  switch (code) {
    case DISCONNECT.restartRequired:
      // Sent right after a successful login: the same auth must be used at once.
      return { action: 'reconnect_now', reason: 'restart_required' };
    case DISCONNECT.loggedOut:
      return { action: 'relogin', reason: 'logged_out' };
    case DISCONNECT.forbidden:
      return { action: 'banned', reason: 'forbidden' };
    case DISCONNECT.connectionReplaced:
      // Another client took the session; fighting it gets accounts flagged.
      return { action: 'replaced', reason: 'connection_replaced' };
    case DISCONNECT.outdatedVersion:
      return { action: 'refresh_version', reason: 'outdated_version' };
    case DISCONNECT.timedOut:
      if (message.includes('QR refs attempts ended')) return { action: 'qr_timeout', reason: 'qr_timeout' };
      return { action: 'back_off', reason: 'timed_out' };
    default:
      return { action: 'back_off', reason: code === undefined ? 'connection_lost' : `closed_${code}` };
  }
}
