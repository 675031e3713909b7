// @ts-check
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeRelay } from './support/fake_relay.mjs';
import { connectAccount, sleep, startBridge, waitUntil } from './support/bridge_harness.mjs';
import { BRIDGE_VERSION } from '../src/protocol.mjs';

describe('relay link', () => {
  /** @type {FakeRelay} */
  let relay;
  /** @type {Awaited<ReturnType<typeof startBridge>>} */
  let bridge;

  before(async () => {
    relay = new FakeRelay();
    bridge = await startBridge({ relayUrl: await relay.listen(), tenant: 'tienda-sol' });
    await connectAccount(bridge.fake, relay);
  });

  after(async () => {
    await bridge.app.stop();
    await relay.close();
  });

  test('the upgrade request carries the bearer token and the tenant header', () => {
    const { headers } = relay.connections[0];
    assert.equal(headers.authorization, 'Bearer secret-token');
    assert.equal(headers['x-puente-tenant'], 'tienda-sol');
  });

  test('the first frame is hello with protocol 1, the tenant and the bridge version', () => {
    assert.deepEqual(relay.connections[0].frames[0], {
      type: 'hello', protocol: 1, tenant: 'tienda-sol', bridge_version: BRIDGE_VERSION,
    });
  });

  test('after welcome the bridge reports its WhatsApp status first', () => {
    const second = relay.connections[0].frames[1];
    assert.equal(second.type, 'status');
    // Which state depends on whether the fake WhatsApp showed its QR before the relay answered.
    assert.ok(['starting', 'waiting_qr'].includes(second.state), second.state);
    assert.match(second.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('the connected status names the phone and the account', async () => {
    const status = await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected');
    assert.equal(status.phone, '56911112222');
    assert.equal(status.name, 'Tienda');
  });

  test('a frame of unknown type is ignored and the link stays up', async () => {
    const connection = relay.current;
    const before = relay.frames.length;
    relay.send({ type: 'no_such_thing', ref: 'r-unknown' });
    relay.send({ type: 'typing', chat: '56922223333@s.whatsapp.net', state: 'composing' });
    await waitUntil(() => bridge.fake.records.some((r) => r.op === 'presence'), 2000, 'presence');
    await sleep(50);
    assert.equal(connection.closeCode, undefined);
    assert.equal(relay.frames.slice(before).filter((f) => f.type === 'result').length, 0);
  });

  test('malformed JSON closes the connection with 4400 and the bridge comes back', async () => {
    const connection = relay.current;
    const count = relay.connections.length;
    relay.sendRaw('{"type": "send", oops');
    assert.equal(await relay.waitForClose(connection), 4400);
    const next = await relay.waitForReady(count + 1);
    assert.equal(next.frames[0].type, 'hello');
    assert.equal(next.frames[1].type, 'status');
    assert.equal(next.frames[1].state, 'connected');
  });

  test('a JSON frame without a string type is malformed too', async () => {
    const connection = relay.current;
    const count = relay.connections.length;
    relay.sendRaw('[1, 2, 3]');
    assert.equal(await relay.waitForClose(connection), 4400);
    await relay.waitForReady(count + 1);
  });

  test('a known command with bad fields is answered by an error result', async () => {
    relay.send({ type: 'send', ref: 'bad-1', chat: 5 });
    const result = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'bad-1');
    assert.equal(result.ok, false);
    assert.match(result.error, /chat/);
  });
});

describe('relay keep-alive', () => {
  test('a relay that stops answering pings is dropped and reconnected', async () => {
    const relay = new FakeRelay();
    const bridge = await startBridge({
      relayUrl: await relay.listen(),
      overrides: { relay: { backoff: { initialMs: 50, maxMs: 100 }, pingIntervalMs: 100, silenceTimeoutMs: 300 } },
    });
    try {
      const first = await relay.waitForConnections(1);
      await relay.waitForFrame((f) => f.type === 'status');
      // A paused socket stops answering pings, like a relay host that vanished.
      first.ws.pause();
      /** @type {any} */ (first.ws)._socket.pause();
      const second = await relay.waitForConnections(2, 3000);
      assert.notEqual(second, first);
    } finally {
      await bridge.app.stop();
      await relay.close();
    }
  });
});
