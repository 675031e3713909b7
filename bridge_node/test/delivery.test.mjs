// @ts-check
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FakeWhatsApp } from '../src/fake_socket.mjs';
import { FakeRelay } from './support/fake_relay.mjs';
import { closeBridge, openBridge, sleep, startBridge, waitUntil } from './support/bridge_harness.mjs';

const CHAT = '56933334444@s.whatsapp.net';

/** @param {string} id @param {Record<string, any>} [extra] */
const incoming = (id, extra = {}) => ({ op: 'message', id, chat: CHAT, text: `text ${id}`, push_name: 'Ana', ...extra });

describe('message delivery', () => {
  /** @type {FakeRelay} */
  let relay;
  /** @type {Awaited<ReturnType<typeof startBridge>>} */
  let bridge;

  beforeEach(async () => ({ relay, bridge } = await openBridge()));
  afterEach(() => closeBridge({ relay, bridge }));

  /** @param {import('./support/fake_relay.mjs').RelayConnection} connection */
  const messageIds = (connection) => connection.frames.filter((f) => f.type === 'message').map((f) => f.id);

  test('unacked messages are resent in their original order after the relay link drops', async () => {
    for (const id of ['M1', 'M2', 'M3']) bridge.fake.apply(incoming(id));
    await waitUntil(() => messageIds(relay.current).length === 3, 2000, 'three messages');
    assert.deepEqual(messageIds(relay.current), ['M1', 'M2', 'M3']);
    relay.send({ type: 'ack', id: 'M2' });
    await sleep(50);
    relay.current.ws.close(1001, 'relay restarting');
    await waitUntil(() => relay.current.closeCode !== undefined, 2000, 'close');
    // Arrives while the relay is away: kept and sent after the earlier ones.
    bridge.fake.apply(incoming('M4'));
    const next = await relay.waitForReady(2);
    await waitUntil(() => messageIds(next).length === 3, 2000, 'resent messages');
    assert.deepEqual(messageIds(next), ['M1', 'M3', 'M4']);
    const statusIndex = next.frames.findIndex((f) => f.type === 'status');
    const firstMessage = next.frames.findIndex((f) => f.type === 'message');
    assert.ok(statusIndex < firstMessage, 'status comes before the resent messages');
  });

  test('acked messages are not resent', async () => {
    bridge.fake.apply(incoming('A1'));
    await relay.waitForFrame((f) => f.id === 'A1');
    relay.send({ type: 'ack', id: 'A1' });
    await sleep(50);
    relay.current.ws.close(1001);
    const next = await relay.waitForReady(2);
    await sleep(100);
    assert.deepEqual(messageIds(next), []);
  });

  test('unacked messages survive a bridge restart', async () => {
    bridge.fake.apply(incoming('R1', { kind: 'audio', audio_base64: Buffer.from('voice').toString('base64'), seconds: 3 }));
    await relay.waitForFrame((f) => f.id === 'R1');
    await bridge.app.stop();
    bridge = await startBridge({ relayUrl: await relay.listen(), sessionDir: bridge.sessionDir });
    const next = await relay.waitForReady(2);
    await waitUntil(() => messageIds(next).includes('R1'), 2000, 'resent R1');
    const resent = next.frames.find((f) => f.id === 'R1');
    assert.equal(resent?.media?.data_base64, Buffer.from('voice').toString('base64'));
    // The login survived too: the new socket opens without a QR.
    await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected', { since: relay.frames.indexOf(next.frames[0]) });
  });

  test('the owner writing on the phone is forwarded as from_me, not sent_by_bridge', async () => {
    bridge.fake.apply(incoming('OWN1', { from_me: true, text: 'lo atiendo yo' }));
    const frame = await relay.waitForFrame((f) => f.id === 'OWN1');
    assert.equal(frame.from_me, true);
    assert.equal(frame.sent_by_bridge, false);
  });

  test('a group message reaches the relay with is_group and the participant', async () => {
    bridge.fake.apply({ op: 'message', id: 'G1', chat: '120363000000000001@g.us', sender: '56955556666@s.whatsapp.net', text: 'hola' });
    const frame = await relay.waitForFrame((f) => f.id === 'G1');
    assert.equal(frame.is_group, true);
    assert.equal(frame.sender, '56955556666@s.whatsapp.net');
  });

  test('messages written while the bridge was offline reach the relay; old history does not', async () => {
    const now = Math.floor(Date.now() / 1000);
    bridge.fake.apply(incoming('HIST1', { upsert_type: 'append', timestamp: now - 8 * 3600 }));
    bridge.fake.apply(incoming('OFF1', { upsert_type: 'append', timestamp: now - 120 }));
    bridge.fake.apply(incoming('LIVE1'));
    await relay.waitForFrame((f) => f.id === 'LIVE1');
    assert.equal(relay.frames.some((f) => f.id === 'OFF1'), true);
    assert.equal(relay.frames.some((f) => f.id === 'HIST1'), false);
  });
});

