// @ts-check
/**
 * A fake relay: a real `ws` server on 127.0.0.1 that speaks the relay's side of
 * docs/PROTOCOL.md, records every connection and frame, and lets a test act as the relay.
 */
import { EventEmitter, once } from 'node:events';
import { WebSocketServer } from 'ws';

/**
 * @typedef {object} RelayConnection
 * @property {import('ws').WebSocket} ws
 * @property {Record<string, string | string[] | undefined>} headers upgrade request headers
 * @property {Record<string, any>[]} frames frames received on this connection
 * @property {number | undefined} closeCode
 */

/** The relay's bridge endpoint, for tests. */
export class FakeRelay extends EventEmitter {
  /** @param {{autoWelcome?: boolean, welcomeConfig?: Record<string, any>}} [options] */
  constructor(options = {}) {
    super();
    this.autoWelcome = options.autoWelcome ?? true;
    /** @type {Record<string, any> | undefined} the tenant settings sent in `welcome` */
    this.welcomeConfig = options.welcomeConfig;
    /** @type {RelayConnection[]} */
    this.connections = [];
    /** @type {Record<string, any>[]} every frame from every connection */
    this.frames = [];
    // The relay's frame limit (docs/PROTOCOL.md "Limits"): a bigger frame closes the link (1009).
    this.server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 20 * 1024 * 1024 });
    this.server.on('connection', (ws, request) => this.onConnection(ws, request));
  }

  /** @returns {Promise<string>} the bridge URL once listening */
  async listen() {
    if (!this.server.address()) await once(this.server, 'listening');
    const address = /** @type {import('node:net').AddressInfo} */ (this.server.address());
    return `ws://127.0.0.1:${address.port}/bridge`;
  }

  /**
   * @param {import('ws').WebSocket} ws
   * @param {import('node:http').IncomingMessage} request
   */
  onConnection(ws, request) {
    /** @type {RelayConnection} */
    const connection = { ws, headers: request.headers, frames: [], closeCode: undefined };
    this.connections.push(connection);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      connection.frames.push(frame);
      this.frames.push(frame);
      if (frame.type === 'hello' && this.autoWelcome) {
        ws.send(JSON.stringify({ type: 'welcome', protocol: 1, ...(this.welcomeConfig ? { config: this.welcomeConfig } : {}) }));
      }
      this.emit('frame', frame, connection);
    });
    ws.on('close', (code) => {
      connection.closeCode = code;
      this.emit('close', connection);
    });
    this.emit('connection', connection);
  }

  /** @returns {RelayConnection} the newest connection */
  get current() {
    const connection = this.connections.at(-1);
    if (!connection) throw new Error('no bridge connected');
    return connection;
  }

  /** @param {Record<string, any>} frame send to the newest connection */
  send(frame) {
    this.current.ws.send(JSON.stringify(frame));
  }

  /** @param {string} text send raw text to the newest connection */
  sendRaw(text) {
    this.current.ws.send(text);
  }

  /**
   * Resolve with the first frame (already received or future) that matches.
   * @param {(frame: Record<string, any>) => boolean} predicate
   * @param {{timeoutMs?: number, since?: number}} [options] since: index into `frames`
   * @returns {Promise<Record<string, any>>}
   */
  waitForFrame(predicate, { timeoutMs = 5000, since = 0 } = {}) {
    const found = this.frames.slice(since).find(predicate);
    if (found) return Promise.resolve(found);
    return this.waitFor('frame', (frame) => predicate(frame) ? frame : undefined, timeoutMs, 'frame');
  }

  /**
   * @param {number} count
   * @param {number} [timeoutMs]
   * @returns {Promise<RelayConnection>} once `count` connections were made
   */
  waitForConnections(count, timeoutMs = 5000) {
    if (this.connections.length >= count) return Promise.resolve(this.current);
    return this.waitFor('connection', (c) => (this.connections.length >= count ? c : undefined), timeoutMs, `${count} connections`);
  }

  /**
   * Wait for the `count`th connection to finish its handshake (its first status frame).
   * @param {number} count
   * @param {number} [timeoutMs]
   * @returns {Promise<RelayConnection>}
   */
  async waitForReady(count, timeoutMs = 5000) {
    await this.waitForConnections(count, timeoutMs);
    const connection = this.connections[count - 1];
    if (!connection.frames.some((f) => f.type === 'status')) {
      await this.waitFor('frame', (f, c) => (c === connection && f.type === 'status' ? f : undefined), timeoutMs, 'status');
    }
    return connection;
  }

  /**
   * @param {RelayConnection} connection
   * @param {number} [timeoutMs]
   * @returns {Promise<number>} the close code
   */
  waitForClose(connection, timeoutMs = 5000) {
    if (connection.closeCode !== undefined) return Promise.resolve(connection.closeCode);
    return this.waitFor('close', (c) => (c === connection ? c.closeCode : undefined), timeoutMs, 'close');
  }

  /**
   * @template T
   * @param {string} event
   * @param {(...args: any[]) => T | undefined} match
   * @param {number} timeoutMs
   * @param {string} what
   * @returns {Promise<T>}
   */
  waitFor(event, match, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off(event, listener);
        reject(new Error(`fake relay: timed out waiting for ${what}`));
      }, timeoutMs);
      const listener = (/** @type {any[]} */ ...args) => {
        const value = match(...args);
        if (value === undefined) return;
        clearTimeout(timer);
        this.off(event, listener);
        resolve(value);
      };
      this.on(event, listener);
    });
  }

  /** Close every connection and the server. */
  async close() {
    for (const { ws } of this.connections) ws.terminate();
    await new Promise((resolve) => this.server.close(() => resolve(undefined)));
  }
}
