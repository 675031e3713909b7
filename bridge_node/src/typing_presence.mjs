// @ts-check
/**
 * The typing indicator as a person's phone shows it. With `markOnlineOnConnect` off the
 * account never says it is online, and WhatsApp shows no `composing` from an account that
 * is not: so `available` goes first. A phone drops `composing` after a while, so it is
 * repeated while the relay keeps typing; and `unavailable` follows once nothing is being
 * typed, since the owner's phone mutes its notifications while a linked device is online.
 * (Socket/chats.js sendPresenceUpdate: `available`/`unavailable` are account-wide,
 * `composing`/`paused` go to one chat.)
 */

/** Drives presence for every chat of the session. */
export class TypingPresence {
  /**
   * @param {{session: import('./whatsapp_session.mjs').WhatsAppSession, logger: import('pino').Logger,
   *   refreshMs?: number, maxTypingMs?: number}} deps
   */
  constructor({ session, logger, refreshMs = 10_000, maxTypingMs = 120_000 }) {
    this.session = session;
    this.logger = logger;
    this.refreshMs = refreshMs;
    /** A relay that never says `paused` (it crashed mid-reply) does not leave the chat typing forever. */
    this.maxTypingMs = maxTypingMs;
    /** @type {Map<string, NodeJS.Timeout>} chats being typed to, with their refresh timer */
    this.typing = new Map();
    this.online = false;
    /** @type {Promise<void>} changes apply in the order the relay asked for them */
    this.queue = Promise.resolve();
  }

  /** @param {() => Promise<void>} change */
  enqueue(change) {
    const next = this.queue.then(change);
    this.queue = next.catch(() => {});
    return next;
  }

  /** @param {string} chat the address to show typing in */
  composing(chat) {
    return this.enqueue(() => this.startTyping(chat));
  }

  /** @param {string} chat */
  paused(chat) {
    return this.enqueue(async () => {
      this.stopTyping(chat);
      await this.send(chat, 'paused');
      await this.goOfflineIfIdle();
    });
  }

  /**
   * A message went to the chat: the phone clears the indicator itself.
   * @param {string} chat
   */
  afterSend(chat) {
    return this.enqueue(async () => {
      this.stopTyping(chat);
      await this.goOfflineIfIdle();
    });
  }

  /** @param {string} chat */
  async startTyping(chat) {
    if (!this.online) {
      this.online = true;
      await this.send(undefined, 'available');
    }
    clearInterval(this.typing.get(chat));
    const startedAt = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - startedAt + this.refreshMs > this.maxTypingMs) void this.paused(chat);
      else void this.send(chat, 'composing');
    }, this.refreshMs);
    this.typing.set(chat, timer);
    await this.send(chat, 'composing');
  }

  /** Forget every chat (the socket is going away). */
  clear() {
    for (const timer of this.typing.values()) clearInterval(timer);
    this.typing.clear();
    this.online = false;
  }

  /** @param {string} chat */
  stopTyping(chat) {
    clearInterval(this.typing.get(chat));
    this.typing.delete(chat);
  }

  async goOfflineIfIdle() {
    if (!this.online || this.typing.size > 0) return;
    this.online = false;
    await this.send(undefined, 'unavailable');
  }

  /** @param {string | undefined} chat @param {import('./whatsapp_socket.mjs').PresenceState} state */
  async send(chat, state) {
    try {
      await this.session.sendPresence(chat, state);
    } catch (error) {
      this.logger.debug({ state, err: String(error) }, 'presence update failed');
    }
  }
}
