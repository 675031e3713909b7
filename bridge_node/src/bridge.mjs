// @ts-check
/**
 * The bridge proper: carries WhatsApp events to the relay as docs/PROTOCOL.md frames and
 * relay commands to WhatsApp, with at-least-once delivery and idempotent sends.
 */
import { EventEmitter } from 'node:events';
import { isJidGroup, isLidUser, jidNormalizedUser, proto } from 'baileys';
import { CallResponder } from './call_responder.mjs';
import { chatExpiration, chatIdOf, isForwarded, normaliseMessage } from './message_normaliser.mjs';
import { fitFrame, pairingCodeFrame, qrFrame, resultFrame, sendFailedFrame } from './protocol.mjs';
import { CLOSE_TENANT_GONE } from './relay_link.mjs';
import { TypingPresence } from './typing_presence.mjs';
import { CommandRefused } from './whatsapp_session.mjs';

/**
 * @typedef {import('./protocol.mjs').RelayCommand} RelayCommand
 * @typedef {import('./send_ledger.mjs').SendOutcome} SendOutcome
 * @typedef {import('baileys').WAMessage} WAMessage
 *
 * @typedef {object} BridgeDeps
 * @property {import('./relay_link.mjs').RelayLink} relay
 * @property {import('./whatsapp_session.mjs').WhatsAppSession} session
 * @property {import('./message_outbox.mjs').MessageOutbox} outbox
 * @property {import('./send_ledger.mjs').SendLedger} ledger
 * @property {import('./sent_messages.mjs').SentMessages} sentMessages
 * @property {import('./send_queue.mjs').SendQueue} sendQueue
 * @property {import('./chat_book.mjs').ChatBook} chatBook
 * @property {import('./bridge_settings.mjs').BridgeSettingsStore} settings
 * @property {import('pino').Logger} logger
 * @property {number} [typingRefreshMs] how often `composing` is repeated (10 s)
 * @property {number} [maxTypingMs] typing without a reply or `paused` ends after this long (2 min)
 * @property {number} [mediaTimeoutMs] give up a media download after this long (60 s)
 * @property {number} [callMessageIntervalMs] tell one caller at most this often (1 h)
 */

/**
 * Joins the relay link and the WhatsApp session.
 * Event: `exit` ({reason}) when the bridge should end: `shutdown`, `tenant_gone`,
 * `bad_credentials` or `qr_timeout`.
 */
export class Bridge extends EventEmitter {
  /** @param {BridgeDeps} deps */
  constructor(deps) {
    super();
    this.relay = deps.relay;
    this.session = deps.session;
    this.outbox = deps.outbox;
    this.ledger = deps.ledger;
    this.sentMessages = deps.sentMessages;
    this.sendQueue = deps.sendQueue;
    this.chatBook = deps.chatBook;
    this.settings = deps.settings;
    this.logger = deps.logger;
    this.mediaTimeoutMs = deps.mediaTimeoutMs;
    this.presence = new TypingPresence({
      session: this.session, logger: this.logger, refreshMs: deps.typingRefreshMs, maxTypingMs: deps.maxTypingMs,
    });
    this.calls = new CallResponder({
      session: this.session,
      settings: this.settings,
      sendQueue: this.sendQueue,
      addressOf: (chat) => this.chatBook.addressOf(chat),
      logger: this.logger,
      intervalMs: deps.callMessageIntervalMs,
    });
    /** @type {Map<string, Promise<SendOutcome>>} sends under way, by ref */
    this.inflight = new Map();
    /** @type {Promise<void>} inbound messages are normalised one after another, in order */
    this.inbound = Promise.resolve();
  }

  /** Wire the two sides together; the caller starts them. */
  attach() {
    this.relay.on('ready', ({ config } = {}) => this.onRelayReady(config));
    this.relay.on('command', (command) => void this.handleCommand(command));
    this.relay.on('closed-for-good', ({ code }) => this.emit('exit', {
      reason: code === CLOSE_TENANT_GONE ? 'tenant_gone' : 'bad_credentials',
    }));
    this.session.on('status', (status) => {
      if (status.state !== 'connected') this.presence.clear();
      this.relay.send(status);
    });
    this.session.on('qr', ({ qr, expiresAt }) => this.relay.send(qrFrame(qr, expiresAt)));
    this.session.on('pairing_code', ({ code, phone, expiresAt }) => this.relay.send(pairingCodeFrame(code, phone, expiresAt)));
    this.session.on('upsert', (upsert) => this.onUpsert(upsert));
    this.session.on('update', (updates) => this.onMessagesUpdate(updates));
    this.session.on('call', (calls) => void this.calls.onCalls(calls));
    this.session.on('stopped', ({ reason }) => this.emit('exit', { reason }));
  }

  /** Wait for the messages already received to be stored. */
  async flushInbound() {
    await this.inbound;
  }

  /** Stop the timers of typing indicators. */
  stop() {
    this.presence.clear();
  }

