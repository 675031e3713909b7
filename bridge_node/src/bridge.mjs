// @ts-check
/**
 * The bridge proper: carries WhatsApp events to the relay as docs/PROTOCOL.md frames and
 * relay commands to WhatsApp, with at-least-once delivery and idempotent sends.
 */
import { EventEmitter } from 'node:events';
import { isForwarded, normaliseMessage } from './message_normaliser.mjs';
import { pairingCodeFrame, qrFrame, resultFrame } from './protocol.mjs';
import { CLOSE_TENANT_GONE } from './relay_link.mjs';
import { CommandRefused } from './whatsapp_session.mjs';

/**
 * @typedef {import('./protocol.mjs').RelayCommand} RelayCommand
 * @typedef {import('./send_ledger.mjs').SendOutcome} SendOutcome
 *
 * @typedef {object} BridgeDeps
 * @property {import('./relay_link.mjs').RelayLink} relay
 * @property {import('./whatsapp_session.mjs').WhatsAppSession} session
 * @property {import('./message_outbox.mjs').MessageOutbox} outbox
 * @property {import('./send_ledger.mjs').SendLedger} ledger
 * @property {import('./sent_messages.mjs').SentMessages} sentMessages
 * @property {import('./send_queue.mjs').SendQueue} sendQueue
 * @property {import('pino').Logger} logger
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
    this.logger = deps.logger;
    /** @type {Map<string, Promise<SendOutcome>>} sends under way, by ref */
    this.inflight = new Map();
    /** @type {Promise<void>} inbound messages are normalised one after another, in order */
    this.inbound = Promise.resolve();
  }

  /** Wire the two sides together; the caller starts them. */
  attach() {
    this.relay.on('ready', () => this.onRelayReady());
    this.relay.on('command', (command) => void this.handleCommand(command));
    this.relay.on('closed-for-good', ({ code }) => this.emit('exit', {
      reason: code === CLOSE_TENANT_GONE ? 'tenant_gone' : 'bad_credentials',
    }));
    this.session.on('status', (status) => this.relay.send(status));
    this.session.on('qr', ({ qr, expiresAt }) => this.relay.send(qrFrame(qr, expiresAt)));
    this.session.on('pairing_code', ({ code, phone }) => this.relay.send(pairingCodeFrame(code, phone)));
    this.session.on('upsert', (upsert) => this.onUpsert(upsert));
    this.session.on('stopped', ({ reason }) => this.emit('exit', { reason }));
  }

  /** Wait for the messages already received to be stored. */
  async flushInbound() {
    await this.inbound;
  }

  onRelayReady() {
    this.relay.send(this.session.status);
    // A QR shown while the relay was away would otherwise wait up to 20 s for the next one.
    const qr = this.session.currentQr();
    if (qr) this.relay.send(qrFrame(qr.qr, qr.expiresAt));
    for (const frame of this.outbox.pending()) this.relay.send(frame);
  }

  /** @param {{type: string, messages: import('baileys').WAMessage[]}} upsert */
  onUpsert({ type, messages }) {
    for (const message of messages) {
      if (!isForwarded(type, message)) continue;
      this.inbound = this.inbound.then(() => this.forwardMessage(message)).catch((error) => {
        this.logger.error({ messageId: message.key?.id, err: String(error) }, 'could not forward a WhatsApp message');
      });
    }
  }

  /** @param {import('baileys').WAMessage} message */
  async forwardMessage(message) {
    const frame = await normaliseMessage(message, {
      me: this.session.account(),
      isSentByBridge: (id) => this.sentMessages.has(id),
      downloadMedia: (m) => this.session.downloadMedia(m),
      logger: this.logger,
    });
    if (!frame) return;
    // Stored before sending: the frame survives a crash until the relay acks it.
    if (this.outbox.add(frame)) this.relay.send(frame);
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
        case 'typing': return await this.session.setTyping(command.chat, command.state);
        case 'read': return await this.session.markRead(command.chat, command.ids);
        case 'delete': return this.answer(command.ref, await this.remove(command));
        case 'pair': return this.answer(command.ref, await this.pair(command));
        case 'logout': return this.answer(command.ref, await this.logout());
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
    const messageId = this.session.newMessageId();
    this.ledger.begin(ref, messageId);
    try {
      await this.session.sendText(chat, text, { messageId, quoteId });
    } catch (error) {
      this.ledger.abandon(ref);
      throw error;
    }
    /** @type {SendOutcome} */
    const outcome = { ok: true, message_id: messageId };
    this.ledger.complete(ref, outcome);
    return outcome;
  }

  /**
   * @param {import('./protocol.mjs').DeleteCommand} command
   * @returns {Promise<SendOutcome>}
   */
  async remove({ chat, id }) {
    const revokeId = await this.sendQueue.enqueue(chat, () => this.session.deleteMessage(chat, id));
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
