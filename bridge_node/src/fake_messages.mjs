// @ts-check
/**
 * WAMessages for the fake socket (tests only): built from a `message` control action, or
 * replayed from the JSON Baileys' BufferJSON writes, shaped as Baileys hands them to
 * messages.upsert (protobuf content, Baileys 7 keys with LID/PN alternatives).
 */
import crypto from 'node:crypto';
import { BufferJSON, proto } from 'baileys';

/** @typedef {Record<string, any>} FakeAction one control line */

/** @param {unknown} value JSON as Baileys' BufferJSON writes it @returns {any} */
export function revive(value) {
  return JSON.parse(JSON.stringify(value), BufferJSON.reviver);
}

/**
 * A WAMessage replayed exactly as WhatsApp sent it: `raw` is the WAMessage in Baileys'
 * BufferJSON JSON (as `JSON.stringify(msg, BufferJSON.replacer)` logs it). The content
 * becomes a real proto.Message; the key keeps Baileys 7's extra fields (remoteJidAlt…).
 * Media bytes for the CDN come from `media_base64` or `media_size`; `timestamp` overrides.
 * @param {FakeAction} action
 * @returns {{message: import('baileys').WAMessage, media: Buffer | undefined}}
 */
export function fromRaw(action) {
  const raw = revive(action.raw);
  /** @type {import('baileys').WAMessage} */
  const message = {
    ...raw,
    key: { ...raw.key, ...(action.id ? { id: String(action.id) } : {}) },
    message: raw.message ? proto.Message.fromObject(raw.message) : undefined,
    messageTimestamp: action.timestamp ?? Number(raw.messageTimestamp ?? Math.floor(Date.now() / 1000)),
  };
  return { message, media: mediaBytes(action) };
}

/**
 * Build a WAMessage the way Baileys hands one to messages.upsert (protobuf content,
 * Baileys 7 key with PN alternatives for @lid senders), from a `message` control action.
 * @param {FakeAction} action
 * @returns {{message: import('baileys').WAMessage, media: Buffer | undefined}}
 */
export function buildWAMessage(action) {
  const chat = String(action.chat);
  const isGroup = chat.endsWith('@g.us');
  /** @type {import('baileys').WAMessageKey} */
  const key = { remoteJid: chat, fromMe: Boolean(action.from_me), id: String(action.id) };
  if (isGroup && action.sender) key.participant = action.sender;
  if (action.sender_pn) {
    const pnJid = `${action.sender_pn}@s.whatsapp.net`;
    if (isGroup) key.participantAlt = pnJid;
    else key.remoteJidAlt = pnJid;
  }
  const media = mediaBytes(action);
  const content = wrap(contentFor(action, media), action.wrap, key);
  /** @type {import('baileys').WAMessage} */
  const message = {
    key,
    message: proto.Message.fromObject(content),
    messageTimestamp: action.timestamp ?? Math.floor(Date.now() / 1000),
  };
  if (action.push_name) message.pushName = action.push_name;
  return { message, media };
}

/** @param {FakeAction} action */
function mediaBytes(action) {
  const base64 = action.audio_base64 ?? action.image_base64 ?? action.media_base64;
  if (typeof base64 === 'string') return Buffer.from(base64, 'base64');
  if (typeof action.media_size === 'number') return Buffer.alloc(action.media_size, 7);
  return undefined;
}

/**
 * @param {FakeAction} action
 * @param {Buffer | undefined} media
 * @returns {Record<string, any>}
 */
function contentFor(action, media) {
  const file = () => ({
    url: 'https://mmg.whatsapp.net/fake',
    directPath: '/fake',
    mediaKey: crypto.randomBytes(32),
    fileLength: action.declared_length ?? media?.length ?? 0,
  });
  const text = action.text;
  switch (action.kind ?? 'text') {
    case 'text': return action.quoted_id
      ? { extendedTextMessage: { text, contextInfo: { stanzaId: action.quoted_id } } }
      : { conversation: text };
    case 'audio': return { audioMessage: { ...file(), mimetype: action.mime ?? 'audio/ogg; codecs=opus', seconds: action.seconds ?? 1, ptt: true } };
    case 'image': return { imageMessage: { ...file(), mimetype: action.mime ?? 'image/jpeg', caption: text } };
    case 'video': return { videoMessage: { ...file(), mimetype: action.mime ?? 'video/mp4', caption: text } };
    case 'document': return { documentMessage: { ...file(), mimetype: action.mime ?? 'application/pdf', caption: text, fileName: action.file_name ?? 'file.pdf' } };
    case 'sticker': return { stickerMessage: { ...file(), mimetype: 'image/webp' } };
    case 'location': return { locationMessage: { degreesLatitude: action.latitude ?? -33.45, degreesLongitude: action.longitude ?? -70.66 } };
    case 'contact': return { contactMessage: { displayName: action.text ?? 'Contact', vcard: 'BEGIN:VCARD\nEND:VCARD' } };
    case 'reaction': return { reactionMessage: { text: action.text ?? '👍', key: { id: action.quoted_id ?? 'x' } } };
    case 'revoke': return { protocolMessage: { type: proto.Message.ProtocolMessage.Type.REVOKE, key: { id: action.quoted_id ?? 'x' } } };
    default: return { conversation: text };
  }
}

/**
 * @param {Record<string, any>} content
 * @param {string | undefined} wrapper
 * @param {import('baileys').WAMessageKey} key
 */
function wrap(content, wrapper, key) {
  switch (wrapper) {
    case undefined: return content;
    case 'ephemeral': return { ephemeralMessage: { message: content } };
    case 'view_once': return { viewOnceMessage: { message: content } };
    case 'view_once_v2': return { viewOnceMessageV2: { message: content } };
    case 'view_once_v2_extension': return { viewOnceMessageV2Extension: { message: content } };
    case 'document_with_caption': return { documentWithCaptionMessage: { message: content } };
    case 'edited': return {
      editedMessage: { message: { protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { ...key }, editedMessage: content,
      } } },
    };
    default: throw new Error(`unknown wrapper ${wrapper}`);
  }
}
