// @ts-check
/**
 * A stand-in for WhatsApp, chosen with PUENTE_FAKE_SOCKET (tests only). It offers the
 * WhatsAppSocket surface, is driven by JSONL actions tailed from a control file (or
 * given to apply()), and writes what the bridge did to it to `<control file>.out`.
 * It still loads Baileys, to build real protobuf messages and keep memory realistic.
 */
import { EventEmitter } from 'node:events';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { proto } from 'baileys';
// Baileys' own LID store, so the fake keeps LID <-> PN mappings where and as Baileys does.
import { LIDMappingStore } from 'baileys/lib/Signal/lid-mapping.js';
import { buildWAMessage, fromRaw, revive } from './fake_messages.mjs';

export { buildWAMessage, fromRaw };

const FAKE_LATEST_VERSION = /** @type {import('baileys').WAVersion} */ ([2, 3000, 1999999999]);
/** WhatsApp hands out this many QR refs per pair-device stanza (Socket/socket.js genPairQR). */
const QR_REFS = 6;
const MEDIA_CHUNK_BYTES = 64 * 1024;
const WS_OPEN_DELAY_MS = 10;

/**
 * @typedef {Record<string, any>} FakeAction one control line, e.g. {"op": "qr", "qr": "..."}
 * @typedef {import('./whatsapp_socket.mjs').SocketOptions} SocketOptions
 * @typedef {{bytes: Buffer, delayMs: number, stall: boolean}} CdnEntry
 */

/** The fake WhatsApp service: creates fake sockets and routes control actions to the live one. */
export class FakeWhatsApp extends EventEmitter {
  /**
   * @param {{controlPath?: string, pollMs?: number, startDelayMs?: number, logger?: import('pino').Logger,
   *   pairingCodeLifetimeMs?: number}} [options]
   */
  constructor(options = {}) {
    super();
    this.controlPath = options.controlPath;
    this.pollMs = options.pollMs ?? 50;
    this.startDelayMs = options.startDelayMs ?? 100;
    this.logger = options.logger;
    /** How long the phone accepts a pairing code; WhatsApp shows it about 3 minutes. */
    this.pairingCodeLifetimeMs = options.pairingCodeLifetimeMs ?? 180_000;
    /** @type {Record<string, any>[]} what the bridge did, in order */
    this.records = [];
    /** @type {FakeSocket | undefined} */
    this.current = undefined;
    this.liveSockets = 0;
    this.maxLiveSockets = 0;
    this.socketsCreated = 0;
    this.offset = 0;
    this.partial = '';
    /** @type {NodeJS.Timeout | undefined} */
    this.pollTimer = undefined;
    /** @type {Map<string, CdnEntry>} media by message id: WhatsApp's CDN, reachable without a socket */
    this.cdn = new Map();
    /** @type {{code: string, phone: string, socket: FakeSocket, at: number} | undefined} the code last asked for */
    this.pairing = undefined;
    /** @type {string | undefined} the code the next requestPairingCode returns; random if unset */
    this.nextPairingCode = undefined;
  }

  /** Start tailing the control file, if there is one. */
  start() {
    if (!this.controlPath || this.pollTimer) return;
    if (!fs.existsSync(this.controlPath)) fs.writeFileSync(this.controlPath, '');
    this.pollTimer = setInterval(() => this.poll(), this.pollMs);
  }