  /** @param {import('./protocol.mjs').SettingsUpdate | undefined} config */
  onRelayReady(config) {
    if (config) this.settings.apply(config);
    this.relay.send(this.session.status);
    // A QR shown while the relay was away would otherwise wait up to 20 s for the next one.
    const qr = this.session.currentQr();
    if (qr) this.relay.send(qrFrame(qr.qr, qr.expiresAt));
    for (const frame of this.outbox.pending()) this.deliver(frame);
  }

  /**
   * Send a stored event frame, made to fit the frame limit; one that can never fit is
   * dropped, or it would block every frame behind it after each reconnect.
   * @param {import('./protocol.mjs').EventFrame} frame
   */
  deliver(frame) {
    const fitted = fitFrame(frame);
    if (!fitted) {
      this.logger.error({ id: frame.id }, 'dropping an event frame that cannot fit the frame limit');
      this.outbox.ack(frame.id);
      return;
    }
    this.relay.send(fitted);
  }

  /** @param {{type: string, messages: WAMessage[]}} upsert */
  onUpsert({ type, messages }) {
    for (const message of messages) {
      if (!isForwarded(type, message)) continue;
      this.inbound = this.inbound.then(() => this.forwardMessage(message, type)).catch((error) => {
        this.logger.error({ messageId: message.key?.id, err: String(error) }, 'could not forward a WhatsApp message');
      });
    }
  }

  /** @param {WAMessage} message @param {string} upsertType */
  async forwardMessage(message, upsertType) {
    const context = {
      me: this.session.account(),
      isSentByBridge: (/** @type {string} */ id) => this.sentMessages.has(id),
      phoneJidForLid: (/** @type {string} */ lid) => this.session.phoneJidForLid(lid),
      chatForLid: (/** @type {string} */ lid) => this.chatBook.chatForLid(lid),
      openMediaStream: (/** @type {WAMessage} */ m) => this.session.openMediaStream(m),
      logger: this.logger,
      upsertType,
      groupMedia: this.settings.current.groups,
      mediaTimeoutMs: this.mediaTimeoutMs,
    };
    await this.noteChat(message, context);
    const frame = await normaliseMessage(message, context);
    if (!frame) return;
    const fitted = fitFrame(frame);
    if (!fitted) return void this.logger.error({ messageId: frame.id }, 'message frame cannot fit the frame limit');
    // Stored before sending: the frame survives a crash until the relay acks it.
    if (this.outbox.add(fitted)) this.relay.send(fitted);
  }

  /**
   * Remember where a 1:1 chat was seen and its disappearing timer (the bridge's own sends
   * teach nothing: they went where the bridge chose).
   * @param {WAMessage} message
   * @param {import('./message_normaliser.mjs').NormaliseContext} context
   */
  async noteChat(message, context) {
    const remoteJid = message.key?.remoteJid;
    if (!remoteJid || isJidGroup(remoteJid) || !message.key.id) return;
    if (message.key.fromMe && context.isSentByBridge(message.key.id)) return;
    const chat = await chatIdOf(message, context);
    if (!chat) return;
    const address = jidNormalizedUser(remoteJid);
    if (isLidUser(address) && chat !== address) this.chatBook.learnLid(address, chat);
    if (message.message && !message.message.protocolMessage && !message.message.reactionMessage) {
      this.chatBook.seenAt(chat, address);
    }
    const expiration = chatExpiration(message);
    if (expiration !== undefined) this.chatBook.setExpiration(chat, expiration);
  }

  /**
   * A sent message the server refused after all: `sendMessage` had resolved, the refusal
   * comes later as messages.update with status ERROR (Socket/messages-recv.js handleBadAck).
   * @param {{key: import('baileys').WAMessageKey, update: Record<string, any>}[]} updates
   */
  onMessagesUpdate(updates) {
    for (const { key, update } of updates) {
      if (!key?.fromMe || !key.id || update?.status !== proto.WebMessageInfo.Status.ERROR) continue;
      const sent = this.ledger.findByMessageId(key.id);
      if (!sent) continue;
      const error = (update.messageStubParameters ?? []).filter(Boolean).join(': ') || 'rejected';
      this.logger.warn({ ref: sent.ref, messageId: key.id, error }, 'WhatsApp rejected a sent message');
      this.ledger.complete(sent.ref, { ok: false, error: `rejected: ${error}` });
      const frame = sendFailedFrame({ ref: sent.ref, messageId: key.id, chat: sent.chat ?? key.remoteJid ?? '', error });
      if (this.outbox.add(frame)) this.relay.send(frame);
    }
  }

