// @ts-check
/**
 * Incoming calls, when the tenant wants them refused: the call is rejected at once and the
 * caller is told, at most once an hour, to write instead. Baileys reports calls as `call`
 * events (Socket/messages-recv.js handleCall; `offer` is a new call) and rejects one with
 * `rejectCall(callId, callFrom)`.
 */
import { jidNormalizedUser } from 'baileys';

/**
 * @typedef {{id: string, from: string, chatId?: string, callerPn?: string, status: string, offline?: boolean, isGroup?: boolean}} Call
 */

/** Rejects calls and answers callers, by the relay's settings. */
export class CallResponder {
  /**
   * @param {object} deps
   * @param {import('./whatsapp_session.mjs').WhatsAppSession} deps.session
   * @param {import('./bridge_settings.mjs').BridgeSettingsStore} deps.settings
   * @param {import('./send_queue.mjs').SendQueue} deps.sendQueue
   * @param {(chat: string) => string} deps.addressOf where a chat is written to
   * @param {import('pino').Logger} deps.logger
   * @param {number} [deps.intervalMs] tell one caller at most this often (1 h)
   * @param {() => number} [deps.now]
   */
  constructor({ session, settings, sendQueue, addressOf, logger, intervalMs = 3600_000, now = Date.now }) {
    this.session = session;
    this.settings = settings;
    this.sendQueue = sendQueue;
    this.addressOf = addressOf;
    this.logger = logger;
    this.intervalMs = intervalMs;
    this.now = now;
    /** @type {Map<string, number>} caller -> when they were last told */
    this.toldAt = new Map();
  }

  /** @param {Call[]} calls */
  async onCalls(calls) {
    for (const call of calls) {
      // Only a live 1:1 offer rings; group calls and calls missed while offline are left alone.
      if (call.status !== 'offer' || call.offline || call.isGroup || !this.settings.current.rejectCalls) continue;
      try {
        await this.session.rejectCall(call.id, call.from);
        this.logger.info({ callId: call.id }, 'rejected an incoming call');
        await this.tellCaller(call);
      } catch (error) {
        this.logger.warn({ callId: call.id, err: String(error) }, 'could not handle an incoming call');
      }
    }
  }

  /** @param {Call} call */
  async tellCaller(call) {
    const caller = jidNormalizedUser(call.callerPn || call.from);
    const last = this.toldAt.get(caller);
    if (last !== undefined && this.now() - last < this.intervalMs) return;
    this.toldAt.set(caller, this.now());
    const address = call.callerPn ? this.addressOf(caller) : jidNormalizedUser(call.from);
    const text = this.settings.current.callMessage;
    await this.sendQueue.enqueue(address, () => this.session.sendText(address, text, { messageId: this.session.newMessageId() }));
  }
}
