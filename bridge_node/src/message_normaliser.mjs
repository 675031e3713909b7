// @ts-check
/**
 * Turns a Baileys WAMessage into the docs/PROTOCOL.md `message` frame.
 */
import {
  getContentType,
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  jidDecode,
  jidNormalizedUser,
  normalizeMessageContent,
  proto,
  toNumber,
} from 'baileys';

/** Media larger than this is announced without its bytes. */
export const MAX_MEDIA_BYTES = 16 * 1024 * 1024;

const KIND_BY_CONTENT = {
  conversation: 'text',
  extendedTextMessage: 'text',
  audioMessage: 'audio',
  imageMessage: 'image',
  videoMessage: 'video',
  ptvMessage: 'video',
  documentMessage: 'document',
  stickerMessage: 'sticker',
  locationMessage: 'location',
  liveLocationMessage: 'location',
  contactMessage: 'contact',
  contactsArrayMessage: 'contact',
};

/** Kinds whose bytes travel inside the frame. */
const KINDS_WITH_MEDIA = new Set(['audio', 'image']);

/**
 * @typedef {import('baileys').WAMessage} WAMessage
 * @typedef {import('./protocol.mjs').MessageFrame} MessageFrame
 * @typedef {{jid?: string, lid?: string, name?: string}} OwnAccount
 * @typedef {object} NormaliseContext
 * @property {OwnAccount | undefined} me this account, as the socket knows it
 * @property {(id: string) => boolean} isSentByBridge
 * @property {(message: WAMessage) => Promise<Buffer>} downloadMedia
 * @property {import('pino').Logger} logger
 * @property {number} [maxMediaBytes]
 */

/** Customer messages that arrived while this bridge was offline are still answered, when recent. */
export const OFFLINE_WINDOW_SECONDS = 6 * 60 * 60;

/**
 * Whether an upsert is traffic for the relay: new messages (`notify`), every message written
 * from this account (`append` echoes of the bridge's own sends included), and customer
 * messages that WhatsApp delivered as `append` because they arrived while this device was
 * offline (a bridge restart), within OFFLINE_WINDOW_SECONDS, so no customer goes unanswered.
 * @param {string} upsertType Baileys' messages.upsert type
 * @param {WAMessage} message
 * @param {number} [nowSeconds]
 */
export function isForwarded(upsertType, message, nowSeconds = Date.now() / 1000) {
  if (upsertType === 'notify' || message.key?.fromMe) return true;
  const sentAt = Number(message.messageTimestamp ?? 0);
  return upsertType === 'append' && sentAt > 0 && nowSeconds - sentAt <= OFFLINE_WINDOW_SECONDS;
}

/**
 * Build the `message` frame of a WAMessage, or undefined for what the relay never sees
 * (status broadcasts, newsletters, protocol and key-distribution messages, stubs).
 * @param {WAMessage} message
 * @param {NormaliseContext} context
 * @returns {Promise<MessageFrame | undefined>}
 */
export async function normaliseMessage(message, context) {
  const key = message.key;
  const chat = key?.remoteJid;
  if (!key?.id || !chat || isJidBroadcast(chat) || isJidNewsletter(chat)) return undefined;
  const content = unwrapContent(message.message);
  const contentType = content ? getContentType(content) : undefined;
  if (!content || !contentType || contentType === 'protocolMessage') return undefined;

  const fromMe = Boolean(key.fromMe);
  const isGroup = Boolean(isJidGroup(chat));
  const sender = senderJid(message, context.me, isGroup);
  const kind = /** @type {MessageFrame['kind']} */ (
    /** @type {Record<string, string>} */ (KIND_BY_CONTENT)[contentType] ?? 'other');
  /** @type {MessageFrame} */
  const frame = {
    type: 'message',
    id: key.id,
    chat: isGroup ? chat : ownChatAsPhone(chat, context.me),
    sender,
    from_me: fromMe,
    sent_by_bridge: fromMe && context.isSentByBridge(key.id),
    timestamp: toNumber(/** @type {any} */ (message.messageTimestamp)) || Math.floor(Date.now() / 1000),
    is_group: isGroup,
    kind,
  };
  const phone = senderPhone(message, sender, context.me, isGroup);
  if (phone) frame.sender_phone = phone;
  if (typeof message.pushName === 'string' && message.pushName) frame.push_name = message.pushName;
  const text = textOf(content);
  if (text) frame.text = text;
  if (KINDS_WITH_MEDIA.has(kind) && !isEdit(message.message)) {
    const media = await mediaOf(message, content, contentType, context);
    if (media) frame.media = media;
  }
  return frame;
}