  /**
   * Carry out one relay command; every command with a ref gets exactly one result.
   * @param {RelayCommand} command
   */
  async handleCommand(command) {
    try {
      switch (command.type) {
        case 'ack': return this.outbox.ack(command.id);
        case 'send': return this.answer(command.ref, await this.send(command));
        case 'typing': return await this.typing(command);
        case 'read': return await this.session.markRead(await this.addressOf(command.chat), command.ids);
        case 'delete': return this.answer(command.ref, await this.remove(command));
        case 'pair': return this.answer(command.ref, await this.pair(command));
        case 'logout': return this.answer(command.ref, await this.logout());
        case 'config': return this.settings.apply(command.config);
        case 'shutdown': return void this.emit('exit', { reason: 'shutdown' });
        case 'invalid':
          this.logger.warn({ frameType: command.frameType, problem: command.problem }, 'invalid relay command');
          if (command.ref) this.answer(command.ref, { ok: false, error: `invalid_frame: ${command.problem}` });
          return undefined;
        case 'unknown':
          return void this.logger.warn({ frameType: command.frameType }, 'ignoring a relay frame of unknown type');
        default:
          return undefined;
      }
    } catch (error) {
      this.logger.warn({ type: command.type, err: String(error) }, 'relay command failed');
      if ('ref' in command && command.ref) this.answer(command.ref, failure(error));
      return undefined;
    }
  }

  /** @param {string} ref @param {SendOutcome} outcome */
  answer(ref, outcome) {
    this.relay.send(resultFrame(ref, outcome));
  }

  /**
   * The canonical id of a chat the relay names (it may still use a LID form it saw before).
   * @param {string} chat
   */
  async canonical(chat) {
    if (!isLidUser(chat)) return chat;
    const own = this.session.account();
    if (own?.lid && own.jid && jidNormalizedUser(own.lid) === jidNormalizedUser(chat)) return jidNormalizedUser(own.jid);
    const remembered = this.chatBook.chatForLid(jidNormalizedUser(chat));
    if (remembered) return remembered;
    const phone = await this.session.phoneJidForLid(chat).catch(() => undefined);
    return phone && phone !== jidNormalizedUser(own?.jid ?? '') ? jidNormalizedUser(phone) : chat;
  }

  /**
   * Where to write to reach a chat: the form it last showed under on the owner's phone.
   * @param {string} chat
   */
  async addressOf(chat) {
    return this.chatBook.addressOf(await this.canonical(chat));
  }

  /** @param {import('./protocol.mjs').TypingCommand} command */
  async typing({ chat, state }) {
    const address = await this.addressOf(chat);
    if (state === 'composing') await this.presence.composing(address);
    else await this.presence.paused(address);
  }

  /**
   * Send once per ref: a known ref is answered from the ledger and sends nothing.
   * @param {import('./protocol.mjs').SendCommand} command
   * @returns {Promise<SendOutcome>}
   */
  send(command) {
    const running = this.inflight.get(command.ref);
    if (running) return running;
    const entry = this.ledger.find(command.ref);
    if (entry?.state === 'done') return Promise.resolve(entry.outcome);
    // Started before a crash: it may have gone out, and sending again could double it.
    if (entry?.state === 'unfinished') return Promise.resolve({ ok: false, error: 'outcome_unknown' });
    const outcome = this.sendQueue.enqueue(command.chat, () => this.sendNow(command))
      .catch((error) => failure(error))
      .finally(() => this.inflight.delete(command.ref));
    this.inflight.set(command.ref, outcome);
    return outcome;
  }

  /**
   * @param {import('./protocol.mjs').SendCommand} command
   * @returns {Promise<SendOutcome>}
   */
  async sendNow({ ref, chat, text, quoteId }) {
    const canonical = await this.canonical(chat);
    const address = this.chatBook.addressOf(canonical);
    // Baileys applies a disappearing timer by itself only in groups; a 1:1 chat's comes from
    // what its messages showed, or every reply is flagged on the phone.
    const ephemeralExpiration = isJidGroup(chat) ? undefined : this.chatBook.expirationOf(canonical);
    const messageId = this.session.newMessageId();
    this.ledger.begin(ref, messageId, chat);
    try {
      await this.session.sendText(address, text, { messageId, quoteId, ephemeralExpiration });
    } catch (error) {
      this.ledger.abandon(ref);
      throw error;
    }
    /** @type {SendOutcome} */
    const outcome = { ok: true, message_id: messageId };
    this.ledger.complete(ref, outcome);
    await this.presence.afterSend(address);
    return outcome;
  }

  /**
   * @param {import('./protocol.mjs').DeleteCommand} command
   * @returns {Promise<SendOutcome>}
   */
  async remove({ chat, id }) {
    const address = await this.addressOf(chat);
    const revokeId = await this.sendQueue.enqueue(chat, () => this.session.deleteMessage(address, id));
    return revokeId ? { ok: true, message_id: revokeId } : { ok: true };
  }

  /**
   * @param {import('./protocol.mjs').PairCommand} command
   * @returns {Promise<SendOutcome>}
   */
  async pair({ phone }) {
    await this.session.requestPairingCode(phone);
    return { ok: true };
  }

  /** @returns {Promise<SendOutcome>} */
  async logout() {
    await this.session.logout();
    return { ok: true };
  }
}

/** @param {unknown} error @returns {SendOutcome} */
function failure(error) {
  if (error instanceof CommandRefused) return { ok: false, error: error.code };
  return { ok: false, error: error instanceof Error ? error.message : String(error) };
}