describe('sending', () => {
  /** @type {FakeRelay} */
  let relay;
  /** @type {Awaited<ReturnType<typeof startBridge>>} */
  let bridge;

  beforeEach(async () => ({ relay, bridge } = await openBridge()));
  afterEach(() => closeBridge({ relay, bridge }));

  /** @param {string} ref */
  const resultOf = (ref) => relay.waitForFrame((f) => f.type === 'result' && f.ref === ref);

  test('send answers with the message id and its echo is marked sent_by_bridge', async () => {
    relay.send({ type: 'send', ref: 'S1', chat: CHAT, text: 'Hola, ¿en qué te ayudo?' });
    const result = await resultOf('S1');
    assert.equal(result.ok, true);
    assert.match(result.message_id, /^3EB0/);
    const sent = bridge.fake.records.filter((r) => r.op === 'sent');
    assert.deepEqual(sent.map((r) => [r.id, r.chat, r.text]), [[result.message_id, CHAT, 'Hola, ¿en qué te ayudo?']]);
    const echo = await relay.waitForFrame((f) => f.type === 'message' && f.id === result.message_id);
    assert.equal(echo.from_me, true);
    assert.equal(echo.sent_by_bridge, true);
    assert.equal(echo.text, 'Hola, ¿en qué te ayudo?');
  });

  test('send is idempotent by ref across a bridge restart', async () => {
    relay.send({ type: 'send', ref: 'IDEM', chat: CHAT, text: 'una vez' });
    const first = await resultOf('IDEM');
    await bridge.app.stop();
    const fake = new FakeWhatsApp({ startDelayMs: 20 });
    bridge = await startBridge({ relayUrl: await relay.listen(), sessionDir: bridge.sessionDir, fake });
    const next = await relay.waitForReady(2);
    await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected', { since: relay.frames.indexOf(next.frames[0]) });
    const mark = relay.frames.length;
    relay.send({ type: 'send', ref: 'IDEM', chat: CHAT, text: 'una vez' });
    const again = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'IDEM', { since: mark });
    assert.deepEqual(again, first);
    await sleep(100);
    assert.equal(fake.records.filter((r) => r.op === 'sent').length, 0, 'nothing sent twice');
  });

  test('the same ref twice in a row is sent once and answered twice alike', async () => {
    relay.send({ type: 'send', ref: 'TWICE', chat: CHAT, text: 'x' });
    relay.send({ type: 'send', ref: 'TWICE', chat: CHAT, text: 'x' });
    await waitUntil(() => relay.frames.filter((f) => f.ref === 'TWICE').length === 2, 3000, 'two results');
    const [a, b] = relay.frames.filter((f) => f.ref === 'TWICE');
    assert.deepEqual(a, b);
    assert.equal(bridge.fake.records.filter((r) => r.op === 'sent').length, 1);
  });

  test('sends to one chat are a second apart, another chat is not held back', async () => {
    const other = '56988887777@s.whatsapp.net';
    relay.send({ type: 'send', ref: 'P1', chat: CHAT, text: '1' });
    relay.send({ type: 'send', ref: 'P2', chat: CHAT, text: '2' });
    relay.send({ type: 'send', ref: 'P3', chat: other, text: '3' });
    const results = await Promise.all(['P1', 'P2', 'P3'].map(resultOf));
    assert.ok(results.every((r) => r.ok));
    const order = bridge.fake.records.filter((r) => r.op === 'sent').map((r) => r.text);
    assert.deepEqual(order, ['1', '3', '2']);
  });

  test('sends are paced: two to one chat take at least a second', async () => {
    const startedAt = Date.now();
    relay.send({ type: 'send', ref: 'Q1', chat: CHAT, text: 'a' });
    relay.send({ type: 'send', ref: 'Q2', chat: CHAT, text: 'b' });
    await resultOf('Q2');
    assert.ok(Date.now() - startedAt >= 950, `took ${Date.now() - startedAt} ms`);
  });

  test('a sent message can be fetched again for WhatsApp retries', async () => {
    relay.send({ type: 'send', ref: 'RETRY', chat: CHAT, text: 'reintento' });
    const { message_id: id } = await resultOf('RETRY');
    bridge.fake.apply({ op: 'retry_request', id });
    bridge.fake.apply({ op: 'retry_request', id: 'NEVER-SENT' });
    assert.deepEqual(bridge.fake.records.filter((r) => r.op === 'get_message').map((r) => r.found), [true, false]);
  });
});
