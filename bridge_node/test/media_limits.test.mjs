// @ts-check
/**
 * Media through the whole bridge, at and past the size limits, from lying or stalled
 * senders, and from chats whose media nobody wants.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import path from 'node:path';
import { MessageOutbox } from '../src/message_outbox.mjs';
import { MAX_FRAME_BYTES, MAX_MEDIA_BYTES } from '../src/protocol.mjs';
import { openSessionDatabase } from '../src/session_database.mjs';
import { FakeRelay } from './support/fake_relay.mjs';
import { closeBridge, sleep, startBridge, tempDir, waitUntil } from './support/bridge_harness.mjs';
import { CUSTOMER_PN, fixture, messageFrames, openOwnerBridge, replay } from './support/real_shapes.mjs';

const MIB = 1024 * 1024;

describe('media size limits', () => {
  /** @type {Awaited<ReturnType<typeof openOwnerBridge>>} */
  let opened;
  beforeEach(async () => { opened = await openOwnerBridge({ overrides: {
    session: { backoff: { initialMs: 50, maxMs: 200 }, socketUpTimeoutMs: 2000 }, mediaTimeoutMs: 300,
  } }); });
  afterEach(() => closeBridge(opened));

  /** @param {string} name */
  const downloadsOf = (name) => opened.bridge.fake.records.filter((r) => r.op === 'download' && r.id === fixture(name).key.id);

  test('the limits agree: media at the limit fits a frame with room for the envelope', () => {
    const base64 = Math.ceil(MAX_MEDIA_BYTES / 3) * 4;
    assert.ok(MAX_FRAME_BYTES - base64 >= MIB, `${MAX_FRAME_BYTES - base64} bytes left`);
  });

  test('a 15.5 MiB voice note arrives without its bytes and does not hold the messages behind it', async () => {
    const { relay, bridge } = opened;
    bridge.fake.apply(replay('voice_note', { media_size: 15.5 * MIB }));
    bridge.fake.apply({ op: 'message', id: 'AFTER-BIG', chat: CUSTOMER_PN, text: 'hola?' });
    const voice = await relay.waitForFrame((f) => f.id === fixture('voice_note').key.id);
    assert.equal(voice.kind, 'audio');
    assert.equal(voice.media, undefined);
    assert.equal(voice.media_omitted, 'too_large');
    await relay.waitForFrame((f) => f.id === 'AFTER-BIG');
    assert.equal(relay.connections.length, 1, 'the relay link never broke');
  });

  test('a voice note of exactly the limit carries its bytes', async () => {
    const { relay, bridge } = opened;
    bridge.fake.apply({ op: 'message', id: 'AT-LIMIT', chat: CUSTOMER_PN, kind: 'audio', media_size: MAX_MEDIA_BYTES, seconds: 900 });
    const voice = await relay.waitForFrame((f) => f.id === 'AT-LIMIT', { timeoutMs: 10_000 });
    assert.equal(Buffer.from(voice.media.data_base64, 'base64').length, MAX_MEDIA_BYTES);
  });

  test('a download bigger than its declared size is cut off at the limit', async () => {
    // The size check used to trust the sender's fileLength and Baileys' 'buffer' download
    // (Utils/messages.js downloadMediaMessage) reads everything into memory first.
    const { relay, bridge } = opened;
    bridge.fake.apply(replay('media_bomb', { media_size: 40 * MIB }));
    const frame = await relay.waitForFrame((f) => f.id === fixture('media_bomb').key.id);
    assert.equal(frame.media_omitted, 'too_large');
    assert.equal(downloadsOf('media_bomb').length, 1);
    const aborted = bridge.fake.records.find((r) => r.op === 'download_aborted' && r.id === fixture('media_bomb').key.id);
    assert.ok(aborted, 'the download was abandoned');
    assert.ok(aborted.bytes_sent < MAX_MEDIA_BYTES + MIB, `read ${aborted.bytes_sent} bytes`);
  });

  test('a stalled download is given up after the timeout and the next message flows', async () => {
    const { relay, bridge } = opened;
    bridge.fake.apply({ op: 'message', id: 'STALLED', chat: CUSTOMER_PN, kind: 'audio', media_size: 100, download_stall: true });
    bridge.fake.apply({ op: 'message', id: 'AFTER-STALL', chat: CUSTOMER_PN, text: 'sigo aquí' });
    const stalled = await relay.waitForFrame((f) => f.id === 'STALLED', { timeoutMs: 2000 });
    assert.equal(stalled.media_omitted, 'download_timeout');
    await relay.waitForFrame((f) => f.id === 'AFTER-STALL');
  });

  test('status and newsletter messages are dropped by Baileys before decryption', async () => {
    // Socket/messages-recv.js processNode acks and drops a stanza whose chat matches the
    // socket's shouldIgnoreJid before anything is decrypted or downloaded.
    const { relay, bridge } = opened;
    bridge.fake.apply(replay('status_voice_note', { media_size: 10 }));
    bridge.fake.apply({ op: 'message', id: 'NEWS', chat: '120363111111111111@newsletter', text: 'promo' });
    bridge.fake.apply({ op: 'message', id: 'AFTER-STATUS', chat: CUSTOMER_PN, text: 'x' });
    await relay.waitForFrame((f) => f.id === 'AFTER-STATUS');
    const ignored = bridge.fake.records.filter((r) => r.op === 'ignored').map((r) => r.jid);
    assert.deepEqual(ignored, ['status@broadcast', '120363111111111111@newsletter']);
    assert.deepEqual(downloadsOf('status_voice_note'), []);
    assert.deepEqual(messageFrames(relay).map((f) => f.id), ['AFTER-STATUS']);
  });

  test('with groups off the bridge downloads no group media and says why', async () => {
    const { relay, bridge } = opened;
    relay.send({ type: 'config', config: { groups: false } });
    await sleep(50);
    bridge.fake.apply(replay('group_voice_note', { media_size: 10 }));
    const off = await relay.waitForFrame((f) => f.id === fixture('group_voice_note').key.id);
    assert.equal(off.is_group, true);
    assert.equal(off.media, undefined);
    assert.equal(off.media_omitted, 'groups_off');
    assert.deepEqual(downloadsOf('group_voice_note'), []);
    relay.send({ type: 'config', config: { groups: true } });
    await sleep(50);
    bridge.fake.apply(replay('group_voice_note', { id: 'GROUP-ON', media_size: 10 }));
    const on = await relay.waitForFrame((f) => f.id === 'GROUP-ON');
    assert.equal(Buffer.from(on.media.data_base64, 'base64').length, 10);
  });
});

