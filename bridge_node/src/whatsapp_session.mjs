// @ts-check
/**
 * The tenant's WhatsApp session: one socket at a time, login by QR or pairing code,
 * reconnecting by the policy of connection_policy.mjs, and the commands the relay gives.
 */
import { EventEmitter } from 'node:events';
import { Backoff } from './backoff.mjs';
import { decideAfterClose } from './connection_policy.mjs';
import { isoTime } from './protocol.mjs';
import { QR_LIFETIME_MS } from './whatsapp_socket.mjs';

const RECENT_MESSAGES = 500;

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
 * @typedef {import('./protocol.mjs').StatusFrame} StatusFrame
 * @typedef {import('./protocol.mjs').WhatsAppState} WhatsAppState
 * @typedef {import('./whatsapp_socket.mjs').WhatsAppSocket} WhatsAppSocket
 * @typedef {import('baileys').WAMessage} WAMessage
 *
 * @typedef {object} SessionTuning
 * @property {{initialMs: number, maxMs: number}} [backoff] delays after ordinary disconnects
 * @property {number} [replacedDelayMs] wait after another client replaced this one
 * @property {number} [socketUpTimeoutMs] how long `pair` waits for the socket to come up
 *
 * @typedef {object} SessionDeps
 * @property {import('./whatsapp_socket.mjs').SocketFactory} socketFactory
 * @property {import('./auth_state.mjs').AuthStore} authStore
 * @property {import('./sent_messages.mjs').SentMessages} sentMessages
 * @property {import('pino').Logger} logger
 * @property {import('pino').Logger} baileysLogger
 * @property {SessionTuning} [tuning]
 */

/**
 * The WhatsApp side of the bridge.
 * Events: `status` (StatusFrame), `qr` ({qr, expiresAt}), `pairing_code` ({code, phone}),
 * `upsert` ({type, messages}), `stopped` ({reason}) when it gave up for good.
 */
export class WhatsAppSession extends EventEmitter {
  /** @param {SessionDeps} deps */
  constructor(deps) {
    super();
    this.factory = deps.socketFactory;
    this.authStore = deps.authStore;
    this.sentMessages = deps.sentMessages;
    this.logger = deps.logger.child({ component: 'whatsapp' });
    this.baileysLogger = deps.baileysLogger;
    const tuning = deps.tuning ?? {};
    this.backoff = new Backoff(tuning.backoff ?? { initialMs: 2000, maxMs: 120_000 });
    this.replacedDelayMs = tuning.replacedDelayMs ?? 10 * 60_000;
    this.socketUpTimeoutMs = tuning.socketUpTimeoutMs ?? 30_000;
    /** @type {StatusFrame} */
    this.status = { type: 'status', state: 'starting', at: isoTime() };
    /** @type {{qr: string, expiresAt: Date} | undefined} the QR on show, if any */
    this.lastQr = undefined;
    /** @type {WhatsAppSocket | undefined} */
    this.socket = undefined;
    /** @type {import('baileys').AuthenticationState | undefined} */
    this.auth = undefined;
    /** @type {Promise<void>} */
    this.socketUp = Promise.resolve();
    this.markSocketUp = () => {};
    /** @type {import('baileys').WAVersion | undefined} */
    this.version = undefined;
    /** @type {Map<string, WAMessage>} received messages, for quotes and read receipts */
    this.recent = new Map();
    /** @type {Promise<unknown>} lifecycle steps run one after another */
    this.lifecycle = Promise.resolve();
    /** @type {NodeJS.Timeout | undefined} */
    this.retryTimer = undefined;
    this.halted = false;
    this.stopped = false;
    this.loggingOut = false;
  }

  /** Open the first socket. */
  async start() {
    await this.runLifecycle(() => this.openSocket());
  }

