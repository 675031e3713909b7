// @ts-check
/**
 * What happens to the bridge's sends after `sendMessage` resolved, in disappearing chats,
 * with the typing indicator, and with calls.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { closeBridge, sleep, waitUntil } from './support/bridge_harness.mjs';
import { FakeRelay } from './support/fake_relay.mjs';
import { CUSTOMER_LID, CUSTOMER_PN, fixture, openOwnerBridge, replay } from './support/real_shapes.mjs';

describe('sending', () => {
  /** @type {Awaited<ReturnType<typeof openOwnerBridge>>} */
  let opened;
  beforeEach(async () => { opened = await openOwnerBridge({ overrides: {
    session: { backoff: { initialMs: 50, maxMs: 200 }, socketUpTimeoutMs: 2000 },
    typingRefreshMs: 100,
    maxTypingMs: 600,
    callMessageIntervalMs: 400,
    perChatIntervalMs: 0,
  } }); });
  afterEach(() => closeBridge(opened));

  /** @param {string} op */
  const records = (op) => opened.bridge.fake.records.filter((r) => r.op === op);
  /** @param {string} ref */
  const resultOf = (ref) => opened.relay.waitForFrame((f) => f.type === 'result' && f.ref === ref);

  test('a send the server rejects after it went out is reported as send_failed, until acked', async () => {
    // sendMessage resolves once the stanza is written; a refusal comes later as an ack with
    // an error, which Socket/messages-recv.js handleBadAck turns into messages.update with
    // status ERROR and the error code in messageStubParameters.
    const { relay, bridge } = opened;
    relay.send({ type: 'send', ref: 'S-REJECTED', chat: CUSTOMER_PN, text: 'hola' });
    const result = await resultOf('S-REJECTED');
    assert.equal(result.ok, true);
    bridge.fake.apply({ op: 'send_error', id: result.message_id, chat: CUSTOMER_LID, error: '463' });
    const failed = await relay.waitForFrame((f) => f.type === 'send_failed');
    assert.deepEqual({ ...failed, at: undefined }, {
      type: 'send_failed', id: `send_failed:${result.message_id}`, ref: 'S-REJECTED', message_id: result.message_id,
      chat: CUSTOMER_PN, error: '463', at: undefined,
    });
    // The same ref asked again is answered with the failure, not sent again.
    const mark = relay.frames.length;
    relay.send({ type: 'send', ref: 'S-REJECTED', chat: CUSTOMER_PN, text: 'hola' });
    const again = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'S-REJECTED', { since: mark });
    assert.deepEqual(again, { type: 'result', ref: 'S-REJECTED', ok: false, error: 'rejected: 463' });
    assert.equal(records('sent').length, 1);
    // Kept until acked: resent after the link drops, gone once acked.
    relay.current.ws.close(1001);
    const next = await relay.waitForReady(2);
    await waitUntil(() => next.frames.some((f) => f.type === 'send_failed'), 2000, 'send_failed resent');
    relay.send({ type: 'ack', id: failed.id });
    await sleep(50);
    relay.current.ws.close(1001);
    const third = await relay.waitForReady(3);
    await sleep(100);
    assert.equal(third.frames.filter((f) => f.type === 'send_failed').length, 0);
  });

  test('replies in a 1:1 chat with disappearing messages carry the chat\'s timer', async () => {
    // Baileys copies a timer into a send only when asked (Utils/messages.js
    // generateWAMessageFromContent, options.ephemeralExpiration); relayMessage looks up the
    // timer by itself for groups only (Socket/messages-send.js).
    const { relay, bridge } = opened;
    bridge.fake.apply(replay('ephemeral_1to1'));
    await relay.waitForFrame((f) => f.id === fixture('ephemeral_1to1').key.id);
    relay.send({ type: 'send', ref: 'E1', chat: CUSTOMER_PN, text: 'confirmado' });
    await resultOf('E1');
    relay.send({ type: 'send', ref: 'E2', chat: '56955556666@s.whatsapp.net', text: 'otro chat' });
    await resultOf('E2');
    bridge.fake.apply(replay('ephemeral_setting_off'));
    bridge.fake.apply({ op: 'message', id: 'AFTER-OFF', chat: CUSTOMER_PN, text: 'ok' });
    await relay.waitForFrame((f) => f.id === 'AFTER-OFF');
    relay.send({ type: 'send', ref: 'E3', chat: CUSTOMER_PN, text: 'ya no desaparece' });
    await resultOf('E3');
    assert.deepEqual(records('sent').map((r) => [r.text, r.ephemeral_expiration]), [
      ['confirmado', 604800], ['otro chat', null], ['ya no desaparece', null],
    ]);
  });

  test('typing: online first, composing repeated until the reply, then offline again', async () => {
    // Socket/chats.js sendPresenceUpdate: `available`/`unavailable` are account-wide;
    // with markOnlineOnConnect off nothing else ever says the account is online.
    const { relay } = opened;
    relay.send({ type: 'typing', chat: CUSTOMER_PN, state: 'composing' });
    await waitUntil(() => records('presence').filter((r) => r.state === 'composing').length >= 3, 2000, 'repeated composing');
    relay.send({ type: 'send', ref: 'T1', chat: CUSTOMER_PN, text: 'listo' });
    await resultOf('T1');
    await waitUntil(() => records('presence').some((r) => r.state === 'unavailable'), 1000, 'unavailable');
    const settled = records('presence').length;
    await sleep(300);
    assert.equal(records('presence').length, settled, 'no composing after the reply');
    const states = records('presence').map((r) => r.state);
    assert.equal(states[0], 'available');
    assert.equal(states.at(-1), 'unavailable');
    assert.ok(records('presence').filter((r) => r.state === 'composing').every((r) => r.chat === CUSTOMER_PN));
  });

  test('typing the relay never ends stops by itself after the longest typing time', async () => {
    opened.relay.send({ type: 'typing', chat: CUSTOMER_PN, state: 'composing' });
    await waitUntil(() => records('presence').some((r) => r.state === 'unavailable'), 2000, 'typing given up');
    const states = records('presence').map((r) => r.state);
    assert.deepEqual(states.slice(-2), ['paused', 'unavailable']);
    const settled = records('presence').length;
    await sleep(250);
    assert.equal(records('presence').length, settled);
  });

  test('calls are left alone unless the relay says to reject them', async () => {
    opened.bridge.fake.apply({ op: 'call', id: 'CALL-0', from: CUSTOMER_PN });
    await sleep(100);
    assert.deepEqual(records('reject_call'), []);
    assert.deepEqual(records('sent'), []);
  });

  test('with reject_calls the call is rejected and the caller told once per interval', async () => {
    // Baileys emits `call` with status `offer` for a ringing call (Socket/messages-recv.js
    // handleCall) and rejects one with rejectCall(callId, callFrom).
    const { relay, bridge } = opened;
    relay.send({ type: 'config', config: { reject_calls: true, call_message: 'Solo por escrito, gracias' } });
    await sleep(50);
    bridge.fake.apply({ op: 'call', id: 'CALL-1', from: CUSTOMER_LID, caller_pn: CUSTOMER_PN });
    bridge.fake.apply({ op: 'call', id: 'CALL-2', from: CUSTOMER_LID, caller_pn: CUSTOMER_PN });
    bridge.fake.apply({ op: 'call', id: 'CALL-G', from: '56977778888@s.whatsapp.net', group: true });
    await waitUntil(() => records('reject_call').length === 2 && records('sent').length >= 1, 2000, 'rejections');
    await sleep(150);
    assert.deepEqual(records('reject_call').map((r) => [r.id, r.caller]), [['CALL-1', CUSTOMER_LID], ['CALL-2', CUSTOMER_LID]]);
    assert.deepEqual(records('sent').map((r) => [r.chat, r.text]), [[CUSTOMER_PN, 'Solo por escrito, gracias']]);
    const echo = await relay.waitForFrame((f) => f.type === 'message' && f.text === 'Solo por escrito, gracias');
    assert.equal(echo.sent_by_bridge, true);
    await sleep(450);
    bridge.fake.apply({ op: 'call', id: 'CALL-3', from: CUSTOMER_LID, caller_pn: CUSTOMER_PN });
    await waitUntil(() => records('sent').length === 2, 2000, 'told again after the interval');
  });
});

