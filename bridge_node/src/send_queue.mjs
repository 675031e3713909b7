// @ts-check
/**
 * The tenant's outgoing send queue. WhatsApp flags accounts that send like machines, so
 * sends go one at a time, at most one per chat per second, with a small random gap.
 */

/**
 * @typedef {object} SendQueueOptions
 * @property {number} [perChatIntervalMs] minimum time between two sends to one chat
 * @property {{min: number, max: number}} [gapMs] random pause between any two sends
 * @property {() => number} [random]
 * @property {() => number} [now]
 */

/**
 * @template T
 * @typedef {{chat: string, task: () => Promise<T>, resolve: (v: T) => void, reject: (e: unknown) => void}} Job
 */

/** Runs send tasks one by one under the pacing rules; per chat in FIFO order. */
export class SendQueue {
  /** @param {SendQueueOptions} [options] */
  constructor(options = {}) {
    this.perChatIntervalMs = options.perChatIntervalMs ?? 1000;
    this.gapMs = options.gapMs ?? { min: 150, max: 600 };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    /** @type {Job<any>[]} */
    this.jobs = [];
    /** @type {Map<string, number>} */
    this.lastSendByChat = new Map();
    this.lastSendAt = -Infinity;
    this.running = false;
    this.closed = false;
  }

  /**
   * Queue a send to a chat; resolves with the task's result once it ran.
   * @template T
   * @param {string} chat
   * @param {() => Promise<T>} task
   * @returns {Promise<T>}
   */
  enqueue(chat, task) {
    if (this.closed) return Promise.reject(new Error('send queue closed'));
    return new Promise((resolve, reject) => {
      this.jobs.push({ chat, task, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Refuse new sends and fail the queued ones. */
  close() {
    this.closed = true;
    for (const job of this.jobs.splice(0)) job.reject(new Error('send queue closed'));
  }

  async drain() {
    this.running = true;
    while (this.jobs.length > 0 && !this.closed) {
      const { job, readyAt } = this.pickNext();
      const wait = readyAt - this.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.closed) break;
      this.jobs.splice(this.jobs.indexOf(job), 1);
      try {
        job.resolve(await job.task());
      } catch (error) {
        job.reject(error);
      }
      this.lastSendAt = this.now();
      this.lastSendByChat.set(job.chat, this.lastSendAt);
      this.forgetQuietChats();
    }
    this.running = false;
  }

  /** Chats last written to more than an interval ago no longer constrain anything. */
  forgetQuietChats() {
    if (this.lastSendByChat.size < 500) return;
    const horizon = this.now() - this.perChatIntervalMs;
    for (const [chat, at] of this.lastSendByChat) if (at < horizon) this.lastSendByChat.delete(chat);
  }

  /**
   * The job that may go first: the head of each chat's line, earliest allowed time wins,
   * so one busy chat does not hold the others back.
   * @returns {{job: Job<any>, readyAt: number}}
   */
  pickNext() {
    const gap = this.gapMs.min + this.random() * (this.gapMs.max - this.gapMs.min);
    const seen = new Set();
    /** @type {{job: Job<any>, readyAt: number} | undefined} */
    let best;
    for (const job of this.jobs) {
      if (seen.has(job.chat)) continue;
      seen.add(job.chat);
      const chatReady = (this.lastSendByChat.get(job.chat) ?? -Infinity) + this.perChatIntervalMs;
      const readyAt = Math.max(chatReady, this.lastSendAt + gap);
      if (!best || readyAt < best.readyAt) best = { job, readyAt };
    }
    return /** @type {{job: Job<any>, readyAt: number}} */ (best);
  }
}
