// @ts-check
/**
 * The one module that opens Baileys sockets. Everything that talks to WhatsApp goes
 * through the small WhatsAppSocket surface below, which fake_socket.mjs also offers.
 */
import { EventEmitter } from 'node:events';
import makeWASocket, {
  Browsers,
  downloadMediaMessage,
  fetchLatestWaWebVersion,
  generateMessageIDV2,
  isJidBroadcast,
  isJidNewsletter,
  proto,
} from 'baileys';

/** Every QR lives this long, the first one included, so `expires_at` is always right. */
export const QR_LIFETIME_MS = 20_000;

/**
 * Chats whose messages Baileys should not even decrypt: status updates, broadcast-list
 * copies and newsletters never reach the relay (Baileys' `shouldIgnoreJid`, checked in
 * Socket/messages-recv.js processNode before a stanza is decrypted).
 * @param {string} jid
 */
export function isIgnoredJid(jid) {
  return Boolean(isJidBroadcast(jid) || isJidNewsletter(jid));
}

/**
 * @typedef {import('baileys').WAMessage} WAMessage
 * @typedef {import('baileys').WAMessageKey} WAMessageKey
 * @typedef {import('./message_normaliser.mjs').OwnAccount} OwnAccount
 *
 * @typedef {'available' | 'unavailable' | 'composing' | 'paused'} PresenceState
 *
 * @typedef {object} SendOptions
 * @property {string} messageId
 * @property {WAMessage} [quoted]
 * @property {number} [ephemeralExpiration] seconds, for a 1:1 chat with disappearing messages
 *
 * @typedef {object} WhatsAppSocket
 * @property {EventEmitter} events emits Baileys' `connection.update`, `creds.update`,
 *   `messages.upsert`, `messages.update` and `call`
 * @property {() => OwnAccount | undefined} account this account once known
 * @property {(phone: string) => Promise<string>} requestPairingCode
 * @property {(chat: string, text: string, options: SendOptions) => Promise<Uint8Array | undefined>} sendText
 *   sends; resolves with the encoded content, kept for retries
 * @property {(chat: string, key: WAMessageKey) => Promise<string | undefined>} deleteForEveryone
 * @property {(chat: string | undefined, state: PresenceState) => Promise<void>} sendPresence
 *   `available`/`unavailable` are account-wide (no chat), the others per chat
 * @property {(keys: WAMessageKey[]) => Promise<void>} markRead
 * @property {(callId: string, caller: string) => Promise<void>} rejectCall
 * @property {(lid: string) => Promise<string | undefined>} phoneJidForLid the PN JID of a LID, if known
 * @property {(message: WAMessage) => Promise<WAMessage>} requestMediaReupload ask the sender's phone to upload expired media again
 * @property {() => Promise<void>} logout unlink this device
 * @property {() => Promise<void>} end close the connection; emits nothing more
 * @property {() => string} newMessageId
 *
 * @typedef {object} SocketOptions
 * @property {import('baileys').AuthenticationState} auth
 * @property {import('baileys').WAVersion | undefined} version WhatsApp Web version, or Baileys' default
 * @property {(id: string) => Uint8Array | undefined} getMessage encoded content of a sent message
 * @property {import('pino').Logger} logger
 * @property {number} qrTimeoutMs how long each QR ref lives (Baileys' `qrTimeout`)
 * @property {(jid: string) => boolean} shouldIgnoreJid chats Baileys drops before decrypting
 *
 * @typedef {object} MediaStreamOptions
 * @property {import('pino').Logger} logger
 * @property {((message: WAMessage) => Promise<WAMessage>) | undefined} requestReupload
 *   only with a live socket; without one an expired media URL is a failed download
 *
 * @typedef {object} SocketFactory
 * @property {(options: SocketOptions) => WhatsAppSocket} create
 * @property {() => Promise<import('baileys').WAVersion | undefined>} fetchLatestVersion
 * @property {(message: WAMessage, options: MediaStreamOptions) => Promise<import('node:stream').Readable>} openMediaStream
 *   the decrypted media of a message, as a stream; needs no socket (media sits on WhatsApp's CDN)
 */

const FORWARDED_EVENTS = /** @type {const} */ ([
  'connection.update', 'creds.update', 'messages.upsert', 'messages.update', 'call',
]);

