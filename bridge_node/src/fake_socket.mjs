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
import { proto } from 'baileys';

const FAKE_LATEST_VERSION = /** @type {import('baileys').WAVersion} */ ([2, 3000, 1999999999]);

/**
 * @typedef {Record<string, any>} FakeAction one control line, e.g. {"op": "qr", "qr": "..."}
 * @typedef {import('./whatsapp_socket.mjs').SocketOptions} SocketOptions
 */

/** The fake WhatsApp service: creates fake sockets and routes control actions to the live one. */
export class FakeWhatsApp extends EventEmitter {
  /**
   * @param {{controlPath?: string, pollMs?: number, startDelayMs?: number, logger?: import('pino').Logger}} [options]
   */
  constructor(options = {}) {
    super();
    this.controlPath = options.controlPath;
    this.pollMs = options.pollMs ?? 50;
    this.startDelayMs = options.startDelayMs ?? 100;
    this.logger = options.logger;
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
    this.record({ op: 'socket_created', registered: Boolean(options.auth.creds.registered), version: options.version ?? null });
    this.current = new FakeSocket(this, options);
    return this.current;
  }

  /** @returns {Promise<import('baileys').WAVersion>} */
  async fetchLatestVersion() {
    this.record({ op: 'version_fetched', version: FAKE_LATEST_VERSION });
    return FAKE_LATEST_VERSION;
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

/** One fake connection; unregistered it shows a QR, registered it opens by itself. */
export class FakeSocket {
  /**
   * @param {FakeWhatsApp} service
   * @param {SocketOptions} options
   */
  constructor(service, options) {
    this.service = service;
    this.auth = options.auth;
    this.getMessage = options.getMessage;
    this.events = new EventEmitter();
    this.ended = false;
    this.isOpen = false;
    this.qrCount = 0;
    this.nextPairingCode = 'FAKE2345';
    /** @type {Map<string, Buffer>} */
    this.mediaById = new Map();
    this.startTimer = setTimeout(() => this.boot(), service.startDelayMs);
  }

  boot() {
    if (this.ended) return;
    this.emitUpdate({ connection: 'connecting' });
    if (this.auth.creds.registered && this.auth.creds.me) this.open(undefined);
    else this.showQr(undefined);
  }

  /** @param {FakeAction} action */
  apply(action) {
    switch (action.op) {
      case 'qr': return this.showQr(action.qr);
      case 'open': return this.open(action);
      case 'close': return this.close(Number(action.code), action.message);
      case 'qr_timeout': return this.close(408, 'QR refs attempts ended');
      case 'message': return this.deliver(action);
      case 'pairing_code': this.nextPairingCode = String(action.code); return undefined;
      case 'retry_request': return this.retryRequest(String(action.id));
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
    if (action?.phone) {
      const phone = String(action.phone);
      const me = { id: `${phone}:7@s.whatsapp.net`, lid: `${action.lid ?? '9' + phone}:7@lid`, name: action.name };
      // Baileys applies creds.update to its creds object; the fake does the same.
      Object.assign(this.auth.creds, { me, registered: true });
      this.events.emit('creds.update', { me, registered: true });
    }
    this.isOpen = true;
    this.emitUpdate({ connection: 'open' });
  }

  /** @param {number} code @param {string} [message] */
  close(code, message) {
    this.isOpen = false;
    const error = Object.assign(new Error(message ?? `fake close ${code}`), { output: { statusCode: code } });
    this.emitUpdate({ connection: 'close', lastDisconnect: { error, date: new Date() } });
  }

  /** @param {FakeAction} action */
  deliver(action) {
    const { message, media } = buildWAMessage(action);
    if (media) this.mediaById.set(/** @type {string} */ (message.key.id), media);
    this.events.emit('messages.upsert', { type: action.upsert_type ?? 'notify', messages: [message] });
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

  /** @param {string} phone */
  async requestPairingCode(phone) {
    this.service.record({ op: 'pairing_code_requested', phone });
    return this.nextPairingCode;
  }

  /**
   * @param {string} chat
   * @param {string} text
   * @param {{messageId: string, quoted?: import('baileys').WAMessage}} options
   */
  async sendText(chat, text, { messageId, quoted }) {
    if (!this.isOpen) throw new Error('Connection Closed');
    this.service.record({ op: 'sent', id: messageId, chat, text, quote_id: quoted?.key?.id ?? null });
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

  /** @param {string} chat @param {'composing' | 'paused'} state */
  async sendPresence(chat, state) {
    this.service.record({ op: 'presence', chat, state });
  }

  /** @param {import('baileys').WAMessageKey[]} keys */
  async markRead(keys) {
    this.service.record({ op: 'read', keys: keys.map((k) => ({ chat: k.remoteJid, id: k.id, participant: k.participant ?? null })) });
  }

  async logout() {
    this.service.record({ op: 'logout' });
    // Baileys ends the connection as logged out once the unlink went through.
    setImmediate(() => this.close(401, 'Intentional Logout'));
  }

  async end() {
    if (this.ended) return;
    this.ended = true;
    this.isOpen = false;
    clearTimeout(this.startTimer);
    this.events.removeAllListeners();
    this.service.liveSockets -= 1;
    this.service.record({ op: 'end' });
  }

  /** @param {import('baileys').WAMessage} message */
  async downloadMedia(message) {
    const bytes = this.mediaById.get(/** @type {string} */ (message.key.id));
    if (!bytes) throw new Error('fake socket has no media for this message');
    return bytes;
  }

  newMessageId() {
    return `3EB0${crypto.randomBytes(9).toString('hex').toUpperCase()}`;
  }
}

/**
 * Build a WAMessage the way Baileys hands one to messages.upsert (protobuf content,
 * Baileys 7 key with PN alternatives for @lid senders), from a `message` control action.
 * @param {FakeAction} action
 * @returns {{message: import('baileys').WAMessage, media: Buffer | undefined}}
 */
export function buildWAMessage(action) {
  const chat = String(action.chat);
  const isGroup = chat.endsWith('@g.us');
  /** @type {import('baileys').WAMessageKey} */
  const key = { remoteJid: chat, fromMe: Boolean(action.from_me), id: String(action.id) };
  if (isGroup && action.sender) key.participant = action.sender;
  if (action.sender_pn) {
    const pnJid = `${action.sender_pn}@s.whatsapp.net`;
    if (isGroup) key.participantAlt = pnJid;
    else key.remoteJidAlt = pnJid;
  }
  const media = mediaBytes(action);
  const content = wrap(contentFor(action, media), action.wrap, key);
  /** @type {import('baileys').WAMessage} */
  const message = {
    key,
    message: proto.Message.fromObject(content),
    messageTimestamp: action.timestamp ?? Math.floor(Date.now() / 1000),
  };
  if (action.push_name) message.pushName = action.push_name;
  return { message, media };
}

/** @param {FakeAction} action */
function mediaBytes(action) {
  const base64 = action.audio_base64 ?? action.image_base64 ?? action.media_base64;
  if (typeof base64 === 'string') return Buffer.from(base64, 'base64');
  if (typeof action.media_size === 'number') return Buffer.alloc(action.media_size, 7);
  return undefined;
}

/**
 * @param {FakeAction} action
 * @param {Buffer | undefined} media
 * @returns {Record<string, any>}
 */
function contentFor(action, media) {
  const file = () => ({
    url: 'https://mmg.whatsapp.net/fake',
    directPath: '/fake',
    mediaKey: crypto.randomBytes(32),
    fileLength: media?.length ?? 0,
  });
  const text = action.text;
  switch (action.kind ?? 'text') {
    case 'text': return action.quoted_id
      ? { extendedTextMessage: { text, contextInfo: { stanzaId: action.quoted_id } } }
      : { conversation: text };
    case 'audio': return { audioMessage: { ...file(), mimetype: action.mime ?? 'audio/ogg; codecs=opus', seconds: action.seconds ?? 1, ptt: true } };
    case 'image': return { imageMessage: { ...file(), mimetype: action.mime ?? 'image/jpeg', caption: text } };
    case 'video': return { videoMessage: { ...file(), mimetype: action.mime ?? 'video/mp4', caption: text } };
    case 'document': return { documentMessage: { ...file(), mimetype: action.mime ?? 'application/pdf', caption: text, fileName: action.file_name ?? 'file.pdf' } };
    case 'sticker': return { stickerMessage: { ...file(), mimetype: 'image/webp' } };
    case 'location': return { locationMessage: { degreesLatitude: action.latitude ?? -33.45, degreesLongitude: action.longitude ?? -70.66 } };
    case 'contact': return { contactMessage: { displayName: action.text ?? 'Contact', vcard: 'BEGIN:VCARD\nEND:VCARD' } };
    case 'reaction': return { reactionMessage: { text: action.text ?? '👍', key: { id: action.quoted_id ?? 'x' } } };
    case 'revoke': return { protocolMessage: { type: proto.Message.ProtocolMessage.Type.REVOKE, key: { id: action.quoted_id ?? 'x' } } };
    default: return { conversation: text };
  }
}

/**
 * @param {Record<string, any>} content
 * @param {string | undefined} wrapper
 * @param {import('baileys').WAMessageKey} key
 */
function wrap(content, wrapper, key) {
  switch (wrapper) {
    case undefined: return content;
    case 'ephemeral': return { ephemeralMessage: { message: content } };
    case 'view_once': return { viewOnceMessage: { message: content } };
    case 'view_once_v2': return { viewOnceMessageV2: { message: content } };
    case 'view_once_v2_extension': return { viewOnceMessageV2Extension: { message: content } };
    case 'document_with_caption': return { documentWithCaptionMessage: { message: content } };
    case 'edited': return {
      editedMessage: { message: { protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { ...key }, editedMessage: content,
      } } },
    };
    default: throw new Error(`unknown wrapper ${wrapper}`);
  }
}
