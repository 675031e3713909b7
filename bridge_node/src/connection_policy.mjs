// @ts-check
/**
 * What to do when WhatsApp closes the connection, by its close status code. Baileys passes
 * WhatsApp's failure reason as the status code and the failure node's attributes as the
 * error's `data` (Socket/socket.js, `CB:failure` and `CB:stream:error`).
 */

/**
 * @typedef {'reconnect_now'|'relogin'|'banned'|'temporary_ban'|'replaced'|'qr_timeout'|'refresh_version'|'back_off'} CloseAction
 * @typedef {{action: CloseAction, reason: string, until?: Date}} CloseDecision
 */

/** Close codes the policy tells apart (Baileys' DisconnectReason plus WhatsApp's failure reasons). */
export const DISCONNECT = Object.freeze({
  timedOut: 408,
  loggedOut: 401,
  temporarilyBanned: 402,
  primaryDeviceGone: 403,
  outdatedVersion: 405,
  banned: 406,
  connectionReplaced: 440,
  restartRequired: 515,
});

/**
 * Decide how to react to a closed WhatsApp connection.
 * @param {number | undefined} code the disconnect status code
 * @param {string} [message] the error message Baileys closed with
 * @param {Record<string, any>} [data] the failure node's attributes, e.g. `{reason: '402', expire: '86400'}`
 * @param {number} [now] milliseconds clock
 * @returns {CloseDecision}
 */
export function decideAfterClose(code, message = '', data = undefined, now = Date.now()) {
  switch (code) {
    case DISCONNECT.restartRequired:
      // Sent right after a successful login: the same auth must be used at once.
      return { action: 'reconnect_now', reason: 'restart_required' };
    case DISCONNECT.loggedOut:
      return { action: 'relogin', reason: 'logged_out' };
    case DISCONNECT.temporarilyBanned: {
      const until = banExpiry(data, now);
      return until ? { action: 'temporary_ban', reason: 'temporarily_banned', until } : { action: 'temporary_ban', reason: 'temporarily_banned' };
    }
    case DISCONNECT.primaryDeviceGone:
      // The phone's account is gone from this device (unlinked, re-registered on a new
      // phone, or locked): the session is dead, but a fresh login may work.
      return { action: 'relogin', reason: 'primary_device_gone' };
    case DISCONNECT.banned:
      return { action: 'banned', reason: 'banned' };
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

/**
 * When a temporary ban ends. WhatsApp's 402 failure carries `expire`: seconds from now
 * (whatsmeow reads it so too); a value that is already a unix time is taken as one.
 * @param {Record<string, any> | undefined} data
 * @param {number} now
 * @returns {Date | undefined}
 */
function banExpiry(data, now) {
  const expire = Number(data?.expire);
  if (!Number.isFinite(expire) || expire <= 0) return undefined;
  return new Date(expire > 1e9 ? expire * 1000 : now + expire * 1000);
}