  /** Close WhatsApp cleanly; nothing reconnects afterwards. */
  async stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.runLifecycle(() => this.closeSocket());
  }

  /** @returns {{qr: string, expiresAt: Date} | undefined} the QR still valid for scanning, if any */
  currentQr() {
    const showing = this.status.state === 'waiting_qr' || this.status.state === 'pairing';
    return showing && this.lastQr && this.lastQr.expiresAt.getTime() > Date.now() ? this.lastQr : undefined;
  }

  /** @returns {boolean} whether messages can be sent now */
  isConnected() {
    return this.status.state === 'connected' && this.socket !== undefined;
  }

  /** @returns {import('./message_normaliser.mjs').OwnAccount | undefined} */
  account() {
    return this.socket?.account();
  }

  /** @param {WAMessage} message @returns {Promise<Buffer>} */
  downloadMedia(message) {
    if (!this.socket) return Promise.reject(new CommandRefused('not_connected'));
    return this.socket.downloadMedia(message);
  }

  /** @returns {string} a fresh WhatsApp message id for the next send */
  newMessageId() {
    if (!this.socket || !this.isConnected()) throw new CommandRefused('not_connected');
    return this.socket.newMessageId();
  }

  /**
   * Send a text under a pre-chosen id; the id is claimed first so its echo is known as ours.
   * @param {string} chat
   * @param {string} text
   * @param {{messageId: string, quoteId?: string}} options
   */
  async sendText(chat, text, { messageId, quoteId }) {
    const socket = this.connectedSocket();
    this.sentMessages.claim(messageId, chat);
    const quoted = quoteId ? this.quotable(chat, quoteId) : undefined;
    const content = await socket.sendText(chat, text, { messageId, quoted });
    if (content) this.sentMessages.keepContent(messageId, content);
  }

  /**
   * Delete for everyone a message this account sent.
   * @param {string} chat
   * @param {string} id
   * @returns {Promise<string | undefined>} the id of the revoke message
   */
  deleteMessage(chat, id) {
    return this.connectedSocket().deleteForEveryone(chat, { remoteJid: chat, fromMe: true, id });
  }

  /** @param {string} chat @param {'composing' | 'paused'} state */
  async setTyping(chat, state) {
    if (this.isConnected()) await this.connectedSocket().sendPresence(chat, state);
  }

  /** @param {string} chat @param {string[]} ids */
  async markRead(chat, ids) {
    const keys = ids.map((id) => {
      const known = this.recent.get(id);
      return known?.key.remoteJid === chat ? known.key : { remoteJid: chat, id, fromMe: false };
    });
    await this.connectedSocket().markRead(keys);
  }

  /**
   * Ask for a pairing code for `phone` once the socket is up; only before registration.
   * @param {string} phone digits only
   * @returns {Promise<string>} the code
   */
  async requestPairingCode(phone) {
    if (this.auth?.creds.registered) throw new CommandRefused('already_registered');
    if (this.halted || this.stopped || !this.socket) throw new CommandRefused('not_connected');
    const socket = this.socket;
    await withTimeout(this.socketUp, this.socketUpTimeoutMs, 'socket_not_up');
    if (socket !== this.socket) throw new CommandRefused('socket_replaced');
    const code = await socket.requestPairingCode(phone);
    this.emit('pairing_code', { code, phone });
    this.setStatus('pairing');
    return code;
  }

  /** Unlink the device, wipe the session and start a fresh login. */
  async logout() {
    const socket = this.socket;
    if (socket && this.auth?.creds.registered) {
      this.loggingOut = true;
      try {
        await socket.logout();
      } catch (error) {
        this.logger.warn({ err: String(error) }, 'logout request failed; wiping the session anyway');
      } finally {
        this.loggingOut = false;
      }
    }
    this.halted = false;
    await this.runLifecycle(() => this.relogin('logout'));
  }

  /** @template T @param {() => Promise<T>} step @returns {Promise<T>} */
  runLifecycle(step) {
    const next = this.lifecycle.then(step);
    this.lifecycle = next.catch((error) => this.logger.error({ err: String(error) }, 'WhatsApp lifecycle step failed'));
    return next;
  }

  async openSocket() {
    await this.closeSocket();
    if (this.stopped || this.halted) return;
    const auth = this.authStore.load();
    this.auth = auth;
    this.socketUp = new Promise((resolve) => { this.markSocketUp = resolve; });
    const socket = this.factory.create({
      auth,
      version: this.version,
      getMessage: (id) => this.sentMessages.content(id),
      logger: this.baileysLogger,
    });
    this.socket = socket;
    socket.events.on('connection.update', (update) => this.onConnectionUpdate(socket, update));
    socket.events.on('creds.update', () => {
      if (socket === this.socket) this.authStore.saveCreds(auth.creds);
    });
    socket.events.on('messages.upsert', (upsert) => {
      if (socket === this.socket) this.onUpsert(upsert);
    });
  }

  /** End the current socket before anything else: never two at once. */
  async closeSocket() {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.events.removeAllListeners();
    try {
      await socket.end();
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'ending the WhatsApp socket failed');
    }
  }

  /**
   * @param {WhatsAppSocket} socket
   * @param {Record<string, any>} update Baileys' connection.update
   */
  onConnectionUpdate(socket, update) {
    if (socket !== this.socket) return;
    if (update.qr || update.connection === 'connecting') this.markSocketUp();
    if (update.qr) {
      this.lastQr = { qr: update.qr, expiresAt: new Date(Date.now() + QR_LIFETIME_MS) };
      this.emit('qr', this.lastQr);
      if (this.status.state !== 'waiting_qr' && this.status.state !== 'pairing') this.setStatus('waiting_qr');
    }
    if (update.connection === 'open') {
      this.backoff.reset();
      const account = socket.account();
      this.setStatus('connected', { phone: phoneOf(account?.jid), name: account?.name });
    }
    if (update.connection === 'close' && !this.loggingOut) {
      const error = update.lastDisconnect?.error;
      const code = error?.output?.statusCode;
      void this.runLifecycle(() => this.afterClose(code, error?.message));
    }
  }

  /**
   * @param {number | undefined} code
   * @param {string | undefined} message
   */
  async afterClose(code, message) {
    if (this.stopped) return;
    const { action, reason } = decideAfterClose(code, message);
    this.logger.info({ code, action, reason }, 'WhatsApp connection closed');
    switch (action) {
      case 'reconnect_now':
        this.setStatus('reconnecting', { reason });
        return this.openSocket();
      case 'relogin':
        return this.relogin(reason);
      case 'banned':
        await this.closeSocket();
        this.halted = true;
        return this.setStatus('banned', { reason });
      case 'qr_timeout':
        await this.closeSocket();
        this.halted = true;
        this.setStatus('stopped', { reason });
        return void this.emit('stopped', { reason });
      case 'replaced':
        await this.closeSocket();
        this.setStatus('reconnecting', { reason });
        return this.scheduleReconnect(this.replacedDelayMs);
      case 'refresh_version':
        await this.closeSocket();
        this.setStatus('reconnecting', { reason });
        await this.refreshVersion();
        return this.scheduleReconnect(this.backoff.next());
      default:
        await this.closeSocket();
        this.setStatus('reconnecting', { reason });
        return this.scheduleReconnect(this.backoff.next());
    }
  }

  /** @param {string} reason */
  async relogin(reason) {
    await this.closeSocket();
    this.authStore.wipe();
    this.sentMessages.wipe();
    this.recent.clear();
    this.setStatus('logged_out', { reason });
    await this.openSocket();
  }

  async refreshVersion() {
    try {
      this.version = (await this.factory.fetchLatestVersion()) ?? this.version;
      this.logger.info({ version: this.version }, 'using the latest WhatsApp Web version');
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'could not fetch the latest WhatsApp Web version');
    }
  }

  /** @param {number} delayMs */
  scheduleReconnect(delayMs) {
    clearTimeout(this.retryTimer);
    this.logger.info({ delayMs }, 'reconnecting to WhatsApp later');
    this.retryTimer = setTimeout(() => void this.runLifecycle(() => this.openSocket()), delayMs);
  }

  /** @param {{type: string, messages: WAMessage[]}} upsert */
  onUpsert(upsert) {
    for (const message of upsert.messages) {
      const id = message.key?.id;
      if (!id) continue;
      this.recent.delete(id);
      this.recent.set(id, message);
      if (this.recent.size > RECENT_MESSAGES) this.recent.delete(/** @type {string} */ (this.recent.keys().next().value));
    }
    this.emit('upsert', upsert);
  }

  /**
   * @param {WhatsAppState} state
   * @param {{phone?: string, name?: string, reason?: string}} [details]
   */
  setStatus(state, details = {}) {
    /** @type {StatusFrame} */
    const status = { type: 'status', state, at: isoTime() };
    if (details.phone) status.phone = details.phone;
    if (details.name) status.name = details.name;
    if (details.reason) status.reason = details.reason;
    this.status = status;
    this.logger.info({ state, reason: details.reason }, 'WhatsApp state');
    this.emit('status', status);
  }

  connectedSocket() {
    if (!this.socket || !this.isConnected()) throw new CommandRefused('not_connected');
    return this.socket;
  }

  /** @param {string} chat @param {string} id @returns {WAMessage} */
  quotable(chat, id) {
    const known = this.recent.get(id);
    if (known) return known;
    // Unknown to this process (e.g. before a restart): quote by key alone.
    return { key: { remoteJid: chat, id, fromMe: false }, message: { conversation: '' } };
  }
}

/** @param {string | undefined} jid @returns {string | undefined} digits of a phone-number JID */
function phoneOf(jid) {
  if (!jid || !jid.endsWith('@s.whatsapp.net')) return undefined;
  return jid.split('@')[0].split(':')[0];
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} code CommandRefused code on timeout
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms, code) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CommandRefused(code)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout]).finally(() => clearTimeout(timer)));
}
