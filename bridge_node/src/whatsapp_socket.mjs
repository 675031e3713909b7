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
  proto,
} from 'baileys';

/** Every QR lives this long, the first one included, so `expires_at` is always right. */
export const QR_LIFETIME_MS = 20_000;

/**
 * @typedef {import('baileys').WAMessage} WAMessage
 * @typedef {import('baileys').WAMessageKey} WAMessageKey
 * @typedef {import('./message_normaliser.mjs').OwnAccount} OwnAccount
 *
 * @typedef {object} WhatsAppSocket
 * @property {EventEmitter} events emits Baileys' `connection.update`, `creds.update`, `messages.upsert`
 * @property {() => OwnAccount | undefined} account this account once known
 * @property {(phone: string) => Promise<string>} requestPairingCode
 * @property {(chat: string, text: string, options: {messageId: string, quoted?: WAMessage}) => Promise<Uint8Array | undefined>} sendText
 *   sends; resolves with the encoded content, kept for retries
 * @property {(chat: string, key: WAMessageKey) => Promise<string | undefined>} deleteForEveryone
 * @property {(chat: string, state: 'composing' | 'paused') => Promise<void>} sendPresence
 * @property {(keys: WAMessageKey[]) => Promise<void>} markRead
 * @property {() => Promise<void>} logout unlink this device
 * @property {() => Promise<void>} end close the connection; emits nothing more
 * @property {(message: WAMessage) => Promise<Buffer>} downloadMedia
 * @property {() => string} newMessageId
 *
 * @typedef {object} SocketOptions
 * @property {import('baileys').AuthenticationState} auth
 * @property {import('baileys').WAVersion | undefined} version WhatsApp Web version, or Baileys' default
 * @property {(id: string) => Uint8Array | undefined} getMessage encoded content of a sent message
 * @property {import('pino').Logger} logger
 *
 * @typedef {object} SocketFactory
 * @property {(options: SocketOptions) => WhatsAppSocket} create
 * @property {() => Promise<import('baileys').WAVersion | undefined>} fetchLatestVersion
 */

const FORWARDED_EVENTS = /** @type {const} */ (['connection.update', 'creds.update', 'messages.upsert']);

/** Opens real Baileys sockets. */
export class BaileysSocketFactory {
  /**
   * @param {SocketOptions} options
   * @returns {WhatsAppSocket}
   */
  create({ auth, version, getMessage, logger }) {
    const sock = makeWASocket({
      auth,
      ...(version ? { version } : {}),
      logger: /** @type {any} */ (logger),
      browser: Browsers.ubuntu('Chrome'),
      markOnlineOnConnect: false,
      // Only live traffic goes to the relay. The initial history sync stays on: Baileys 7
      // learns its LID mappings from it, and warns that turning it off destabilises sessions.
      syncFullHistory: false,
      qrTimeout: QR_LIFETIME_MS,
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
   * @param {{messageId: string, quoted?: WAMessage}} options
   */
  async sendText(chat, text, { messageId, quoted }) {
    const sent = await this.sock.sendMessage(chat, { text }, { messageId, quoted });
    return sent?.message ? proto.Message.encode(sent.message).finish() : undefined;
  }

  /** @param {string} chat @param {WAMessageKey} key */
  async deleteForEveryone(chat, key) {
    const sent = await this.sock.sendMessage(chat, { delete: key });
    return sent?.key?.id ?? undefined;
  }

  /** @param {string} chat @param {'composing' | 'paused'} state */
  sendPresence(chat, state) {
    return this.sock.sendPresenceUpdate(state, chat);
  }

  /** @param {WAMessageKey[]} keys */
  markRead(keys) {
    return this.sock.readMessages(keys);
  }

  logout() {
    return this.sock.logout();
  }

  async end() {
    this.events.removeAllListeners();
    await this.sock.end(undefined);
  }

  /** @param {WAMessage} message */
  downloadMedia(message) {
    return downloadMediaMessage(message, 'buffer', {}, {
      logger: /** @type {any} */ (this.logger),
      reuploadRequest: this.sock.updateMediaMessage,
    });
  }

  newMessageId() {
    return generateMessageIDV2(this.sock.user?.id);
  }
}
