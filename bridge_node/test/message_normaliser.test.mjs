// @ts-check
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Readable } from 'node:stream';
import pino from 'pino';
import { buildWAMessage } from '../src/fake_socket.mjs';
import { OFFLINE_WINDOW_SECONDS, isForwarded, normaliseMessage } from '../src/message_normaliser.mjs';

const ME = { jid: '56911112222:7@s.whatsapp.net', lid: '99911112222:7@lid', name: 'Tienda' };

/**
 * Normalise a fake-socket message action through the real code.
 * @param {Record<string, any>} action
 * @param {{sentByBridge?: string[], maxMediaBytes?: number, lids?: Record<string, string>}} [options]
 */
async function normalise(action, options = {}) {
  const { message, media } = buildWAMessage({ id: 'MSG1', chat: '56933334444@s.whatsapp.net', ...action });
  let downloads = 0;
  const frame = await normaliseMessage(message, {
    me: ME,
    isSentByBridge: (id) => (options.sentByBridge ?? []).includes(id),
    phoneJidForLid: async (lid) => options.lids?.[lid],
    openMediaStream: async () => {
      downloads += 1;
      if (!media) throw new Error('no media');
      return Readable.from([media]);
    },
    logger: pino({ level: 'silent' }),
    maxMediaBytes: options.maxMediaBytes,
  });
  return { frame, downloads };
}

