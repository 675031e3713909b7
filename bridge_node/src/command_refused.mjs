// @ts-check
/**
 * The refusal of a relay command the WhatsApp side cannot carry out now, with the short
 * code the relay gets in `result.error`.
 */

/** Raised when a command cannot be carried out in the session's current state. */
export class CommandRefused extends Error {
  /** @param {string} code short reason given to the relay, e.g. `not_connected` */
  constructor(code) {
    super(code);
    this.name = 'CommandRefused';
    this.code = code;
  }
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} code CommandRefused code on timeout
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, code) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CommandRefused(code)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout]).finally(() => clearTimeout(timer)));
}