  /** Stop tailing. */
  stop() {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /**
   * @param {SocketOptions} options
   * @returns {FakeSocket}
   */
  create(options) {
    this.socketsCreated += 1;
    this.liveSockets += 1;
    this.maxLiveSockets = Math.max(this.maxLiveSockets, this.liveSockets);
    this.record({
      op: 'socket_created',
      registered: isLinked(options.auth.creds),
      me: options.auth.creds.me?.id ?? null,
      version: options.version ?? null,
      qr_timeout_ms: options.qrTimeoutMs ?? null,
    });
    this.current = new FakeSocket(this, options);
    return this.current;
  }

  /** @returns {Promise<import('baileys').WAVersion>} */
  async fetchLatestVersion() {
    this.record({ op: 'version_fetched', version: FAKE_LATEST_VERSION });
    return FAKE_LATEST_VERSION;
  }

  /**
   * The CDN download of a message's media, in chunks, like Baileys' decrypting stream.
   * @param {import('baileys').WAMessage} message
   * @returns {Promise<Readable>}
   */
  async openMediaStream(message) {
    const id = /** @type {string} */ (message.key.id);
    this.record({ op: 'download', id });
    const entry = this.cdn.get(id);
    if (!entry) throw Object.assign(new Error('fake CDN has no media for this message'), { status: 404 });
    if (entry.delayMs) await new Promise((resolve) => setTimeout(resolve, entry.delayMs));
    let sent = 0;
    let destroyed = false;
    const stream = new Readable({
      read() {
        if (entry.stall || destroyed) return;
        if (sent >= entry.bytes.length) { this.push(null); return; }
        const chunk = entry.bytes.subarray(sent, sent + MEDIA_CHUNK_BYTES);
        sent += chunk.length;
        this.push(chunk);
      },
      destroy: (error, callback) => {
        // Also called after a complete read (autoDestroy); only a cut-off read is an abort.
        if (!destroyed && sent < entry.bytes.length) this.record({ op: 'download_aborted', id, bytes_sent: sent });
        destroyed = true;
        callback(error);
      },
    });
    return stream;
  }

  /**
   * Play one control action on the live socket.
   * @param {FakeAction} action
   */
  apply(action) {
    const socket = this.current;
    if (!socket || socket.ended) {
      this.logger?.warn({ op: action.op }, 'fake socket: no live socket for control action');
      return;
    }
    socket.apply(action);
  }

  /** @param {Record<string, any>} entry */
  record(entry) {
    this.records.push(entry);
    if (this.controlPath) fs.appendFileSync(`${this.controlPath}.out`, `${JSON.stringify(entry)}\n`);
    this.emit('record', entry);
  }

  poll() {
    if (!this.controlPath) return;
    let size;
    try {
      size = fs.statSync(this.controlPath).size;
    } catch {
      return;
    }
    if (size <= this.offset) return;
    const buffer = Buffer.alloc(size - this.offset);
    const fd = fs.openSync(this.controlPath, 'r');
    try {
      fs.readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      fs.closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buffer.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.applyLine(line);
  }

  /** @param {string} line */
  applyLine(line) {
    if (!line.trim()) return;
    let action;
    try {
      action = JSON.parse(line);
    } catch {
      this.logger?.warn('fake socket: control line is not JSON');
      return;
    }
    this.apply(action);
  }
}

/** @param {Record<string, any>} creds @returns {boolean} linked to a phone (QR or code), as after pair-success */
function isLinked(creds) {
  return Boolean(creds.me?.id && creds.account);
}

/**
 * One fake connection, modelled on Baileys' Socket/socket.js: `connecting` is emitted before
 * the WebSocket is open; unlinked creds get QR refs (one per qrTimeout, six in all, then
 * close 408 "QR refs attempts ended"); creds with `me` but no link try to log in and fail;
 * linked creds open by themselves.
 */
export class FakeSocket {
  /**
   * @param {FakeWhatsApp} service
   * @param {SocketOptions} options
   */
  constructor(service, options) {
    this.service = service;
    this.auth = options.auth;
    this.getMessage = options.getMessage;
    this.qrTimeoutMs = options.qrTimeoutMs ?? 60_000;
    this.shouldIgnoreJid = options.shouldIgnoreJid ?? (() => false);
    this.events = new EventEmitter();
    this.ended = false;
    this.closed = false;
    this.isOpen = false;
    this.wsOpen = false;
    this.qrCount = 0;
    this.qrRefsLeft = QR_REFS;
    /** @type {NodeJS.Timeout | undefined} */
    this.qrTimer = undefined;
    /** @type {Promise<void>} */
    this.delivering = Promise.resolve();
    const keys = this.auth.keys;
    this.lidMapping = new LIDMappingStore({
      get: (type, ids) => keys.get(type, ids),
      set: (data) => keys.set(data),
      transaction: async (work) => work(),
      isInTransaction: () => false,
    }, /** @type {any} */ (quietLogger), async () => undefined);
    this.startTimer = setTimeout(() => this.boot(), service.startDelayMs);
  }

  boot() {
    if (this.ended) return;
    this.emitUpdate({ connection: 'connecting' });
    // The WebSocket and the noise handshake take a moment after `connecting`.
    this.startTimer = setTimeout(() => this.handshakeDone(), WS_OPEN_DELAY_MS);
  }

  handshakeDone() {
    if (this.ended) return;
    this.wsOpen = true;
    if (isLinked(this.auth.creds)) this.open(undefined);
    // validateConnection sends a login node whenever creds.me is set; an account that was
    // never linked (an abandoned pairing code left `me` behind) is refused.
    else if (this.auth.creds.me) this.close(401, 'Connection Failure', { reason: '401', location: 'fake' });
    else this.nextQr();
  }

  nextQr() {
    if (this.closed) return;
    if (this.qrRefsLeft === 0) {
      this.close(408, 'QR refs attempts ended');
      return;
    }
    this.qrRefsLeft -= 1;
    this.showQr(undefined);
    this.qrTimer = setTimeout(() => this.nextQr(), this.qrTimeoutMs);
  }

  /** @param {FakeAction} action */
  apply(action) {
    switch (action.op) {
      case 'qr': return this.showQr(action.qr);
      case 'open': return this.open(action);
      case 'close': return this.close(Number(action.code), action.message, action.data);
      case 'qr_timeout': return this.close(408, 'QR refs attempts ended');
      case 'message':
        // One after another, as Baileys' message mutex does: upserts keep their order.
        this.delivering = this.delivering.then(() => this.deliver(action))
          .catch((error) => this.service.logger?.warn({ err: String(error) }, 'fake socket: delivery failed'));
        return undefined;
      case 'pairing_code': this.service.nextPairingCode = String(action.code); return undefined;
      case 'enter_code': return this.enterCode(String(action.code));
      case 'retry_request': return this.retryRequest(String(action.id));
      case 'lid_mapping': return void this.lidMapping.storeLIDPNMappings([{ lid: action.lid, pn: action.pn }]);
      case 'messages_update': return void this.events.emit('messages.update', revive(action.updates));
      case 'send_error': return void this.events.emit('messages.update', [{
        key: { remoteJid: action.chat, fromMe: true, id: action.id },
        update: { status: proto.WebMessageInfo.Status.ERROR, messageStubParameters: [String(action.error ?? '479')] },
      }]);
      case 'call': return void this.events.emit('call', [{
        chatId: action.from, from: action.from, callerPn: action.caller_pn, id: action.id ?? `CALL-${crypto.randomUUID()}`,
        date: new Date(), offline: Boolean(action.offline), status: action.status ?? 'offer',
        isVideo: Boolean(action.video), isGroup: Boolean(action.group),
      }]);
      default:
        this.service.logger?.warn({ op: action.op }, 'fake socket: unknown control op');
        return undefined;
    }
  }

  /** @param {string | undefined} qr */
  showQr(qr) {
    this.qrCount += 1;
    this.emitUpdate({ qr: qr ?? `fake-qr-${this.service.socketsCreated}-${this.qrCount}` });
  }

  /** @param {FakeAction | undefined} action */
  open(action) {
    clearTimeout(this.qrTimer);
    if (action?.phone) {
      const phone = String(action.phone);
      const me = { id: `${phone}:7@s.whatsapp.net`, lid: `${action.lid ?? '9' + phone}:7@lid`, name: action.name };
      // pair-success (Utils/validate-connection.js configureSuccessfulPairing) sets me and
      // account; `registered` is only ever set by the pairing-code flow.
      const update = { me, account: { details: Buffer.from('fake-adv') } };
      Object.assign(this.auth.creds, update);
      this.events.emit('creds.update', update);
    }
    this.isOpen = true;
    this.emitUpdate({ connection: 'open' });
    // CB:success stores the account's own LID <-> PN pair (Socket/socket.js).
    const me = this.auth.creds.me;
    if (me?.lid) {
      const own = [{ lid: me.lid, pn: me.id }];
      this.delivering = this.delivering.then(() => this.lidMapping.storeLIDPNMappings(own)).catch(() => {});
    }
  }

  /**
   * The phone user types a pairing code: it works while the socket that asked for it lives
   * and the code has not expired; then WhatsApp links and asks for a restart (515).
   * @param {string} code
   */
  enterCode(code) {
    const pairing = this.service.pairing;
    const problem = !pairing || pairing.code !== code ? 'wrong_code'
      : pairing.socket !== this || this.closed ? 'socket_gone'
        : Date.now() - pairing.at > this.service.pairingCodeLifetimeMs ? 'expired' : undefined;
    if (problem) {
      this.service.record({ op: 'code_rejected', code, reason: problem });
      return;
    }
    const phone = /** @type {NonNullable<typeof pairing>} */ (pairing).phone;
    clearTimeout(this.qrTimer);
    const update = {
      me: { id: `${phone}:7@s.whatsapp.net`, lid: `9${phone}:7@lid`, name: 'Tienda' },
      account: { details: Buffer.from('fake-adv') },
      registered: true,
    };
    Object.assign(this.auth.creds, update);
    this.events.emit('creds.update', update);
    this.service.record({ op: 'paired', code, phone });
    this.close(515, 'Stream Errored (restart required)');
  }

  /**
   * Close as Baileys does: an Error with Boom's `output.statusCode` and the failure node's
   * attributes as `data` (Socket/socket.js, CB:failure).
   * @param {number} code @param {string} [message] @param {Record<string, any>} [data]
   */
  close(code, message, data) {
    if (this.closed) return;
    this.closed = true;
    this.isOpen = false;
    this.wsOpen = false;
    clearTimeout(this.qrTimer);
    const error = Object.assign(new Error(message ?? `fake close ${code}`), { output: { statusCode: code }, data });
    this.emitUpdate({ connection: 'close', lastDisconnect: { error, date: new Date() } });
  }

  /**
   * Deliver a message as messages-recv.js handleMessage does: ignored chats are dropped
   * before decryption, LID <-> PN pairs seen on the stanza are stored, then the upsert.
   * @param {FakeAction} action
   */
  async deliver(action) {
    const { message, media } = action.raw ? fromRaw(action) : buildWAMessage(action);
    const key = /** @type {Record<string, any>} */ (message.key);
    if (this.shouldIgnoreJid(key.remoteJid)) {
      this.service.record({ op: 'ignored', id: key.id, jid: key.remoteJid });
      return;
    }
    if (media) {
      this.service.cdn.set(key.id, { bytes: media, delayMs: Number(action.download_delay_ms ?? 0), stall: Boolean(action.download_stall) });
    }
    await this.storeAltMapping(key);
    if (this.ended) return;
    this.events.emit('messages.upsert', { type: action.upsert_type ?? 'notify', messages: [message] });
  }

  /** Socket/messages-recv.js handleMessage: "store new mappings we didn't have before". @param {Record<string, any>} key */
  async storeAltMapping(key) {
    const alt = key.participantAlt || key.remoteJidAlt;
    const primary = key.participant || key.remoteJid;
    if (!alt) return;
    if (alt.endsWith('@lid')) {
      if (!(await this.lidMapping.getPNForLID(alt))) await this.lidMapping.storeLIDPNMappings([{ lid: alt, pn: primary }]);
    } else {
      await this.lidMapping.storeLIDPNMappings([{ lid: primary, pn: alt }]);
    }
  }

  /** @param {string} id */
  retryRequest(id) {
    this.service.record({ op: 'get_message', id, found: this.getMessage(id) !== undefined });
  }

  /** @param {Record<string, any>} update */
  emitUpdate(update) {
    this.events.emit('connection.update', update);
  }

  account() {
    const me = this.auth.creds.me;
    return me ? { jid: me.id, lid: me.lid, name: me.name } : undefined;
  }

  /**
   * Like Baileys: refused before the WebSocket is open (428); writes `me` into the creds.
   * @param {string} phone
   */
  async requestPairingCode(phone) {
    if (!this.wsOpen) throw Object.assign(new Error('Connection Closed'), { output: { statusCode: 428 } });
    // Baileys draws a fresh random code per request (bytesToCrockford(randomBytes(5))).
    const code = this.service.nextPairingCode ?? crypto.randomBytes(5).toString('hex').slice(0, 8).toUpperCase();
    this.service.nextPairingCode = undefined;
    const me = { id: `${phone}@s.whatsapp.net`, name: '~' };
    Object.assign(this.auth.creds, { pairingCode: code, me });
    this.events.emit('creds.update', this.auth.creds);
    this.service.pairing = { code, phone, socket: this, at: Date.now() };
    this.service.record({ op: 'pairing_code_requested', phone });
    return code;
  }

  /**
   * @param {string} chat
   * @param {string} text
   * @param {import('./whatsapp_socket.mjs').SendOptions} options
   */
  async sendText(chat, text, { messageId, quoted, ephemeralExpiration }) {
    if (!this.isOpen) throw new Error('Connection Closed');
    this.service.record({
      op: 'sent', id: messageId, chat, text, quote_id: quoted?.key?.id ?? null, ephemeral_expiration: ephemeralExpiration ?? null,
    });
    const me = this.account();
    const echo = buildWAMessage({ id: messageId, chat, sender: me?.jid, from_me: true, text });
    // Baileys (emitOwnEvents) echoes a sent message as an `append` upsert on the next tick.
    process.nextTick(() => this.events.emit('messages.upsert', { type: 'append', messages: [echo.message] }));
    return proto.Message.encode(/** @type {any} */ (echo.message.message)).finish();
  }

  /** @param {string} chat @param {import('baileys').WAMessageKey} key */
  async deleteForEveryone(chat, key) {
    if (!this.isOpen) throw new Error('Connection Closed');
    const id = this.newMessageId();
    this.service.record({ op: 'deleted', chat, id: key.id, revoke_id: id });
    return id;
  }

  /** @param {string | undefined} chat @param {import('./whatsapp_socket.mjs').PresenceState} state */
  async sendPresence(chat, state) {
    this.service.record({ op: 'presence', chat: chat ?? null, state });
  }

  /** @param {import('baileys').WAMessageKey[]} keys */
  async markRead(keys) {
    this.service.record({ op: 'read', keys: keys.map((k) => ({ chat: k.remoteJid, id: k.id, participant: k.participant ?? null })) });
  }

  /** @param {string} callId @param {string} caller */
  async rejectCall(callId, caller) {
    this.service.record({ op: 'reject_call', id: callId, caller });
  }

  /** @param {string} lid */
  async phoneJidForLid(lid) {
    return (await this.lidMapping.getPNForLID(lid)) ?? undefined;
  }

  /** @param {import('baileys').WAMessage} message */
  async requestMediaReupload(message) {
    this.service.record({ op: 'reupload_requested', id: message.key.id });
    return message;
  }

  async logout() {
    this.service.record({ op: 'logout' });
    // Baileys ends the connection as logged out once the unlink went through.
    setImmediate(() => this.close(401, 'Intentional Logout'));
  }

  async end() {
    if (this.ended) return;
    this.ended = true;
    this.closed = true;
    this.isOpen = false;
    this.wsOpen = false;
    clearTimeout(this.startTimer);
    clearTimeout(this.qrTimer);
    this.events.removeAllListeners();
    this.service.liveSockets -= 1;
    this.service.record({ op: 'end' });
  }

  newMessageId() {
    return `3EB0${crypto.randomBytes(9).toString('hex').toUpperCase()}`;
  }
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return quietLogger; } };