/**
 * Strip ephemeral, view-once (v1, v2, v2 extension), document-with-caption and edit wrappers.
 * @param {import('baileys').proto.IMessage | null | undefined} message
 * @returns {import('baileys').proto.IMessage | undefined}
 */
export function unwrapContent(message) {
  let content = normalizeMessageContent(message);
  const protocol = content?.protocolMessage;
  // An edit arrives as a protocol message carrying the new content.
  if (protocol?.type === proto.Message.ProtocolMessage.Type.MESSAGE_EDIT && protocol.editedMessage) {
    content = normalizeMessageContent(protocol.editedMessage);
  }
  return content;
}

/** @param {import('baileys').proto.IMessage | null | undefined} message */
function isEdit(message) {
  const content = normalizeMessageContent(message);
  return Boolean(message?.editedMessage) ||
    content?.protocolMessage?.type === proto.Message.ProtocolMessage.Type.MESSAGE_EDIT;
}

/**
 * The account's own chat ("Message yourself") as its phone-number JID, also when WhatsApp
 * addresses it by the account's LID: the relay knows the owner by their number.
 * @param {string} chat
 * @param {OwnAccount | undefined} me
 */
function ownChatAsPhone(chat, me) {
  if (me?.jid && me.lid && jidNormalizedUser(chat) === jidNormalizedUser(me.lid)) return jidNormalizedUser(me.jid);
  return chat;
}

/**
 * @param {WAMessage} message
 * @param {OwnAccount | undefined} me
 * @param {boolean} isGroup
 */
function senderJid(message, me, isGroup) {
  const key = message.key;
  const author = isGroup ? (key.participant || message.participant) : (key.fromMe ? undefined : key.remoteJid);
  if (author) return jidNormalizedUser(author);
  if (key.fromMe && me?.jid) return jidNormalizedUser(me.jid);
  return jidNormalizedUser(/** @type {string} */ (key.remoteJid));
}

/**
 * The author's phone: from a phone-number JID, else from the PN alternative Baileys 7
 * attaches to @lid-addressed messages.
 * @param {WAMessage} message
 * @param {string} sender
 * @param {OwnAccount | undefined} me
 * @param {boolean} isGroup
 */
function senderPhone(message, sender, me, isGroup) {
  const key = /** @type {Record<string, any>} */ (message.key);
  /** @type {(string | undefined)[]} */
  const candidates = [sender];
  if (isGroup) candidates.push(key.participantAlt, key.participantPn, /** @type {any} */ (message).participantPn);
  else if (!key.fromMe) candidates.push(key.remoteJidAlt, key.senderPn);
  if (key.fromMe) candidates.push(me?.jid);
  for (const jid of candidates) {
    const decoded = typeof jid === 'string' ? jidDecode(jid) : undefined;
    if (decoded?.server === 's.whatsapp.net' && /^\d+$/.test(decoded.user)) return decoded.user;
  }
  return undefined;
}

/** @param {import('baileys').proto.IMessage} content */
function textOf(content) {
  return content.conversation ||
    content.extendedTextMessage?.text ||
    content.imageMessage?.caption ||
    content.videoMessage?.caption ||
    content.documentMessage?.caption ||
    undefined;
}

/**
 * @param {WAMessage} message
 * @param {import('baileys').proto.IMessage} content
 * @param {string} contentType
 * @param {NormaliseContext} context
 * @returns {Promise<import('./protocol.mjs').MessageMedia | undefined>}
 */
async function mediaOf(message, content, contentType, context) {
  const limit = context.maxMediaBytes ?? MAX_MEDIA_BYTES;
  const media = /** @type {import('baileys').proto.Message.IAudioMessage} */ (
    /** @type {Record<string, any>} */ (content)[contentType]);
  const declared = toNumber(/** @type {any} */ (media.fileLength));
  if (declared > limit) return undefined;
  let data;
  try {
    data = await context.downloadMedia(message);
  } catch (error) {
    context.logger.warn({ messageId: message.key.id, err: String(error) }, 'media download failed; sending the message without it');
    return undefined;
  }
  if (data.length > limit) return undefined;
  /** @type {import('./protocol.mjs').MessageMedia} */
  const result = { mime: media.mimetype || 'application/octet-stream', data_base64: data.toString('base64') };
  if (contentType === 'audioMessage' && typeof media.seconds === 'number') result.seconds = media.seconds;
  return result;
}
