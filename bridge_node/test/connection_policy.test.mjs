// @ts-check
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { decideAfterClose } from '../src/connection_policy.mjs';
import { AuthStore } from '../src/auth_state.mjs';
import { FakeRelay } from './support/fake_relay.mjs';
import { closeBridge, openBridge, sleep, startBridge, waitUntil } from './support/bridge_harness.mjs';

describe('decideAfterClose', () => {
  test('maps each disconnect reason to its action', () => {
    assert.equal(decideAfterClose(515).action, 'reconnect_now');
    assert.equal(decideAfterClose(401).action, 'relogin');
    assert.equal(decideAfterClose(402).action, 'temporary_ban');
    assert.equal(decideAfterClose(403).action, 'relogin');
    assert.equal(decideAfterClose(406).action, 'banned');
    assert.equal(decideAfterClose(440).action, 'replaced');
    assert.equal(decideAfterClose(405).action, 'refresh_version');
    assert.equal(decideAfterClose(408, 'QR refs attempts ended').action, 'qr_timeout');
    assert.equal(decideAfterClose(408, 'Connection was lost').action, 'back_off');
    assert.equal(decideAfterClose(428).action, 'back_off');
    assert.equal(decideAfterClose(undefined).action, 'back_off');
  });
});

describe('WhatsApp disconnects', () => {
  /** @type {FakeRelay} */
  let relay;
  /** @type {Awaited<ReturnType<typeof startBridge>>} */
  let bridge;

  beforeEach(async () => ({ relay, bridge } = await openBridge()));
  afterEach(async () => {
    await closeBridge({ relay, bridge });
    assert.equal(bridge.fake.maxLiveSockets, 1, 'never two WhatsApp sockets at once');
  });

  /** @param {string} state @param {number} [since] */
  const statusAfter = (state, since = 0) =>
    relay.waitForFrame((f) => f.type === 'status' && f.state === state, { since });

  test('515 restart required reconnects at once with the same login', async () => {
    const mark = relay.frames.length;
    const created = bridge.fake.socketsCreated;
    const startedAt = Date.now();
    bridge.fake.apply({ op: 'close', code: 515 });
    await statusAfter('connected', mark);
    assert.equal(bridge.fake.socketsCreated, created + 1);
    assert.equal(bridge.fake.records.filter((r) => r.op === 'socket_created').at(-1)?.registered, true);
    assert.ok(Date.now() - startedAt < 500, 'no backoff delay');
    assert.ok(!relay.frames.slice(mark).some((f) => f.state === 'logged_out'));
  });

  test('401 logged out wipes the session, reports logged_out and starts a fresh login', async () => {
    const mark = relay.frames.length;
    bridge.fake.apply({ op: 'close', code: 401 });
    const loggedOut = await statusAfter('logged_out', mark);
    assert.equal(loggedOut.reason, 'logged_out');
    await relay.waitForFrame((f) => f.type === 'qr', { since: mark });
    await statusAfter('waiting_qr', mark);
    assert.equal(bridge.fake.records.filter((r) => r.op === 'socket_created').at(-1)?.registered, false);
    assert.equal(new AuthStore(bridge.app.db, bridge.app.logger).isRegistered(), false);
  });

  // WhatsApp's failure reason is the close status code and the failure node's attributes
  // are the error's data: Baileys' Socket/socket.js, `ws.on('CB:failure')` ends with
  // Boom('Connection Failure', {statusCode: +attrs.reason, data: attrs}).

  test('402 temporarily banned reports banned with the expiry, then reconnects after it', async () => {
    const mark = relay.frames.length;
    const created = bridge.fake.socketsCreated;
    const closedAt = Date.now();
    bridge.fake.apply({ op: 'close', code: 402, message: 'Connection Failure', data: { reason: '402', expire: '1', code: '101' } });
    const status = await statusAfter('banned', mark);
    assert.equal(status.reason, 'temporarily_banned');
    const until = Date.parse(status.until);
    assert.ok(Math.abs(until - (closedAt + 1000)) < 300, `until ${status.until}`);
    await sleep(600);
    assert.equal(bridge.fake.socketsCreated, created, 'waits out the ban');
    await statusAfter('connected', mark);
    assert.ok(Date.now() >= until, 'reconnected only after the expiry');
    assert.equal(bridge.fake.records.filter((r) => r.op === 'socket_created').at(-1)?.registered, true, 'login kept');
  });

  test('406 banned reports banned and stops reconnecting, keeping the relay link', async () => {
    const mark = relay.frames.length;
    const created = bridge.fake.socketsCreated;
    bridge.fake.apply({ op: 'close', code: 406, message: 'Connection Failure', data: { reason: '406' } });
    const status = await statusAfter('banned', mark);
    assert.equal(status.reason, 'banned');
    assert.equal(status.until, undefined);
    await sleep(400);
    assert.equal(bridge.fake.socketsCreated, created);
    assert.equal(relay.current.closeCode, undefined);
    relay.send({ type: 'send', ref: 'after-ban', chat: '56922223333@s.whatsapp.net', text: 'hola' });
    const result = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'after-ban');
    assert.deepEqual(result, { type: 'result', ref: 'after-ban', ok: false, error: 'not_connected' });
  });

  test('403 primary device gone is logged_out: session wiped, fresh login offered', async () => {
    const mark = relay.frames.length;
    bridge.fake.apply({ op: 'close', code: 403, message: 'Connection Failure', data: { reason: '403' } });
    const status = await statusAfter('logged_out', mark);
    assert.equal(status.reason, 'primary_device_gone');
    await relay.waitForFrame((f) => f.type === 'qr', { since: mark });
    assert.equal(bridge.fake.records.filter((r) => r.op === 'socket_created').at(-1)?.registered, false);
    assert.equal(new AuthStore(bridge.app.db, bridge.app.logger).isRegistered(), false);
    assert.ok(!relay.frames.slice(mark).some((f) => f.state === 'banned'));
  });

  test('440 connection replaced backs off for the long delay before trying again', async () => {
    const mark = relay.frames.length;
    const created = bridge.fake.socketsCreated;
    const startedAt = Date.now();
    bridge.fake.apply({ op: 'close', code: 440 });
    const status = await statusAfter('reconnecting', mark);
    assert.equal(status.reason, 'connection_replaced');
    await sleep(400);
    assert.equal(bridge.fake.socketsCreated, created, 'does not fight the other client');
    await statusAfter('connected', mark);
    assert.ok(Date.now() - startedAt >= 800, 'waited the replaced delay');
  });

  test('408 with QR refs attempts ended reports stopped qr_timeout and stops the bridge', async () => {
    const mark = relay.frames.length;
    bridge.fake.apply({ op: 'qr_timeout' });
    const status = await statusAfter('stopped', mark);
    assert.equal(status.reason, 'qr_timeout');
    assert.equal(await bridge.app.exited, 'qr_timeout');
  });

  test('405 fetches the latest WhatsApp Web version before retrying', async () => {
    const mark = relay.frames.length;
    bridge.fake.apply({ op: 'close', code: 405 });
    assert.equal((await statusAfter('reconnecting', mark)).reason, 'outdated_version');
    await statusAfter('connected', mark);
    const records = bridge.fake.records;
    const fetched = records.findIndex((r) => r.op === 'version_fetched');
    assert.ok(fetched >= 0);
    const retried = records.slice(fetched).find((r) => r.op === 'socket_created');
    assert.deepEqual(retried?.version, [2, 3000, 1999999999]);
  });

  test('any other close (428, plain 408) backs off and reconnects', async () => {
    let mark = relay.frames.length;
    bridge.fake.apply({ op: 'close', code: 428 });
    assert.equal((await statusAfter('reconnecting', mark)).reason, 'closed_428');
    await statusAfter('connected', mark);
    mark = relay.frames.length;
    bridge.fake.apply({ op: 'close', code: 408, message: 'Connection was lost' });
    assert.equal((await statusAfter('reconnecting', mark)).reason, 'timed_out');
    await statusAfter('connected', mark);
    await waitUntil(() => bridge.fake.socketsCreated === 3, 1000, 'two reconnections');
  });
});