/** Opens real Baileys sockets. */
export class BaileysSocketFactory {
  /**
   * @param {SocketOptions} options
   * @returns {WhatsAppSocket}
   */
  create({ auth, version, getMessage, logger, qrTimeoutMs, shouldIgnoreJid }) {
    const sock = makeWASocket({
      auth,
      ...(version ? { version } : {}),
      logger: /** @type {any} */ (logger),
      browser: Browsers.ubuntu('Chrome'),
      markOnlineOnConnect: false,
      // Only live traffic goes to the relay. The initial history sync stays on: Baileys 7
      // learns its LID mappings from it, and warns that turning it off destabilises sessions.
      syncFullHistory: false,
      qrTimeout: qrTimeoutMs,
      shouldIgnoreJid,
      getMessage: async (key) => {
        const bytes = key.id ? getMessage(key.id) : undefined;
        return bytes ? proto.Message.decode(bytes) : undefined;
      },
    });
    return new BaileysSocket(sock, logger);
  }

  /** @returns {Promise<import('baileys').WAVersion | undefined>} the current WhatsApp Web version */
  async fetchLatestVersion() {
    const { version, error } = await fetchLatestWaWebVersion();
    return error ? undefined : version;
  }

  /**
   * Baileys' downloadMediaMessage (Utils/messages.js) in 'stream' mode: it only needs the
   * socket to ask for a re-upload when the CDN answers 404/410.
   * @param {WAMessage} message
   * @param {MediaStreamOptions} options
   */
  async openMediaStream(message, { logger, requestReupload }) {
    const reuploadRequest = requestReupload ?? (async () => { throw new Error('media expired and WhatsApp is not connected'); });
    return /** @type {import('node:stream').Readable} */ (await downloadMediaMessage(message, 'stream', {}, {
      logger: /** @type {any} */ (logger),
      reuploadRequest,
    }));
  }
}

/** A Baileys socket behind the WhatsAppSocket surface. */
class BaileysSocket {
  /**
   * @param {ReturnType<typeof makeWASocket>} sock
   * @param {import('pino').Logger} logger
   */
  constructor(sock, logger) {
    this.sock = sock;
    this.logger = logger;
    this.events = new EventEmitter();
    for (const name of FORWARDED_EVENTS) {
      sock.ev.on(name, (/** @type {any} */ payload) => this.events.emit(name, payload));
    }
  }

  account() {
    const user = this.sock.user;
    if (!user) return undefined;
    return { jid: user.id, lid: user.lid, name: user.name || user.notify || user.verifiedName || undefined };
  }

  /** @param {string} phone */
  requestPairingCode(phone) {
    return this.sock.requestPairingCode(phone);
  }

  /**
   * @param {string} chat
   * @param {string} text
   * @param {SendOptions} options
   */
  async sendText(chat, text, { messageId, quoted, ephemeralExpiration }) {
    // Baileys applies a chat's disappearing timer by itself only in groups
    // (Socket/messages-send.js relayMessage); a 1:1 chat needs it on every send.
    const options = { messageId, quoted, ...(ephemeralExpiration ? { ephemeralExpiration } : {}) };
    const sent = await this.sock.sendMessage(chat, { text }, options);
    return sent?.message ? proto.Message.encode(sent.message).finish() : undefined;
  }

  /** @param {string} chat @param {WAMessageKey} key */
  async deleteForEveryone(chat, key) {
    const sent = await this.sock.sendMessage(chat, { delete: key });
    return sent?.key?.id ?? undefined;
  }

  /** @param {string | undefined} chat @param {PresenceState} state */
  sendPresence(chat, state) {
    return this.sock.sendPresenceUpdate(state, chat);
  }

  /** @param {WAMessageKey[]} keys */
  markRead(keys) {
    return this.sock.readMessages(keys);
  }

  /** @param {string} callId @param {string} caller */
  rejectCall(callId, caller) {
    return this.sock.rejectCall(callId, caller);
  }

  /**
   * Baileys 7's LID store (Signal/lid-mapping.js getPNForLID): local only, no network.
   * @param {string} lid
   */
  async phoneJidForLid(lid) {
    return (await this.sock.signalRepository.lidMapping.getPNForLID(lid)) ?? undefined;
  }

  /** @param {WAMessage} message */
  requestMediaReupload(message) {
    return this.sock.updateMediaMessage(message);
  }

  logout() {
    return this.sock.logout();
  }

  async end() {
    this.events.removeAllListeners();
    await this.sock.end(undefined);
  }

  newMessageId() {
    return generateMessageIDV2(this.sock.user?.id);
  }
}
