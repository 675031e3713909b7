// @ts-check
/**
 * Logging in with a pairing code instead of a QR. What Baileys does (Socket/socket.js):
 * `connecting` is emitted before the WebSocket is open, so a request then fails with 428;
 * QR refs come once the socket can take requests; the socket closes itself ("QR refs
 * attempts ended") when its six refs have run out, and a code dies with its socket;
 * requestPairingCode writes a provisional `creds.me`, which makes the next socket log in
 * instead of registering.
 */
import { clearUnfinishedLogin } from './auth_state.mjs';
import { CommandRefused, withTimeout } from './command_refused.mjs';

/** One pairing-code login under way: its phone and, once issued, its code and expiry. */
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

/**
 * The pairing-code logins of one WhatsApp session. It drives the session's socket
 * lifecycle: a fresh socket per attempt, with QR refs that outlive the code.
 */
export class PairingFlow {
  /** @param {import('./whatsapp_session.mjs').WhatsAppSession} session */
  constructor(session) {
    this.session = session;
    /** @type {PairingAttempt | undefined} */
    this.attempt = undefined;
  }

  /**
   * Ask for a code for `phone` on a fresh socket, once that socket can take the request
   * (its first QR).
   * @param {string} phone digits only
   * @returns {Promise<string>} the code
   */
  async request(phone) {
    const session = this.session;
    if (session.isLinked()) throw new CommandRefused('already_registered');
    if (session.halted || session.stopped) throw new CommandRefused('not_connected');
    const socket = await session.runLifecycle(() => this.start(phone));
    if (!socket) throw new CommandRefused('not_connected');
    return this.issue(socket, phone);
  }

  /** @param {string} phone */
  async start(phone) {
    this.attempt?.cancel();
    this.attempt = new PairingAttempt(phone);
    await this.session.closeSocket();
    this.forgetUnfinishedLogin();
    await this.session.openSocket();
    return this.session.socket;
  }

  /**
   * @param {import('./whatsapp_socket.mjs').WhatsAppSocket} socket a pairing socket
   * @param {string} phone
   */
  async issue(socket, phone) {
    const session = this.session;
    const ready = session.firstQr.get(socket);
    if (!ready) throw new CommandRefused('socket_replaced');
    await withTimeout(ready.promise, session.socketUpTimeoutMs, 'socket_not_up');
    const attempt = this.attempt;
    if (socket !== session.socket || !attempt) throw new CommandRefused('socket_replaced');
    const code = await socket.requestPairingCode(phone);
    const expiresAt = new Date(Date.now() + session.pairingCodeLifetimeMs);
    attempt.issued(code, expiresAt, () => void session.runLifecycle(() => this.abandon('pairing_code_expired')));
    session.emit('pairing_code', { code, phone, expiresAt });
    session.setStatus('pairing');
    return code;
  }

  /**
   * The code expired unused: forget the attempt and the `me` it wrote, so the next socket
   * registers afresh; QRs on the current socket still work.
   * @param {string} reason
   */
  async abandon(reason) {
    if (!this.attempt) return;
    this.forget();
    this.forgetUnfinishedLogin();
    this.session.logger.info({ reason }, 'pairing attempt abandoned');
    if (this.session.status.state === 'pairing') this.session.setStatus('waiting_qr', { reason });
  }

  /**
   * The pairing socket closed before the login finished. While its code is meant to be
   * usable, a code is kept available: a fresh pairing socket asks for a new one (the old
   * one died with its socket). An expired or never-issued attempt is dropped.
   * @param {string} reason
   */
  async socketEnded(reason) {
    const session = this.session;
    const attempt = /** @type {PairingAttempt} */ (this.attempt);
    if (!attempt.isOutstanding()) {
      await this.abandon(reason);
      await session.closeSocket();
      session.setStatus('reconnecting', { reason });
      return session.scheduleReconnect(session.backoff.next());
    }
    session.logger.warn({ reason }, 'pairing socket closed while its code was out; asking for a new code');
    const socket = await this.start(attempt.phone);
    if (!socket) return undefined;
    this.issue(socket, attempt.phone).catch((error) => {
      session.logger.warn({ err: String(error) }, 'could not renew the pairing code');
    });
    return undefined;
  }

  /** Drop the attempt (linked, logged out or stopping). */
  forget() {
    this.attempt?.cancel();
    this.attempt = undefined;
  }

  forgetUnfinishedLogin() {
    const { auth, authStore } = this.session;
    const creds = auth?.creds ?? authStore.load().creds;
    if (clearUnfinishedLogin(creds)) authStore.saveCreds(creds);
  }
}