describe('config in welcome', () => {
  test('welcome carries the settings, which survive a restart of the bridge', async () => {
    const relay = new FakeRelay({ welcomeConfig: { reject_calls: true } });
    const opened = await openOwnerBridge({ relay });
    const sessionDir = opened.bridge.sessionDir;
    try {
      opened.bridge.fake.apply({ op: 'call', id: 'CALL-W', from: CUSTOMER_PN });
      await waitUntil(() => opened.bridge.fake.records.some((r) => r.op === 'reject_call'), 2000, 'rejected');
      const told = await relay.waitForFrame((f) => f.type === 'message' && f.sent_by_bridge);
      assert.equal(told.text, 'No puedo atender llamadas, escríbeme por aquí');
    } finally {
      await opened.bridge.app.stop();
    }
    relay.welcomeConfig = undefined;
    const { startBridge } = await import('./support/bridge_harness.mjs');
    const bridge = await startBridge({ relayUrl: await relay.listen(), sessionDir });
    try {
      await relay.waitForReady(2);
      await waitUntil(() => relay.frames.filter((f) => f.state === 'connected').length >= 2, 3000, 'reconnected');
      bridge.fake.apply({ op: 'call', id: 'CALL-X', from: CUSTOMER_PN });
      await waitUntil(() => bridge.fake.records.some((r) => r.op === 'reject_call'), 2000, 'still rejected');
    } finally {
      await closeBridge({ relay, bridge });
    }
  });
});
