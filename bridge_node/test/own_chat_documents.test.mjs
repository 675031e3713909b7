// @ts-check
/**
 * Documents the owner sends to the account's own chat ("Message yourself") carry their
 * bytes, so the relay can add them to the assistant's knowledge (`aprende`); customers'
 * documents, and the owner's documents in a customer chat, are still announced without them.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MAX_MEDIA_BYTES } from '../src/protocol.mjs';
import { closeBridge } from './support/bridge_harness.mjs';
import { CUSTOMER_PN, OWNER_PN, fixture, openOwnerBridge, replay } from './support/real_shapes.mjs';

const MIB = 1024 * 1024;
const PDF = Buffer.from('%PDF-1.7\n% menú de verano: empanadas, pan amasado\n%%EOF\n');

describe('documents in the own chat', () => {
  /** @type {Awaited<ReturnType<typeof openOwnerBridge>>} */
  let opened;
  beforeEach(async () => { opened = await openOwnerBridge(); });
  afterEach(() => closeBridge(opened));

  /** @param {string} id */
  const downloadsOf = (id) => opened.bridge.fake.records.filter((r) => r.op === 'download' && r.id === id);

  test('a captioned document written to the own chat (LID form) carries mime, bytes and file name', async () => {
    // The phone sends a captioned document as documentWithCaptionMessage wrapping a
    // documentMessage (WAProto.proto: Message.documentWithCaptionMessage is a
    // FutureProofMessage; DocumentMessage has mimetype, fileLength, fileName, caption);
    // Baileys' normalizeMessageContent and downloadMediaMessage (Utils/messages.js) unwrap it.
    const { relay, bridge } = opened;
    const id = fixture('owner_own_chat_document').key.id;
    bridge.fake.apply(replay('owner_own_chat_document', { media_base64: PDF.toString('base64') }));
    const frame = await relay.waitForFrame((f) => f.id === id);
    assert.equal(frame.chat, OWNER_PN);
    assert.equal(frame.from_me, true);
    assert.equal(frame.kind, 'document');
    assert.equal(frame.text, 'aprende');
    assert.deepEqual(frame.media, { mime: 'application/pdf', data_base64: PDF.toString('base64'), file_name: 'menu-verano.pdf' });
    assert.equal(frame.media_omitted, undefined);
  });

  test('an uncaptioned document in the own chat (phone form) comes with its bytes and no text', async () => {
    const { relay, bridge } = opened;
    const sheet = Buffer.from('PK\u0003\u0004 precios');
    bridge.fake.apply({
      op: 'message', id: 'OWN-SHEET', chat: OWNER_PN, from_me: true, kind: 'document', file_name: 'precios.xlsx',
      mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', media_base64: sheet.toString('base64'),
    });
    const frame = await relay.waitForFrame((f) => f.id === 'OWN-SHEET');
    assert.equal(frame.text, undefined);
    assert.deepEqual(frame.media, {
      mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      data_base64: sheet.toString('base64'),
      file_name: 'precios.xlsx',
    });
  });

  test('an own-chat document declared over the limit comes without bytes and is not downloaded', async () => {
    const { relay, bridge } = opened;
    const raw = fixture('owner_own_chat_document');
    raw.key.id = 'OWN-DECLARED-BIG';
    raw.message.documentWithCaptionMessage.message.documentMessage.fileLength = String(20 * MIB);
    bridge.fake.apply({ op: 'message', raw, timestamp: Math.floor(Date.now() / 1000), media_size: 10 });
    const frame = await relay.waitForFrame((f) => f.id === 'OWN-DECLARED-BIG');
    assert.equal(frame.kind, 'document');
    assert.equal(frame.text, 'aprende');
    assert.equal(frame.media, undefined);
    assert.equal(frame.media_omitted, 'too_large');
    assert.deepEqual(downloadsOf('OWN-DECLARED-BIG'), []);
  });

  test('an own-chat document bigger than it declared is cut off at the limit while downloading', async () => {
    const { relay, bridge } = opened;
    bridge.fake.apply(replay('owner_own_chat_document', { id: 'OWN-LYING', media_size: MAX_MEDIA_BYTES + MIB }));
    const frame = await relay.waitForFrame((f) => f.id === 'OWN-LYING', { timeoutMs: 10_000 });
    assert.equal(frame.media, undefined);
    assert.equal(frame.media_omitted, 'too_large');
    const aborted = bridge.fake.records.find((r) => r.op === 'download_aborted' && r.id === 'OWN-LYING');
    assert.ok(aborted, 'the download was abandoned');
  });

  test('a customer\'s document and the owner\'s document in a customer chat come without bytes', async () => {
    const { relay, bridge } = opened;
    const customerId = fixture('document_with_caption').key.id;
    bridge.fake.apply(replay('document_with_caption', { media_size: 100 }));
    bridge.fake.apply({ op: 'message', id: 'OWNER-DOC-TO-CUSTOMER', chat: CUSTOMER_PN, from_me: true, kind: 'document',
      text: 'tu factura', media_size: 100 });
    const customer = await relay.waitForFrame((f) => f.id === customerId);
    assert.equal(customer.kind, 'document');
    assert.equal(customer.text, 'la factura de ayer');
    assert.equal(customer.media, undefined);
    assert.equal(customer.media_omitted, undefined);
    const owner = await relay.waitForFrame((f) => f.id === 'OWNER-DOC-TO-CUSTOMER');
    assert.equal(owner.chat, CUSTOMER_PN);
    assert.equal(owner.media, undefined);
    assert.deepEqual([...downloadsOf(customerId), ...downloadsOf('OWNER-DOC-TO-CUSTOMER')], []);
  });
});
