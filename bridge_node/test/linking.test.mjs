// @ts-check
/**
 * Linking by pairing code, and reconnect storms, against the fake socket's model of
 * Baileys' Socket/socket.js.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthStore } from '../src/auth_state.mjs';
import { FakeWhatsApp } from '../src/fake_socket.mjs';
import { FakeRelay } from './support/fake_relay.mjs';
import { sleep, startBridge, waitUntil } from './support/bridge_harness.mjs';

const PHONE = '56911112222';
const CODE_LIFE_MS = 600;

/**
 * A bridge with a compressed QR cycle: QRs of 100 ms (six refs: the socket dies at 600 ms),
 * pairing sockets with refs of `pairingQrMs`, codes usable for CODE_LIFE_MS on the phone.
 * @param {{pairingQrMs?: number, startDelayMs?: number, sessionDir?: string}} [options]
 */
async function openPairingBridge({ pairingQrMs = CODE_LIFE_MS / 3, startDelayMs = 20, sessionDir } = {}) {
  const relay = new FakeRelay();
  const fake = new FakeWhatsApp({ startDelayMs, pairingCodeLifetimeMs: CODE_LIFE_MS });
  const bridge = await startBridge({
    relayUrl: await relay.listen(),
    fake,
    sessionDir,
    overrides: {
      session: {
        backoff: { initialMs: 50, maxMs: 200 }, socketUpTimeoutMs: 2000,
        qrTimeoutMs: 100, pairingQrTimeoutMs: pairingQrMs, pairingCodeLifetimeMs: CODE_LIFE_MS,
      },
    },
  });
  return { relay, bridge, fake };
}

/** @param {FakeRelay} relay @param {string} state */
const states = (relay, state) => relay.frames.filter((f) => f.type === 'status' && f.state === state);

describe('pairing code', () => {
  // Baileys' Socket/socket.js: `connecting` is emitted on the next tick, before the WebSocket
  // is open, so requestPairingCode then fails (428); the first QR (`pair-device`) shows the
  // socket can take requests; genPairQR ends the socket with "QR refs attempts ended" when
  // its refs run out, and the code dies with the socket; requestPairingCode writes creds.me,
  // which makes validateConnection send a login instead of a registration next time.
  for (const point of ['before the first QR', 'in the middle of the QR cycle', 'at the last QR']) {
    test(`a pair request ${point} yields a code usable for its whole life`, async () => {
      const { relay, bridge, fake } = await openPairingBridge({ startDelayMs: point === 'before the first QR' ? 150 : 20 });
      try {
        await relay.waitForReady(1);
        if (point !== 'before the first QR') {
          const qrs = point === 'at the last QR' ? 6 : 3;
          await waitUntil(() => relay.frames.filter((f) => f.type === 'qr').length >= qrs, 2000, `${qrs} QRs`);
        } else {
          assert.equal(relay.frames.filter((f) => f.type === 'qr').length, 0);
        }
        relay.send({ type: 'pair', ref: 'P', phone: PHONE });
        const code = await relay.waitForFrame((f) => f.type === 'pairing_code');
        const result = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'P');
        assert.equal(result.ok, true);
        assert.ok(Date.parse(code.expires_at) - Date.now() > CODE_LIFE_MS * 0.8);
        // The owner types the code near the end of its life.
        await sleep(CODE_LIFE_MS * 0.85);
        fake.apply({ op: 'enter_code', code: code.code });
        await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected', { timeoutMs: 2000 });
        assert.deepEqual(fake.records.filter((r) => r.op === 'code_rejected'), []);
        assert.equal(relay.frames.filter((f) => f.type === 'pairing_code').length, 1, 'the code was never replaced');
        assert.deepEqual(states(relay, 'stopped'), [], 'never ended with qr_timeout');
        assert.equal(new AuthStore(bridge.app.db, bridge.app.logger).isRegistered(), true);
      } finally {
        await bridge.app.stop();
        await relay.close();
      }
    });
  }

  test('an abandoned code leaves no half login: the next socket shows QRs again', async () => {
    const first = await openPairingBridge();
    let sessionDir = first.bridge.sessionDir;
    try {
      await first.relay.waitForFrame((f) => f.type === 'qr');
      first.relay.send({ type: 'pair', ref: 'P', phone: PHONE });
      await first.relay.waitForFrame((f) => f.type === 'pairing_code');
      const expired = await first.relay.waitForFrame(
        (f) => f.type === 'status' && f.reason === 'pairing_code_expired', { timeoutMs: 2000 });
      assert.equal(expired.state, 'waiting_qr');
      const { creds } = new AuthStore(first.bridge.app.db, first.bridge.app.logger).load();
      assert.equal(creds.me, undefined, 'the provisional me is gone');
    } finally {
      await first.bridge.app.stop();
      await first.relay.close();
    }
    const second = await openPairingBridge({ sessionDir });
    try {
      await second.relay.waitForFrame((f) => f.type === 'qr');
      assert.equal(second.fake.records.find((r) => r.op === 'socket_created')?.me, null);
      assert.deepEqual(states(second.relay, 'logged_out'), []);
    } finally {
      await second.bridge.app.stop();
      await second.relay.close();
    }
  });

  test('a pairing socket that runs out of QR refs while its code is out gets a new code, not qr_timeout', async () => {
    // Refs of 40 ms: the pairing socket dies at 240 ms, long before the code would expire.
    const { relay, bridge, fake } = await openPairingBridge({ pairingQrMs: 40 });
    try {
      await relay.waitForFrame((f) => f.type === 'qr');
      fake.apply({ op: 'pairing_code', code: 'CODE0001' });
      relay.send({ type: 'pair', ref: 'P', phone: PHONE });
      await relay.waitForFrame((f) => f.type === 'pairing_code');
      await waitUntil(() => relay.frames.filter((f) => f.type === 'pairing_code').length >= 2, 2000, 'a renewed code');
      const renewed = relay.frames.filter((f) => f.type === 'pairing_code').at(-1);
      fake.apply({ op: 'enter_code', code: renewed?.code });
      await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected', { timeoutMs: 2000 });
      assert.deepEqual(states(relay, 'stopped'), []);
      assert.equal(bridge.fake.maxLiveSockets, 1);
    } finally {
      await bridge.app.stop();
      await relay.close();
    }
  });

  test('pair is refused on an account linked by QR (Baileys never sets registered then)', async () => {
    const { relay, bridge, fake } = await openPairingBridge();
    try {
      await relay.waitForFrame((f) => f.type === 'qr');
      fake.apply({ op: 'open', phone: PHONE, name: 'Tienda' });
      await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected');
      relay.send({ type: 'pair', ref: 'P2', phone: PHONE });
      const result = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'P2');
      assert.deepEqual(result, { type: 'result', ref: 'P2', ok: false, error: 'already_registered' });
      assert.equal(fake.records.filter((r) => r.op === 'pairing_code_requested').length, 0);
    } finally {
      await bridge.app.stop();
      await relay.close();
    }
  });
});