describe('message normalisation', () => {
  test('a text from a contact fills every field', async () => {
    const { frame } = await normalise({ text: 'hola', push_name: 'Ana', timestamp: 1700000000 });
    assert.deepEqual(frame, {
      type: 'message', id: 'MSG1', chat: '56933334444@s.whatsapp.net', sender: '56933334444@s.whatsapp.net',
      sender_phone: '56933334444', from_me: false, sent_by_bridge: false, push_name: 'Ana',
      timestamp: 1700000000, is_group: false, kind: 'text', text: 'hola',
    });
  });

  test('an image caption becomes the text and the image travels as media', async () => {
    const data = Buffer.from('fake-jpeg-bytes');
    const { frame } = await normalise({ kind: 'image', text: 'mira esto', image_base64: data.toString('base64') });
    assert.equal(frame?.kind, 'image');
    assert.equal(frame?.text, 'mira esto');
    assert.deepEqual(frame?.media, { mime: 'image/jpeg', data_base64: data.toString('base64') });
  });

  test('a voice note carries its mime, bytes and seconds', async () => {
    const data = Buffer.from('OggS-fake-opus');
    const { frame } = await normalise({ kind: 'audio', audio_base64: data.toString('base64'), seconds: 7 });
    assert.equal(frame?.kind, 'audio');
    assert.equal(frame?.text, undefined);
    assert.deepEqual(frame?.media, { mime: 'audio/ogg; codecs=opus', data_base64: data.toString('base64'), seconds: 7 });
  });

  test('media over the size limit is announced without its bytes and not downloaded', async () => {
    const { frame, downloads } = await normalise({ kind: 'audio', media_size: 2048 }, { maxMediaBytes: 1024 });
    assert.equal(frame?.kind, 'audio');
    assert.equal(frame?.media, undefined);
    assert.equal(frame?.media_omitted, 'too_large');
    assert.equal(downloads, 0);
  });

  test('video and documents are announced by kind with their caption, without media', async () => {
    const video = await normalise({ kind: 'video', text: 'clip', media_size: 10 });
    assert.equal(video.frame?.kind, 'video');
    assert.equal(video.frame?.text, 'clip');
    assert.equal(video.frame?.media, undefined);
    const doc = await normalise({ kind: 'document', text: 'factura', wrap: 'document_with_caption' });
    assert.equal(doc.frame?.kind, 'document');
    assert.equal(doc.frame?.text, 'factura');
  });

  test('stickers, locations and contacts get their kinds', async () => {
    assert.equal((await normalise({ kind: 'sticker' })).frame?.kind, 'sticker');
    assert.equal((await normalise({ kind: 'location' })).frame?.kind, 'location');
    assert.equal((await normalise({ kind: 'contact' })).frame?.kind, 'contact');
  });

  test('a group message names the participant as sender', async () => {
    const { frame } = await normalise({
      chat: '120363000000000001@g.us', sender: '56955556666@s.whatsapp.net', text: 'hola grupo',
    });
    assert.equal(frame?.is_group, true);
    assert.equal(frame?.chat, '120363000000000001@g.us');
    assert.equal(frame?.sender, '56955556666@s.whatsapp.net');
    assert.equal(frame?.sender_phone, '56955556666');
  });

  test('an @lid chat is reported as the phone chat named by the PN alternative Baileys 7 attaches', async () => {
    const { frame } = await normalise({ chat: '123456789012345@lid', sender_pn: '56977778888', text: 'hola' });
    assert.equal(frame?.chat, '56977778888@s.whatsapp.net');
    assert.equal(frame?.sender, '56977778888@s.whatsapp.net');
    assert.equal(frame?.sender_phone, '56977778888');
  });

  test('an @lid group participant takes the phone from participantAlt', async () => {
    const { frame } = await normalise({
      chat: '120363000000000001@g.us', sender: '22233344455566@lid', sender_pn: '56912121212', text: 'x',
    });
    assert.equal(frame?.sender, '22233344455566@lid');
    assert.equal(frame?.sender_phone, '56912121212');
  });

  test('the own chat addressed by the account\'s LID is reported as its phone-number chat', async () => {
    const { frame } = await normalise({ chat: '99911112222@lid', from_me: true, text: 'pausar todo' });
    assert.equal(frame?.chat, '56911112222@s.whatsapp.net');
    assert.equal(frame?.sender, '56911112222@s.whatsapp.net');
    const customer = await normalise({ chat: '123456789012345@lid', from_me: true, text: 'hola' });
    assert.equal(customer.frame?.chat, '123456789012345@lid');  // another @lid chat stays as it is
  });

  test('an @lid sender without a PN alternative has no sender_phone', async () => {
    const { frame } = await normalise({ chat: '123456789012345@lid', text: 'hola' });
    assert.equal(frame?.sender_phone, undefined);
  });

  test('ephemeral and view-once (v1, v2, v2 extension) wrappers are unwrapped; edits are dropped', async () => {
    for (const wrap of ['ephemeral', 'view_once', 'view_once_v2', 'view_once_v2_extension']) {
      const { frame } = await normalise({ kind: 'image', text: `caption ${wrap}`, image_base64: 'AAAA', wrap });
      assert.equal(frame?.kind, 'image', wrap);
      assert.equal(frame?.text, `caption ${wrap}`, wrap);
      assert.equal(frame?.media?.data_base64, 'AAAA', wrap);
    }
    const edited = await normalise({ text: 'texto corregido', wrap: 'edited' });
    assert.equal(edited.frame, undefined);
  });

  test('own messages name this account and mark bridge sends', async () => {
    const own = await normalise({ id: 'OWN1', from_me: true, text: 'escrito en el teléfono' });
    assert.equal(own.frame?.from_me, true);
    assert.equal(own.frame?.sent_by_bridge, false);
    assert.equal(own.frame?.sender, '56911112222@s.whatsapp.net');
    assert.equal(own.frame?.sender_phone, '56911112222');
    const bridged = await normalise({ id: 'BRIDGE1', from_me: true, text: 'respuesta' }, { sentByBridge: ['BRIDGE1'] });
    assert.equal(bridged.frame?.sent_by_bridge, true);
  });

  test('status broadcasts, newsletters and protocol messages are never sent', async () => {
    assert.equal((await normalise({ chat: 'status@broadcast', sender: '56933334444@s.whatsapp.net', text: 'x' })).frame, undefined);
    assert.equal((await normalise({ chat: '120363111111111111@newsletter', text: 'x' })).frame, undefined);
    assert.equal((await normalise({ kind: 'revoke' })).frame, undefined);
  });

  test('notify upserts and recent offline messages are forwarded, own ones too', () => {
    const now = 1_800_000_000;
    const at = (/** @type {number} */ seconds) => ({ messageTimestamp: seconds });
    const incoming = buildWAMessage({ id: 'A', chat: '56933334444@s.whatsapp.net', text: 'x' }).message;
    const own = buildWAMessage({ id: 'B', chat: '56933334444@s.whatsapp.net', text: 'x', from_me: true }).message;
    assert.equal(isForwarded('notify', incoming, now), true);
    assert.equal(isForwarded('append', { ...own, ...at(now - 1) }, now), true);
    assert.equal(isForwarded('append', { ...own, ...at(now - OFFLINE_WINDOW_SECONDS - 1) }, now), false);
    // Written while the bridge was down (WhatsApp delivers those as `append`): still answered.
    assert.equal(isForwarded('append', { ...incoming, ...at(now - 600) }, now), true);
    // Old history is not: nobody wants a reply to last week's message.
    assert.equal(isForwarded('append', { ...incoming, ...at(now - OFFLINE_WINDOW_SECONDS - 1) }, now), false);
    assert.equal(isForwarded('append', { ...incoming, ...at(0) }, now), false);
  });
});
