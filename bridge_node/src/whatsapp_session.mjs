// @ts-check
/**
 * The tenant's WhatsApp session: one socket at a time, login by QR or pairing code,
 * reconnecting by the policy of connection_policy.mjs, and the commands the relay gives.
 */
import { EventEmitter } from 'node:events';
import { isLinked } from './auth_state.mjs';
import { CommandRefused } from './command_refused.mjs';
import { Backoff } from './backoff.mjs';
import { decideAfterClose } from './connection_policy.mjs';
import { PairingFlow } from './pairing_flow.mjs';
import { isoTime } from './protocol.mjs';
import { QR_LIFETIME_MS, isIgnoredJid } from './whatsapp_socket.mjs';

export { CommandRefused };

const RECENT_MESSAGES = 500;
/** setTimeout cannot wait longer than this (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * @typedef {import('./protocol.mjs').StatusFrame} StatusFrame
 * @typedef {import('./protocol.mjs').WhatsAppState} WhatsAppState
 * @typedef {import('./whatsapp_socket.mjs').WhatsAppSocket} WhatsAppSocket
 * @typedef {import('./whatsapp_socket.mjs').PresenceState} PresenceState
 * @typedef {import('baileys').WAMessage} WAMessage
 *
 * @typedef {object} SessionTuning
 * @property {{initialMs: number, maxMs: number}} [backoff] delays after ordinary disconnects
 * @property {number} [stableAfterMs] a connection up this long resets the backoff (60 s)
 * @property {number} [replacedDelayMs] wait after another client replaced this one
 * @property {number} [socketUpTimeoutMs] how long `pair` waits for the socket to take requests
 * @property {number} [qrTimeoutMs] life of each QR (20 s)
 * @property {number} [pairingQrTimeoutMs] life of each QR ref on a pairing socket (60 s: six
 *   refs keep the socket, and so the code, alive for 6 minutes)
 * @property {number} [pairingCodeLifetimeMs] how long a pairing code is usable (3 min)
 * @property {number} [banRetryMs] when a 402 names no expiry, retry after this long (1 h)
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
 * Events: `status` (StatusFrame), `qr` ({qr, expiresAt}), `pairing_code` ({code, phone, expiresAt}),
 * `upsert` ({type, messages}), `update` (Baileys' messages.update list), `call` (Baileys' call list),
 * `stopped` ({reason}) when it gave up for good.
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
    this.stableAfterMs = tuning.stableAfterMs ?? 60_000;
    this.replacedDelayMs = tuning.replacedDelayMs ?? 10 * 60_000;
    this.socketUpTimeoutMs = tuning.socketUpTimeoutMs ?? 30_000;
    this.qrTimeoutMs = tuning.qrTimeoutMs ?? QR_LIFETIME_MS;
    this.pairingQrTimeoutMs = tuning.pairingQrTimeoutMs ?? 60_000;
    this.pairingCodeLifetimeMs = tuning.pairingCodeLifetimeMs ?? 180_000;
    this.banRetryMs = tuning.banRetryMs ?? 60 * 60_000;
    /** @type {StatusFrame} */
    this.status = { type: 'status', state: 'starting', at: isoTime() };
    /** @type {{qr: string, expiresAt: Date} | undefined} the QR on show, if any */
    this.lastQr = undefined;
    /** @type {WhatsAppSocket | undefined} */
    this.socket = undefined;
    /** @type {import('baileys').AuthenticationState | undefined} */
    this.auth = undefined;
    /** @type {WeakMap<WhatsAppSocket, {promise: Promise<void>, resolve: () => void, reject: (e: Error) => void}>} */
    this.firstQr = new WeakMap();
    /** Pairing-code logins; `pairingFlow.attempt` is the one under way, if any. */
    this.pairingFlow = new PairingFlow(this);
    /** @type {import('baileys').WAVersion | undefined} */
    this.version = undefined;
    /** @type {Map<string, WAMessage>} received messages, for quotes and read receipts */
    this.recent = new Map();
    /** @type {Promise<unknown>} lifecycle steps run one after another */
    this.lifecycle = Promise.resolve();
    /** @type {NodeJS.Timeout | undefined} */
    this.retryTimer = undefined;
    /** @type {NodeJS.Timeout | undefined} */
    this.stableTimer = undefined;
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
    clearTimeout(this.stableTimer);
    this.pairingFlow.forget();
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

  /** @returns {boolean} whether the stored login belongs to a linked device */
  isLinked() {
    return this.auth ? isLinked(this.auth.creds) : this.authStore.isRegistered();
  }

  /**
   * This account, from the saved creds: known also while the socket is down, so messages
   * still being processed after a disconnect are attributed right.
   * @returns {import('./message_normaliser.mjs').OwnAccount | undefined}
   */
  account() {
    const creds = this.auth?.creds;
    if (!creds || !isLinked(creds)) return undefined;
    const me = /** @type {NonNullable<typeof creds.me>} */ (creds.me);
    return { jid: me.id, lid: me.lid, name: me.name || me.notify || me.verifiedName || undefined };
  }

  /**
   * The phone-number JID of a LID, through Baileys' LID store when a socket is up, else from
   * the same store in the session database.
   * @param {string} lid
   * @returns {Promise<string | undefined>}
   */
  async phoneJidForLid(lid) {
    const socket = this.socket;
    if (socket) {
      try {
        const found = await socket.phoneJidForLid(lid);
        if (found) return found;
      } catch (error) {
        this.logger.debug({ err: String(error) }, 'LID lookup through the socket failed');
      }
    }
    const user = lid.split('@')[0].split(':')[0];
    const phoneUser = this.authStore.phoneUserForLid(user);
    return phoneUser ? `${phoneUser}@s.whatsapp.net` : undefined;
  }

  /**
   * The media of a message as a stream. The CDN needs no socket; only a re-upload request
   * (for expired media) does.
   * @param {WAMessage} message
   */
  openMediaStream(message) {
    const socket = this.socket;
    return this.factory.openMediaStream(message, {
      logger: this.baileysLogger,
      requestReupload: socket ? (m) => socket.requestMediaReupload(m) : undefined,
    });
  }

  /** @returns {string} a fresh WhatsApp message id for the next send */
  newMessageId() {
    if (!this.socket || !this.isConnected()) throw new CommandRefused('not_connected');
    return this.socket.newMessageId();
  }

  /**
   * Send a text under a pre-chosen id; the id is claimed first so its echo is known as ours.
   * @param {string} chat the address to write to
   * @param {string} text
   * @param {{messageId: string, quoteId?: string, ephemeralExpiration?: number}} options
   */
  async sendText(chat, text, { messageId, quoteId, ephemeralExpiration }) {
    const socket = this.connectedSocket();
    this.sentMessages.claim(messageId, chat);
    const quoted = quoteId ? this.quotable(chat, quoteId) : undefined;
    const content = await socket.sendText(chat, text, { messageId, quoted, ephemeralExpiration });
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

  /**
   * @param {string | undefined} chat none for the account-wide `available`/`unavailable`
   * @param {PresenceState} state
   */
  async sendPresence(chat, state) {
    if (this.isConnected()) await this.connectedSocket().sendPresence(chat, state);
  }

  /** @param {string} chat @param {string[]} ids */
  async markRead(chat, ids) {
    const keys = ids.map((id) => this.recent.get(id)?.key ?? { remoteJid: chat, id, fromMe: false });
    await this.connectedSocket().markRead(keys);
  }

  /** @param {string} callId @param {string} caller */
  async rejectCall(callId, caller) {
    await this.connectedSocket().rejectCall(callId, caller);
  }

  /**
   * Log in with a pairing code for `phone` (see pairing_flow.mjs).
   * @param {string} phone digits only
   * @returns {Promise<string>} the code
   */
  requestPairingCode(phone) {
    return this.pairingFlow.request(phone);
  }

  /** Unlink the device, wipe the session and start a fresh login. */
  async logout() {
    const socket = this.socket;
    if (socket && this.isLinked()) {
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
    const qrTimeoutMs = this.pairingFlow.attempt ? this.pairingQrTimeoutMs : this.qrTimeoutMs;
    const socket = this.factory.create({
      auth,
      version: this.version,
      getMessage: (id) => this.sentMessages.content(id),
      logger: this.baileysLogger,
      qrTimeoutMs,
      shouldIgnoreJid: isIgnoredJid,
    });
    this.socket = socket;
    this.firstQr.set(socket, deferred());
    socket.events.on('connection.update', (update) => this.onConnectionUpdate(socket, update, qrTimeoutMs));
    socket.events.on('creds.update', () => {
      if (socket !== this.socket) return;
      this.authStore.saveCreds(auth.creds);
      if (isLinked(auth.creds)) this.pairingFlow.forget();
    });
    socket.events.on('messages.upsert', (upsert) => {
      if (socket === this.socket) this.onUpsert(upsert);
    });
    socket.events.on('messages.update', (updates) => {
      if (socket === this.socket) this.emit('update', updates);
    });
    socket.events.on('call', (calls) => {
      if (socket === this.socket) this.emit('call', calls);
    });
  }

  /** End the current socket before anything else: never two at once. */
  async closeSocket() {
    const socket = this.socket;
    this.socket = undefined;
    clearTimeout(this.stableTimer);
    if (!socket) return;
    this.firstQr.get(socket)?.reject(new CommandRefused('socket_closed'));
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
   * @param {number} qrTimeoutMs
   */
  onConnectionUpdate(socket, update, qrTimeoutMs) {
    if (socket !== this.socket) return;
    if (update.qr) {
      this.firstQr.get(socket)?.resolve();
      this.lastQr = { qr: update.qr, expiresAt: new Date(Date.now() + qrTimeoutMs) };
      this.emit('qr', this.lastQr);
      if (this.status.state !== 'waiting_qr' && this.status.state !== 'pairing') this.setStatus('waiting_qr');
    }
    if (update.connection === 'open') {
      // Only a connection that stays up earns a fresh backoff: one WhatsApp closes right
      // after opening must not be retried every second or two forever.
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => this.backoff.reset(), this.stableAfterMs);
      const account = this.account() ?? socket.account();
      this.setStatus('connected', { phone: phoneOf(account?.jid), name: account?.name });
    }
    if (update.connection === 'close' && !this.loggingOut) {
      clearTimeout(this.stableTimer);
      this.firstQr.get(socket)?.reject(new CommandRefused('socket_closed'));
      const error = update.lastDisconnect?.error;
      const code = error?.output?.statusCode;
      void this.runLifecycle(() => this.afterClose(code, error?.message, error?.data));
    }
  }

  /**
   * @param {number | undefined} code
   * @param {string | undefined} message
   * @param {Record<string, any> | undefined} data
   */
  async afterClose(code, message, data) {
    if (this.stopped) return;
    const decision = decideAfterClose(code, message, data);
    const { action, reason } = decision;
    this.logger.info({ code, action, reason }, 'WhatsApp connection closed');
    if (this.pairingFlow.attempt && (action === 'qr_timeout' || action === 'back_off')) return this.pairingFlow.socketEnded(reason);
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
      case 'temporary_ban': {
        await this.closeSocket();
        this.setStatus('banned', { reason, until: decision.until });
        const waitMs = decision.until ? Math.max(0, decision.until.getTime() - Date.now()) : this.banRetryMs;
        // A little jitter, so bridges banned together do not all come back at one instant.
        return this.scheduleReconnect(waitMs + Math.round(Math.random() * Math.min(5000, waitMs / 10)));
      }
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
    this.pairingFlow.forget();
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

  /** @param {number} delayMs may exceed setTimeout's limit (a ban of weeks) */
  scheduleReconnect(delayMs) {
    clearTimeout(this.retryTimer);
    this.logger.info({ delayMs }, 'reconnecting to WhatsApp later');
    const due = Date.now() + delayMs;
    const arm = () => {
      const left = due - Date.now();
      if (left > MAX_TIMER_MS) this.retryTimer = setTimeout(arm, MAX_TIMER_MS);
      else this.retryTimer = setTimeout(() => void this.runLifecycle(() => this.openSocket()), Math.max(0, left));
    };
    arm();
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
   * @param {{phone?: string, name?: string, reason?: string, until?: Date}} [details]
   */
  setStatus(state, details = {}) {
    /** @type {StatusFrame} */
    const status = { type: 'status', state, at: isoTime() };
    if (details.phone) status.phone = details.phone;
    if (details.name) status.name = details.name;
    if (details.reason) status.reason = details.reason;
    if (details.until) status.until = isoTime(details.until);
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

/** @returns {{promise: Promise<void>, resolve: () => void, reject: (e: Error) => void}} */
function deferred() {
  /** @type {() => void} */
  let resolve = () => {};
  /** @type {(e: Error) => void} */
  let reject = () => {};
  const promise = new Promise((res, rej) => { resolve = () => res(undefined); reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
