// @ts-check
/**
 * Messages as real WhatsApp sends them (test/fixtures), replayed through the whole bridge.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { proto } from 'baileys';
import { fromRaw } from '../src/fake_socket.mjs';
import { OFFLINE_WINDOW_SECONDS } from '../src/message_normaliser.mjs';
import { closeBridge, sleep, waitUntil } from './support/bridge_harness.mjs';
import {
  CUSTOMER_LID, CUSTOMER_PN, OWNER_LID, OWNER_PN, fixture, messageFrames, openOwnerBridge, replay,
} from './support/real_shapes.mjs';

describe('fixtures', () => {
  test('every fixture is a WAMessage whose content is a valid proto.Message', () => {
    const names = fs.readdirSync(new URL('./fixtures/', import.meta.url)).filter((f) => f.endsWith('.json'));
    assert.ok(names.length >= 20);
    for (const name of names) {
      const raw = fixture(name.replace(/\.json$/, ''));
      const { message } = fromRaw({ raw });
      // Every field survives encoding: it exists in WAProto with a fitting type.
      const decoded = proto.Message.toObject(proto.Message.decode(proto.Message.encode(/** @type {any} */ (message.message)).finish()));
      assert.deepEqual(missingFields(raw.message, decoded), [], name);
      assert.ok(raw.key.remoteJid && raw.key.id, name);
    }
  });
});

/**
 * Paths of `raw` that `decoded` lacks.
 * @param {Record<string, any>} raw
 * @param {Record<string, any>} decoded
 * @param {string} [path]
 * @returns {string[]}
 */
function missingFields(raw, decoded, path = '') {
  return Object.entries(raw).flatMap(([key, value]) => {
    const here = `${path}.${key}`;
    if (decoded?.[key] === undefined) return [here];
    const isBuffer = value?.type === 'Buffer';
    return value && typeof value === 'object' && !isBuffer && !Array.isArray(value) ? missingFields(value, decoded[key], here) : [];
  });
}

