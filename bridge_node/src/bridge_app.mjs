// @ts-check
/**
 * The composition root: builds the bridge's parts in order, starts them, and stops them
 * in reverse when the bridge has to end.
 */
import fs from 'node:fs';
import { AuthStore } from './auth_state.mjs';
import { Bridge } from './bridge.mjs';
import { BridgeSettingsStore } from './bridge_settings.mjs';
import { ChatBook } from './chat_book.mjs';
import { FakeWhatsApp } from './fake_socket.mjs';
import { baileysLogger, createLogger } from './logger.mjs';
import { MessageOutbox } from './message_outbox.mjs';
import { RelayLink } from './relay_link.mjs';
import { SendLedger } from './send_ledger.mjs';
import { SendQueue } from './send_queue.mjs';
import { SentMessages } from './sent_messages.mjs';
import { openSessionDatabase } from './session_database.mjs';
import { SessionLock } from './session_lock.mjs';
import { BaileysSocketFactory } from './whatsapp_socket.mjs';
import { WhatsAppSession } from './whatsapp_session.mjs';

/**
 * @typedef {import('./whatsapp_socket.mjs').SocketFactory & {start?: () => void, stop?: () => void}} RunnableSocketFactory
 *   a socket factory, with start/stop if it runs something of its own (the fake's file tail)
 *
 * @typedef {object} AppOverrides knobs for tests that drive the bridge in-process
 * @property {RunnableSocketFactory} [socketFactory]
 * @property {import('pino').Logger} [logger]
 * @property {Partial<import('./relay_link.mjs').RelayLinkOptions>} [relay]
 * @property {import('./whatsapp_session.mjs').SessionTuning} [session]
 * @property {number} [perChatIntervalMs]
 * @property {number} [typingRefreshMs]
 * @property {number} [maxTypingMs]
 * @property {number} [mediaTimeoutMs]
 * @property {number} [callMessageIntervalMs]
 */

/** One running bridge; `exited` resolves with the reason it stopped for. */
export class BridgeApp {
  /**
   * Start a bridge for a config. Throws SessionLocked if the session is in use.
   * @param {import('./config.mjs').BridgeConfig} config
   * @param {AppOverrides} [overrides]
   * @returns {Promise<BridgeApp>}
   */
  static async start(config, overrides = {}) {
    fs.mkdirSync(config.sessionDir, { recursive: true });
    const lock = SessionLock.acquire(config.sessionDir);
    try {
      const app = new BridgeApp(config, overrides, lock);
      await app.run();
      return app;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * @param {import('./config.mjs').BridgeConfig} config
   * @param {AppOverrides} overrides
   * @param {SessionLock} lock
   */
  constructor(config, overrides, lock) {
    this.lock = lock;
    this.logger = overrides.logger ?? createLogger({ tenant: config.tenant, level: config.logLevel });
    this.db = openSessionDatabase(config.sessionDir);
    /** @type {RunnableSocketFactory} */
    this.socketFactory = overrides.socketFactory ?? defaultSocketFactory(config, this.logger);
    this.sentMessages = new SentMessages(this.db);
    this.session = new WhatsAppSession({
      socketFactory: this.socketFactory,
      authStore: new AuthStore(this.db, this.logger),
      sentMessages: this.sentMessages,
      logger: this.logger,
      baileysLogger: baileysLogger(this.logger),
      tuning: overrides.session,
    });
    this.relay = new RelayLink({
      url: config.relayUrl, tenant: config.tenant, token: config.token, logger: this.logger, ...overrides.relay,
    });
    this.sendQueue = new SendQueue({ gapMs: config.sendGapMs, perChatIntervalMs: overrides.perChatIntervalMs });
    this.bridge = new Bridge({
      relay: this.relay,
      session: this.session,
      outbox: new MessageOutbox(this.db),
      ledger: new SendLedger(this.db),
      sentMessages: this.sentMessages,
      sendQueue: this.sendQueue,
      chatBook: new ChatBook(this.db),
      settings: new BridgeSettingsStore(this.db),
      logger: this.logger,
      typingRefreshMs: overrides.typingRefreshMs,
      maxTypingMs: overrides.maxTypingMs,
      mediaTimeoutMs: overrides.mediaTimeoutMs,
      callMessageIntervalMs: overrides.callMessageIntervalMs,
    });
    /** @type {(reason: string) => void} */
    this.resolveExit = () => {};
    /** @type {Promise<string>} why the bridge stopped, once it has */
    this.exited = new Promise((resolve) => { this.resolveExit = resolve; });
    this.stopping = false;
  }

  async run() {
    this.bridge.attach();
    this.bridge.on('exit', ({ reason }) => void this.stop(reason));
    this.socketFactory.start?.();
    this.relay.start();
    await this.session.start();
    this.logger.info('bridge started');
  }

  /**
   * Stop everything in reverse order of start; safe to call more than once.
   * @param {string} [reason] why, e.g. `shutdown` or `SIGTERM`
   */
  async stop(reason = 'stop') {
    if (this.stopping) return this.exited;
    this.stopping = true;
    this.logger.info({ reason }, 'bridge stopping');
    try {
      await this.session.stop();
      this.bridge.stop();
      this.sendQueue.close();
      await this.bridge.flushInbound();
      this.socketFactory.stop?.();
      await this.relay.stop();
      this.db.close();
    } catch (error) {
      this.logger.error({ err: String(error) }, 'error while stopping');
    } finally {
      this.lock.release();
      this.resolveExit(reason);
    }
    return this.exited;
  }
}

/**
 * Real Baileys, or the file-driven fake when PUENTE_FAKE_SOCKET names a control file.
 * @param {import('./config.mjs').BridgeConfig} config
 * @param {import('pino').Logger} logger
 * @returns {RunnableSocketFactory}
 */
function defaultSocketFactory(config, logger) {
  if (config.fakeSocketControl) {
    logger.warn('using the fake WhatsApp socket (PUENTE_FAKE_SOCKET is set)');
    return new FakeWhatsApp({ controlPath: config.fakeSocketControl, logger });
  }
  return new BaileysSocketFactory();
}
