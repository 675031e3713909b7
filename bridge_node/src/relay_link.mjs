// @ts-check
/**
 * The WebSocket link to the relay: handshake, keep-alive and reconnecting forever.
 * It speaks docs/PROTOCOL.md and hands typed commands on; it knows nothing of WhatsApp.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { Backoff } from './backoff.mjs';
import { MAX_FRAME_BYTES, MalformedFrame, helloFrame, parseRelayFrame } from './protocol.mjs';

export const CLOSE_PROTOCOL_ERROR = 4400;
export const CLOSE_BAD_CREDENTIALS = 4401;
export const CLOSE_REPLACED = 4409;
export const CLOSE_TENANT_GONE = 4410;

/**
 * @typedef {object} RelayLinkOptions
 * @property {string} url
 * @property {string} tenant
 * @property {string} token
 * @property {import('pino').Logger} logger
 * @property {number} [pingIntervalMs] keep-alive ping period (20 s)
 * @property {number} [silenceTimeoutMs] a relay silent this long is gone (60 s)
 * @property {number} [handshakeTimeoutMs] wait this long for `welcome` (15 s)
 * @property {{initialMs: number, maxMs: number}} [backoff] reconnect delays (0.5 s to 30 s)
 * @property {number} [stableAfterMs] a link up this long after `welcome` resets the backoff (60 s)
 */

/**
 * A self-healing link to the relay.
 * Events: `ready` ({config}) after each `welcome`; `command` (RelayCommand) for every later frame;
 * `closed-for-good` ({code}) after close 4401 or 4410, when it stops reconnecting.
 */
export class RelayLink extends EventEmitter {
  /** @param {RelayLinkOptions} options */
  constructor(options) {
    super();
    this.options = options;
    this.logger = options.logger.child({ component: 'relay_link' });
    this.backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 });
    this.pingIntervalMs = options.pingIntervalMs ?? 20_000;
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? 60_000;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 15_000;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
    /** @type {NodeJS.Timeout | undefined} */
    this.stableTimer = undefined;
    /** @type {WebSocket | undefined} */
    this.ws = undefined;
    this.ready = false;
    this.stopped = false;
    /** @type {NodeJS.Timeout | undefined} */
    this.retryTimer = undefined;
  }

  /** Start connecting; it keeps reconnecting until stop() or a final close code. */
  start() {
    this.connect();
  }

  /**
   * Send a frame if the handshake is done.
   * @param {object} frame
   * @returns {boolean} whether it went out (frames are not queued here)
   */
  send(frame) {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    const text = JSON.stringify(frame);
    // The relay closes the link on an oversized frame; sending one would only drop the link
    // and every frame behind it, again after each reconnect.
    if (Buffer.byteLength(text, 'utf8') > MAX_FRAME_BYTES) {
      this.logger.error({ frameType: /** @type {any} */ (frame).type }, 'not sending a frame over the size limit');
      return false;
    }
    this.ws.send(text);
    return true;
  }

  /**
   * Close the link for good, after the frames already sent have been flushed.
   * @returns {Promise<void>}
   */
  async stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.stableTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise((resolve) => {
      const force = setTimeout(() => { ws.terminate(); resolve(undefined); }, 2000);
      ws.once('close', () => { clearTimeout(force); resolve(undefined); });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'bridge stopping');
    });
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.options.url, {
      headers: {
        Authorization: `Bearer ${this.options.token}`,
        'X-Puente-Tenant': this.options.tenant,
      },
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: this.handshakeTimeoutMs,
    });
    this.ws = ws;
    this.ready = false;
    let lastHeard = Date.now();
    const heard = () => { lastHeard = Date.now(); };
    const welcomeTimer = setTimeout(() => {
      this.logger.warn('relay sent no welcome in time; reconnecting');
      ws.terminate();
    }, this.handshakeTimeoutMs);
    const pingTimer = setInterval(() => {
      if (Date.now() - lastHeard > this.silenceTimeoutMs) {
        this.logger.warn('relay silent too long; reconnecting');
        ws.terminate();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, this.pingIntervalMs);

    ws.on('open', () => {
      heard();
      ws.send(JSON.stringify(helloFrame(this.options.tenant)));
    });
    ws.on('ping', heard);
    ws.on('pong', heard);
    ws.on('message', (data, isBinary) => {
      heard();
      this.onFrame(ws, isBinary ? '' : data.toString(), welcomeTimer);
    });
    ws.on('unexpected-response', (_request, response) => {
      this.logger.warn({ status: response.statusCode }, 'relay refused the WebSocket upgrade');
      ws.terminate();
    });
    ws.on('error', (error) => this.logger.warn({ err: error.message }, 'relay connection error'));
    ws.on('close', (code) => {
      clearTimeout(welcomeTimer);
      clearInterval(pingTimer);
      this.onClose(ws, code);
    });
  }

  /**
   * @param {WebSocket} ws
   * @param {string} text
   * @param {NodeJS.Timeout} welcomeTimer
   */
  onFrame(ws, text, welcomeTimer) {
    let command;
    try {
      command = parseRelayFrame(text);
    } catch (error) {
      if (!(error instanceof MalformedFrame)) throw error;
      this.logger.warn({ err: error.message }, 'closing relay connection on a malformed frame');
      ws.close(CLOSE_PROTOCOL_ERROR, 'malformed frame');
      return;
    }
    if (command.type === 'invalid' && command.frameType === 'welcome' && !this.ready) {
      // A welcome whose config the bridge cannot read still completes the handshake.
      this.logger.warn({ problem: command.problem }, 'ignoring the unreadable config of welcome');
      command = { type: 'welcome', protocol: 1 };
    }
    if (command.type === 'welcome') {
      clearTimeout(welcomeTimer);
      if (this.ready) return;
      this.ready = true;
      // Reset only once the link has stayed up: a relay that accepts and then drops the
      // link at once (a frame that kills it, say) must not be hammered in a tight loop.
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => this.backoff.reset(), this.stableAfterMs);
      this.logger.info('relay link ready');
      this.emit('ready', { config: command.config });
      return;
    }
    if (!this.ready) {
      this.logger.warn({ frameType: command.type }, 'ignoring a frame sent before welcome');
      return;
    }
    this.emit('command', command);
  }

  /** @param {WebSocket} ws @param {number} code */
  onClose(ws, code) {
    if (this.ws !== ws) return;
    this.ready = false;
    clearTimeout(this.stableTimer);
    if (this.stopped) return;
    if (code === CLOSE_BAD_CREDENTIALS || code === CLOSE_TENANT_GONE) {
      this.stopped = true;
      this.logger.warn({ code }, 'relay closed the link for good');
      this.emit('closed-for-good', { code });
      return;
    }
    const delay = this.backoff.next();
    this.logger.info({ code, delayMs: delay }, 'relay link closed; reconnecting');
    this.emit('disconnected', { code });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