describe('what real WhatsApp sends', () => {
  /** @type {Awaited<ReturnType<typeof openOwnerBridge>>} */
  let opened;
  beforeEach(async () => { opened = await openOwnerBridge(); });
  afterEach(() => closeBridge(opened));

  /** @param {string} text */
  const marker = async (text) => {
    opened.bridge.fake.apply({ op: 'message', id: `MARK-${text}`, chat: CUSTOMER_PN, text });
    return opened.relay.waitForFrame((f) => f.id === `MARK-${text}`);
  };

  test('reactions, poll votes, pins, keep-in-chat and revokes are not forwarded, an owner reaction neither', async () => {
    // Field names from WAProto.proto (message Message); Baileys' getContentType
    // (Utils/messages.js) picks them as the content type, so they came out as kind `other`.
    const names = ['reaction', 'reaction_by_owner', 'poll_update', 'pin', 'keep_in_chat', 'revoke'];
    for (const name of names) opened.bridge.fake.apply(replay(name));
    await marker('after');
    const ids = new Set(names.map((n) => fixture(n).key.id));
    assert.deepEqual(messageFrames(opened.relay).filter((f) => ids.has(f.id)), []);
    assert.deepEqual(messageFrames(opened.relay).map((f) => f.id), ['MARK-after']);
  });

  test('edits in either wrapper are dropped: the relay has the original already', async () => {
    // Baileys' normalizeMessageContent (Utils/messages.js) unwraps editedMessage to a
    // protocolMessage of type MESSAGE_EDIT; newer clients send that protocolMessage bare.
    opened.bridge.fake.apply({ op: 'message', id: '3A1F0C7E2D9B4A6C8E00', chat: CUSTOMER_PN, text: 'hola, quiero 2 empanadas' });
    opened.bridge.fake.apply(replay('edit_edited_message'));
    opened.bridge.fake.apply(replay('edit_protocol_message'));
    await marker('after-edits');
    assert.deepEqual(messageFrames(opened.relay).map((f) => [f.id, f.text]), [
      ['3A1F0C7E2D9B4A6C8E00', 'hola, quiero 2 empanadas'], ['MARK-after-edits', 'after-edits'],
    ]);
  });

  test('a 1:1 chat is one chat under LID or phone form; replies go where the chat was last seen', async () => {
    const { relay, bridge } = opened;
    // Baileys 7 (Utils/decode-wa-message.js decodeMessageNode) names the chat by the stanza's
    // form and puts the sender's other form in remoteJidAlt; handleMessage stores the pair
    // in its LID store (Signal/lid-mapping.js), which getPNForLID reads later.
    bridge.fake.apply(replay('lid_with_alt'));
    const first = await relay.waitForFrame((f) => f.id === fixture('lid_with_alt').key.id);
    assert.equal(first.chat, CUSTOMER_PN);
    assert.equal(first.sender, CUSTOMER_PN);
    assert.equal(first.sender_phone, '56933334444');
    // The owner answers from the phone in the LID chat: remoteJidAlt is the owner's number,
    // and Baileys stores it against the customer's LID; the chat must still be the customer's.
    bridge.fake.apply(replay('owner_in_customer_chat_lid'));
    const owner = await relay.waitForFrame((f) => f.id === fixture('owner_in_customer_chat_lid').key.id);
    assert.equal(owner.chat, CUSTOMER_PN);
    assert.equal(owner.sender, OWNER_PN);
    assert.equal(owner.from_me, true);
    bridge.fake.apply(replay('lid_without_alt'));
    const second = await relay.waitForFrame((f) => f.id === fixture('lid_without_alt').key.id);
    assert.equal(second.chat, CUSTOMER_PN);
    assert.equal(second.sender_phone, '56933334444');

    relay.send({ type: 'send', ref: 'TO-LID', chat: CUSTOMER_PN, text: 'sí, tenemos' });
    await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'TO-LID');
    bridge.fake.apply({ op: 'message', id: 'PN-FORM', chat: CUSTOMER_PN, text: 'gracias' });
    await relay.waitForFrame((f) => f.id === 'PN-FORM');
    relay.send({ type: 'send', ref: 'TO-PN', chat: CUSTOMER_PN, text: 'de nada' });
    await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'TO-PN');
    const sent = bridge.fake.records.filter((r) => r.op === 'sent').map((r) => [r.text, r.chat]);
    assert.deepEqual(sent, [['sí, tenemos', CUSTOMER_LID], ['de nada', CUSTOMER_PN]]);
  });

  test('a LID chat known only through Baileys\' LID store is reported as the phone chat', async () => {
    opened.bridge.fake.apply({ op: 'lid_mapping', lid: CUSTOMER_LID, pn: CUSTOMER_PN });
    opened.bridge.fake.apply(replay('lid_without_alt'));
    const frame = await opened.relay.waitForFrame((f) => f.id === fixture('lid_without_alt').key.id);
    assert.equal(frame.chat, CUSTOMER_PN);
    assert.equal(frame.sender_phone, '56933334444');
  });

  test('the owner\'s own chat is the phone chat in LID and PN form; an unknown LID chat stays LID', async () => {
    const { relay, bridge } = opened;
    for (const name of ['owner_own_chat_lid', 'owner_own_chat_pn', 'owner_in_customer_chat_pn']) bridge.fake.apply(replay(name));
    await marker('own');
    const byId = (/** @type {string} */ name) => messageFrames(relay).find((f) => f.id === fixture(name).key.id);
    assert.equal(byId('owner_own_chat_lid')?.chat, OWNER_PN);
    assert.equal(byId('owner_own_chat_pn')?.chat, OWNER_PN);
    assert.equal(byId('owner_in_customer_chat_pn')?.chat, CUSTOMER_PN);
    assert.equal(byId('owner_in_customer_chat_pn')?.sender, OWNER_PN);
    bridge.fake.apply(replay('lid_without_alt'));
    const unknown = await relay.waitForFrame((f) => f.id === fixture('lid_without_alt').key.id);
    assert.equal(unknown.chat, CUSTOMER_LID);
    assert.equal(unknown.sender_phone, undefined);
    assert.ok(OWNER_LID.endsWith('@lid'));
  });

  test('an owner message older than the offline window is not forwarded; a recent one is, as backlog', async () => {
    // Socket/messages-recv.js handleMessage upserts stanzas WhatsApp kept while this device
    // was offline as `append`, live ones as `notify`.
    const { relay, bridge } = opened;
    const now = Math.floor(Date.now() / 1000);
    bridge.fake.apply(replay('owner_in_customer_chat_pn', { id: 'OLD-PAUSE', upsert_type: 'append', timestamp: now - OFFLINE_WINDOW_SECONDS - 60 }));
    bridge.fake.apply(replay('owner_in_customer_chat_pn', { id: 'RECENT-PAUSE', upsert_type: 'append', timestamp: now - 600 }));
    bridge.fake.apply(replay('owner_in_customer_chat_pn', { id: 'LIVE-PAUSE' }));
    await relay.waitForFrame((f) => f.id === 'LIVE-PAUSE');
    const frames = messageFrames(relay);
    assert.equal(frames.find((f) => f.id === 'OLD-PAUSE'), undefined);
    assert.equal(frames.find((f) => f.id === 'RECENT-PAUSE')?.backlog, true);
    assert.equal(frames.find((f) => f.id === 'LIVE-PAUSE')?.backlog, undefined);
  });
});

describe('messages still being processed when WhatsApp drops', () => {
  test('an owner message keeps its author and a voice note its audio after the socket is gone', async () => {
    const opened = await openOwnerBridge({
      overrides: { session: { backoff: { initialMs: 5000, maxMs: 5000 }, socketUpTimeoutMs: 2000 } },
    });
    const { relay, bridge } = opened;
    try {
      // A slow download keeps the next messages queued until after the close.
      bridge.fake.apply({ op: 'message', id: 'SLOW-IMG', chat: CUSTOMER_PN, kind: 'image', media_size: 1000, download_delay_ms: 300 });
      bridge.fake.apply(replay('owner_in_customer_chat_pn', { id: 'OWNER-AFTER-DROP' }));
      bridge.fake.apply({ op: 'message', id: 'VOICE-AFTER-DROP', chat: CUSTOMER_PN, kind: 'audio', audio_base64: Buffer.from('OggS-voice').toString('base64') });
      await sleep(50);
      bridge.fake.apply({ op: 'close', code: 428, message: 'Connection Closed' });
      await relay.waitForFrame((f) => f.type === 'status' && f.state === 'reconnecting');
      const owner = await relay.waitForFrame((f) => f.id === 'OWNER-AFTER-DROP');
      assert.equal(owner.sender, OWNER_PN, 'not taken for the customer');
      assert.equal(owner.chat, CUSTOMER_PN);
      assert.equal(owner.sender_phone, '56911112222');
      const voice = await relay.waitForFrame((f) => f.id === 'VOICE-AFTER-DROP');
      assert.equal(voice.media?.data_base64, Buffer.from('OggS-voice').toString('base64'));
      await waitUntil(() => !bridge.app.session.socket, 1000, 'socket gone');
    } finally {
      await closeBridge(opened);
    }
  });
});
