// @ts-check
/**
 * Real-shaped WAMessages from test/fixtures (Baileys' BufferJSON JSON, field names of
 * WAProto's proto.Message), and a bridge linked as the account those fixtures belong to.
 */
import fs from 'node:fs';
import { FakeRelay } from './fake_relay.mjs';
import { startBridge } from './bridge_harness.mjs';

export const OWNER_PN = '56911112222@s.whatsapp.net';
export const OWNER_LID = '99911112222@lid';
export const CUSTOMER_PN = '56933334444@s.whatsapp.net';
export const CUSTOMER_LID = '123456789012345@lid';

/** @param {string} name a file of test/fixtures without `.json` @returns {Record<string, any>} */
export function fixture(name) {
  return JSON.parse(fs.readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8'));
}

/**
 * A `message` control action replaying a fixture, live (`notify`) and timestamped now
 * unless told otherwise.
 * @param {string} name
 * @param {Record<string, any>} [extra] more action fields (upsert_type, timestamp, media_size…)
 */
export function replay(name, extra = {}) {
  return { op: 'message', raw: fixture(name), timestamp: Math.floor(Date.now() / 1000), ...extra };
}

/**
 * A FakeRelay and a bridge linked as the fixtures' owner (phone 56911112222, LID 99911112222).
 * @param {{overrides?: import('../../src/bridge_app.mjs').AppOverrides, relay?: FakeRelay}} [options]
 */
export async function openOwnerBridge(options = {}) {
  const relay = options.relay ?? new FakeRelay();
  const bridge = await startBridge({ relayUrl: await relay.listen(), overrides: options.overrides });
  await relay.waitForFrame((f) => f.type === 'qr');
  bridge.fake.apply({ op: 'open', phone: '56911112222', lid: '99911112222', name: 'Tienda' });
  await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected');
  return { relay, bridge };
}

/**
 * @param {FakeRelay} relay
 * @returns {Record<string, any>[]} the message frames the relay got
 */
export function messageFrames(relay) {
  return relay.frames.filter((f) => f.type === 'message');
}