describe('reconnect storms', () => {
  test('a WhatsApp connection closed right after opening is retried later each time', async () => {
    const relay = new FakeRelay();
    const bridge = await startBridge({
      relayUrl: await relay.listen(),
      overrides: { session: { backoff: { initialMs: 100, maxMs: 1600 }, stableAfterMs: 10_000, socketUpTimeoutMs: 2000 } },
    });
    try {
      await relay.waitForFrame((f) => f.type === 'qr');
      bridge.fake.apply({ op: 'open', phone: PHONE, name: 'Tienda' });
      /** @type {number[]} */
      const delays = [];
      for (let round = 0; round < 4; round++) {
        const mark = relay.frames.length;
        await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected', { since: mark - 1 });
        const created = bridge.fake.socketsCreated;
        const closedAt = Date.now();
        bridge.fake.apply({ op: 'close', code: 428, message: 'Connection Closed' });
        await waitUntil(() => bridge.fake.socketsCreated > created, 3000, 'reconnect');
        delays.push(Date.now() - closedAt);
        await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected', { since: mark });
      }
      // Delays are drawn from [ceiling/2, ceiling] with ceilings 100, 200, 400, 800 ms.
      assert.ok(delays[3] >= 400, `delays ${delays}`);
    } finally {
      await bridge.app.stop();
      await relay.close();
    }
  });

  test('a WhatsApp connection that stayed up starts the backoff over', async () => {
    const relay = new FakeRelay();
    const bridge = await startBridge({
      relayUrl: await relay.listen(),
      overrides: { session: { backoff: { initialMs: 100, maxMs: 1600 }, stableAfterMs: 300, socketUpTimeoutMs: 2000 } },
    });
    try {
      await relay.waitForFrame((f) => f.type === 'qr');
      bridge.fake.apply({ op: 'open', phone: PHONE, name: 'Tienda' });
      for (let round = 0; round < 3; round++) {
        const mark = relay.frames.length;
        bridge.fake.apply({ op: 'close', code: 428 });
        await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected', { since: mark, timeoutMs: 3000 });
      }
      await sleep(400);
      const created = bridge.fake.socketsCreated;
      const closedAt = Date.now();
      bridge.fake.apply({ op: 'close', code: 428 });
      await waitUntil(() => bridge.fake.socketsCreated > created, 3000, 'reconnect');
      assert.ok(Date.now() - closedAt < 200, 'back to the first delay');
    } finally {
      await bridge.app.stop();
      await relay.close();
    }
  });

  test('a relay that drops the link right after welcome is not hammered', async () => {
    const relay = new FakeRelay();
    relay.on('frame', (frame, connection) => {
      if (frame.type === 'hello') setImmediate(() => connection.ws.close(1011, 'relay failed on a frame'));
    });
    const bridge = await startBridge({
      relayUrl: await relay.listen(),
      overrides: { relay: { backoff: { initialMs: 50, maxMs: 1600 }, pingIntervalMs: 1000, silenceTimeoutMs: 3000, stableAfterMs: 10_000 } },
    });
    try {
      await sleep(1200);
      // Ceilings 50, 100, 200, 400, 800 ms: at most about six connections in 1.2 s.
      assert.ok(relay.connections.length <= 7, `${relay.connections.length} connections`);
      assert.ok(relay.connections.length >= 3);
    } finally {
      await bridge.app.stop();
      await relay.close();
    }
  });
});