describe('frames from an older bridge', () => {
  test('an unacked frame too big for the relay is resent without its media, and the rest follow', async () => {
    const dir = tempDir();
    const sessionDir = path.join(dir, 'session');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sessionDir, { recursive: true });
    const db = openSessionDatabase(sessionDir);
    const outbox = new MessageOutbox(db);
    const base = { type: 'message', chat: CUSTOMER_PN, sender: CUSTOMER_PN, from_me: false, sent_by_bridge: false, timestamp: 1, is_group: false };
    outbox.add(/** @type {any} */ ({ ...base, id: 'OLD-BIG', kind: 'audio', media: { mime: 'audio/ogg', data_base64: 'A'.repeat(21 * MIB) } }));
    outbox.add(/** @type {any} */ ({ ...base, id: 'OLD-SMALL', kind: 'text', text: 'hola' }));
    db.close();
    const relay = new FakeRelay();
    const bridge = await startBridge({ relayUrl: await relay.listen(), sessionDir });
    try {
      await waitUntil(() => relay.frames.some((f) => f.id === 'OLD-SMALL'), 5000, 'the frame behind the big one');
      const big = relay.frames.find((f) => f.id === 'OLD-BIG');
      assert.equal(big?.media_omitted, 'too_large');
      assert.equal(relay.connections.length, 1);
    } finally {
      await bridge.app.stop();
      await relay.close();
    }
  });
});
