// @ts-check
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FakeRelay } from './support/fake_relay.mjs';
import { closeBridge, connectAccount, openBridge, startBridge, waitUntil } from './support/bridge_harness.mjs';

const CHAT = '56933334444@s.whatsapp.net';
const GROUP = '120363000000000001@g.us';

describe('relay commands', () => {
  /** @type {FakeRelay} */
  let relay;
  /** @type {Awaited<ReturnType<typeof startBridge>>} */
  let bridge;

  beforeEach(async () => ({ relay, bridge } = await openBridge({ linked: false })));
  afterEach(() => closeBridge({ relay, bridge }));

  /** @param {string} ref */
  const resultOf = (ref) => relay.waitForFrame((f) => f.type === 'result' && f.ref === ref);
  /** @param {string} op */
  const records = (op) => bridge.fake.records.filter((r) => r.op === op);

  test('QR payloads are forwarded with an expiry 20 s ahead, and the state is waiting_qr', async () => {
    const qr = await relay.waitForFrame((f) => f.type === 'qr');
    assert.match(qr.qr, /^fake-qr-/);
    const ahead = Date.parse(qr.expires_at) - Date.now();
    assert.ok(ahead > 15_000 && ahead <= 20_000, `expires in ${ahead} ms`);
    assert.match(qr.expires_at, /Z$/);
    await relay.waitForFrame((f) => f.type === 'status' && f.state === 'waiting_qr');
    bridge.fake.apply({ op: 'qr', qr: 'second-qr' });
    await relay.waitForFrame((f) => f.type === 'qr' && f.qr === 'second-qr');
  });

  test('typing drives the presence of the chat, online only while typing', async () => {
    await connectAccount(bridge.fake, relay);
    relay.send({ type: 'typing', chat: CHAT, state: 'composing' });
    relay.send({ type: 'typing', chat: CHAT, state: 'paused' });
    await waitUntil(() => records('presence').length === 4, 2000, 'presence updates');
    assert.deepEqual(records('presence').map((r) => [r.state, r.chat]),
      [['available', null], ['composing', CHAT], ['paused', CHAT], ['unavailable', null]]);
  });

  test('read marks the received messages read, with the group participant', async () => {
    await connectAccount(bridge.fake, relay);
    bridge.fake.apply({ op: 'message', id: 'GM1', chat: GROUP, sender: '56955556666@s.whatsapp.net', text: 'hola' });
    await relay.waitForFrame((f) => f.id === 'GM1');
    relay.send({ type: 'read', chat: GROUP, ids: ['GM1'] });
    await waitUntil(() => records('read').length === 1, 2000, 'read receipt');
    assert.deepEqual(records('read')[0].keys, [{ chat: GROUP, id: 'GM1', participant: '56955556666@s.whatsapp.net' }]);
  });

  test('delete revokes a message this account sent and answers the ref', async () => {
    await connectAccount(bridge.fake, relay);
    relay.send({ type: 'delete', ref: 'D1', chat: CHAT, id: 'OLD-MSG' });
    const result = await resultOf('D1');
    assert.equal(result.ok, true);
    assert.deepEqual(records('deleted').map((r) => [r.chat, r.id]), [[CHAT, 'OLD-MSG']]);
  });

  test('pair asks for one pairing code, forwards it, reports pairing and answers ok', async () => {
    await relay.waitForReady(1);
    bridge.fake.apply({ op: 'pairing_code', code: 'FAKE2345' });
    relay.send({ type: 'pair', ref: 'PAIR1', phone: '56911112222' });
    const code = await relay.waitForFrame((f) => f.type === 'pairing_code');
    assert.deepEqual({ ...code, expires_at: undefined }, { type: 'pairing_code', code: 'FAKE2345', phone: '56911112222', expires_at: undefined });
    const ahead = Date.parse(code.expires_at) - Date.now();
    assert.ok(ahead > 170_000 && ahead <= 180_000, `code usable for ${ahead} ms`);
    await relay.waitForFrame((f) => f.type === 'status' && f.state === 'pairing');
    assert.deepEqual(await resultOf('PAIR1'), { type: 'result', ref: 'PAIR1', ok: true });
    assert.deepEqual(records('pairing_code_requested').map((r) => r.phone), ['56911112222']);
  });

  test('pair on an account that is already linked is refused', async () => {
    await connectAccount(bridge.fake, relay);
    relay.send({ type: 'pair', ref: 'PAIR2', phone: '56911112222' });
    assert.deepEqual(await resultOf('PAIR2'), { type: 'result', ref: 'PAIR2', ok: false, error: 'already_registered' });
    assert.equal(records('pairing_code_requested').length, 0);
  });

  test('logout unlinks, wipes the session, starts a fresh login and answers ok', async () => {
    await connectAccount(bridge.fake, relay);
    const mark = relay.frames.length;
    relay.send({ type: 'logout', ref: 'OUT' });
    assert.deepEqual(await resultOf('OUT'), { type: 'result', ref: 'OUT', ok: true });
    assert.equal(records('logout').length, 1);
    await relay.waitForFrame((f) => f.type === 'status' && f.state === 'logged_out', { since: mark });
    await relay.waitForFrame((f) => f.type === 'qr', { since: mark });
    assert.equal(records('socket_created').at(-1)?.registered, false);
    assert.equal(bridge.fake.maxLiveSockets, 1);
  });

  test('send while WhatsApp is not connected fails with not_connected and can be retried', async () => {
    await relay.waitForFrame((f) => f.type === 'qr');
    relay.send({ type: 'send', ref: 'EARLY', chat: CHAT, text: 'x' });
    assert.deepEqual(await resultOf('EARLY'), { type: 'result', ref: 'EARLY', ok: false, error: 'not_connected' });
    await connectAccount(bridge.fake, relay);
    const mark = relay.frames.length;
    relay.send({ type: 'send', ref: 'EARLY', chat: CHAT, text: 'x' });
    const retried = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'EARLY', { since: mark });
    assert.equal(retried.ok, true);
  });

  test('shutdown closes WhatsApp and ends the bridge', async () => {
    await connectAccount(bridge.fake, relay);
    relay.send({ type: 'shutdown' });
    assert.equal(await bridge.app.exited, 'shutdown');
    assert.equal(records('end').length, 1);
    assert.equal(bridge.fake.liveSockets, 0);
  });
});
