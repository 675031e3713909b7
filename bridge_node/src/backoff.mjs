// @ts-check
/**
 * Exponential backoff with jitter, for reconnect loops.
 */

/** Delays that double from `initialMs` up to `maxMs`, each drawn in [delay/2, delay]. */
export class Backoff {
  /**
   * @param {{initialMs: number, maxMs: number, random?: () => number}} options
   */
  constructor({ initialMs, maxMs, random = Math.random }) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.random = random;
    this.attempt = 0;
  }

  /** @returns {number} milliseconds to wait before the next attempt */
  next() {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 40);
    // Jitter keeps many bridges that lost the relay together from returning together.
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** Start again from the initial delay, after a success. */
  reset() {
    this.attempt = 0;
  }
}
