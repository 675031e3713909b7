// @ts-check
/**
 * Runs a whole bridge in-process against a FakeRelay and a FakeWhatsApp, with short
 * delays, so tests see its real behaviour in milliseconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BridgeApp } from '../../src/bridge_app.mjs';
import { FakeWhatsApp } from '../../src/fake_socket.mjs';
import { FakeRelay } from './fake_relay.mjs';

/** @type {string[]} */
const madeDirs = [];
process.once('exit', () => {
  for (const dir of madeDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** @returns {string} a fresh temporary directory, removed when the test process exits */
export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'puente-bridge-test-'));
  madeDirs.push(dir);
  return dir;
}

/**
 * @typedef {object} HarnessOptions
 * @property {string} relayUrl
 * @property {string} [sessionDir]
 * @property {string} [tenant]
 * @property {FakeWhatsApp} [fake]
 * @property {import('../../src/bridge_app.mjs').AppOverrides} [overrides]
 */

/**
 * Start a bridge in-process.
 * @param {HarnessOptions} options
 * @returns {Promise<{app: BridgeApp, fake: FakeWhatsApp, sessionDir: string}>}
 */
export async function startBridge(options) {
  const sessionDir = options.sessionDir ?? path.join(tempDir(), 'session');
  const fake = options.fake ?? new FakeWhatsApp({ startDelayMs: 20 });
  const logger = pino({ level: process.env.TEST_LOG ? 'debug' : 'silent', base: { tenant: options.tenant ?? 'acme' } });
  const app = await BridgeApp.start({
    relayUrl: options.relayUrl,
    tenant: options.tenant ?? 'acme',
    token: 'secret-token',
    sessionDir,
    logLevel: 'info',
    fakeSocketControl: undefined,
    sendGapMs: { min: 0, max: 0 },
  }, {
    socketFactory: fake,
    logger,
    relay: { backoff: { initialMs: 50, maxMs: 200 }, pingIntervalMs: 1000, silenceTimeoutMs: 3000 },
    session: { backoff: { initialMs: 50, maxMs: 200 }, replacedDelayMs: 800, socketUpTimeoutMs: 2000 },
    ...options.overrides,
  });
  return { app, fake, sessionDir };
}

/**
 * Resolve once `predicate` holds, polling every 10 ms.
 * @param {() => unknown} predicate
 * @param {number} [timeoutMs]
 * @param {string} [what]
 */
export async function waitUntil(predicate, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Connect the fake WhatsApp account and wait until the relay hears `connected`.
 * @param {FakeWhatsApp} fake
 * @param {import('./fake_relay.mjs').FakeRelay} relay
 */
export async function connectAccount(fake, relay) {
  await relay.waitForFrame((f) => f.type === 'qr');
  fake.apply({ op: 'open', phone: '56911112222', name: 'Tienda' });
  return relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected');
}

/**
 * A FakeRelay and a bridge connected to it, its WhatsApp account linked unless `linked` is false.
 * @param {{linked?: boolean}} [options]
 */
export async function openBridge({ linked = true } = {}) {
  const relay = new FakeRelay();
  const bridge = await startBridge({ relayUrl: await relay.listen() });
  if (linked) await connectAccount(bridge.fake, relay);
  return { relay, bridge };
}

/**
 * Stop what openBridge started.
 * @param {{relay: FakeRelay, bridge: Awaited<ReturnType<typeof startBridge>>}} opened
 */
export async function closeBridge({ relay, bridge }) {
  await bridge.app.stop();
  await relay.close();
}
