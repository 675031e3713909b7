// @ts-check
/**
 * One pairing-code login under way: the phone it is for and, once issued, the code and
 * when it stops being usable.
 */

/** A pairing-code attempt; `cancel()` stops its expiry timer. */
export class PairingAttempt {
  /** @param {string} phone digits only */
  constructor(phone) {
    this.phone = phone;
    /** @type {string | undefined} */
    this.code = undefined;
    /** @type {Date | undefined} */
    this.expiresAt = undefined;
    /** @type {NodeJS.Timeout | undefined} */
    this.timer = undefined;
  }

  /**
   * The code is out; `onExpire` runs when it is no longer usable.
   * @param {string} code
   * @param {Date} expiresAt
   * @param {() => void} onExpire
   */
  issued(code, expiresAt, onExpire) {
    this.cancel();
    this.code = code;
    this.expiresAt = expiresAt;
    this.timer = setTimeout(onExpire, Math.max(0, expiresAt.getTime() - Date.now()));
  }

  /** @returns {boolean} whether a code is out and still usable */
  isOutstanding() {
    return this.expiresAt !== undefined && this.expiresAt.getTime() > Date.now();
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
