// @ts-check
/**
 * Turns a Baileys WAMessage into the docs/PROTOCOL.md `message` frame.
 */
import {
  getContentType,
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isLidUser,
  jidDecode,
  jidNormalizedUser,
  normalizeMessageContent,
  proto,
  toNumber,
} from 'baileys';
import { downloadLimited } from './media_download.mjs';
import { MAX_MEDIA_BYTES } from './protocol.mjs';

export { MAX_MEDIA_BYTES };

/** A download that takes longer is given up, so one stalled CDN fetch cannot hold the messages behind it. */
export const MEDIA_DOWNLOAD_TIMEOUT_MS = 60_000;

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

/**
 * Content that says something about another message or the chat, not a message of its own
 * (the field names of proto.Message in WAProto/WAProto.proto): nobody wrote anything to answer.
 * `protocolMessage` covers revokes, edits (MESSAGE_EDIT), disappearing-timer changes and
 * key shares; an edit is dropped because the relay already has the original.
 */
const NOT_CONTENT = new Set([
  'protocolMessage',
  'reactionMessage',
  'encReactionMessage',
  'pollUpdateMessage',
  'pinInChatMessage',
  'keepInChatMessage',
  'senderKeyDistributionMessage',
  'fastRatchetKeySenderKeyDistributionMessage',
  'encEventResponseMessage',
  'encCommentMessage',
  'stickerSyncRmrMessage',
  'placeholderMessage',
  'secretEncryptedMessage',
  'callLogMesssage',
  'messageHistoryBundle',
  'messageHistoryNotice',
  'statusMentionMessage',
  'groupStatusMentionMessage',
  'statusNotificationMessage',
  'limitSharingMessage',
  'scheduledCallEditMessage',
  'pollResultSnapshotMessage',
]);

/** Kinds whose bytes travel inside the frame. */
const KINDS_WITH_MEDIA = new Set(['audio', 'image']);
/**
 * Documents travel with their bytes only from the account's own chat ("Message yourself"),
 * where the owner sends files for the assistant to learn (`aprende`); customers' documents
 * are announced by kind alone.
 */
const OWN_CHAT_KINDS_WITH_MEDIA = new Set(['document']);

/**
 * @typedef {import('baileys').WAMessage} WAMessage
 * @typedef {import('./protocol.mjs').MessageFrame} MessageFrame
 * @typedef {{jid?: string, lid?: string, name?: string}} OwnAccount
 * @typedef {object} NormaliseContext
 * @property {OwnAccount | undefined} me this account, from the saved creds
 * @property {(id: string) => boolean} isSentByBridge
 * @property {(lid: string) => Promise<string | undefined>} phoneJidForLid Baileys' LID -> PN mapping
 * @property {(lid: string) => string | undefined} [chatForLid] the bridge's own memory of LID chats
 * @property {(message: WAMessage) => Promise<import('node:stream').Readable>} openMediaStream
 * @property {import('pino').Logger} logger
 * @property {string} [upsertType] Baileys' messages.upsert type (`notify` when absent)
 * @property {boolean} [groupMedia] download the media of group messages (default true)
 * @property {number} [maxMediaBytes]
 * @property {number} [mediaTimeoutMs]
 */

/** Messages that arrived while this bridge was offline are still forwarded, when this recent. */
export const OFFLINE_WINDOW_SECONDS = 6 * 60 * 60;

/**
 * Whether an upsert is traffic for the relay: live messages (`notify`), and messages
 * WhatsApp delivered as `append` (its offline queue after downtime, and the echo of the
 * bridge's own sends) when at most OFFLINE_WINDOW_SECONDS old. The window holds for the
 * owner's messages too: a `pausar` typed days ago is no command for now.
 * (Socket/messages-recv.js handleMessage upserts `offline` stanzas as `append`;
 * Socket/messages-send.js sendMessage echoes own sends as `append`.)
 * @param {string} upsertType Baileys' messages.upsert type
 * @param {WAMessage} message
 * @param {number} [nowSeconds]
 */
export function isForwarded(upsertType, message, nowSeconds = Date.now() / 1000) {
  if (upsertType === 'notify') return true;
  const sentAt = Number(message.messageTimestamp ?? 0);
  return upsertType === 'append' && sentAt > 0 && nowSeconds - sentAt <= OFFLINE_WINDOW_SECONDS;
}

/**
 * Build the `message` frame of a WAMessage, or undefined for what the relay never sees
 * (status broadcasts, newsletters, edits, revokes, reactions and other non-content, stubs).
 * @param {WAMessage} message
 * @param {NormaliseContext} context
 * @returns {Promise<MessageFrame | undefined>}
 */
export async function normaliseMessage(message, context) {
  const key = message.key;
  const remoteJid = key?.remoteJid;
  if (!key?.id || !remoteJid || isJidBroadcast(remoteJid) || isJidNewsletter(remoteJid)) return undefined;
  const content = normalizeMessageContent(message.message);
  const contentType = content ? getContentType(content) : undefined;
  if (!content || !contentType || NOT_CONTENT.has(contentType)) return undefined;

  const fromMe = Boolean(key.fromMe);
  const isGroup = Boolean(isJidGroup(remoteJid));
  const chat = isGroup ? remoteJid : await chatIdOf(message, context);
  const sentByBridge = fromMe && context.isSentByBridge(key.id);
  const kind = /** @type {MessageFrame['kind']} */ (
    /** @type {Record<string, string>} */ (KIND_BY_CONTENT)[contentType] ?? 'other');
  /** @type {MessageFrame} */
  const frame = {
    type: 'message',
    id: key.id,
    chat,
    sender: senderJid(message, chat, context.me, isGroup),
    from_me: fromMe,
    sent_by_bridge: sentByBridge,
    timestamp: toNumber(/** @type {any} */ (message.messageTimestamp)) || Math.floor(Date.now() / 1000),
    is_group: isGroup,
    kind,
  };
  const phone = await senderPhone(message, frame, context, isGroup);
  if (phone) frame.sender_phone = phone;
  if (typeof message.pushName === 'string' && message.pushName) frame.push_name = message.pushName;
  const text = textOf(content);
  if (text) frame.text = text;
  if (context.upsertType === 'append' && !sentByBridge) frame.backlog = true;
  if (KINDS_WITH_MEDIA.has(kind) || (OWN_CHAT_KINDS_WITH_MEDIA.has(kind) && isOwnChat(frame, context.me))) {
    if (isGroup && context.groupMedia === false) frame.media_omitted = 'groups_off';
    else await attachMedia(frame, message, content, contentType, context);
  }
  return frame;
}

/**
 * The disappearing-messages timer a message shows for its chat, in seconds (0: off), or
 * undefined when it says nothing about it. Messages carry it as `contextInfo.expiration`; a
 * change of the setting comes as a protocol message (EPHEMERAL_SETTING).
 * @param {WAMessage} message
 * @returns {number | undefined}
 */
export function chatExpiration(message) {
  const content = normalizeMessageContent(message.message);
  const protocol = content?.protocolMessage;
  if (protocol?.type === proto.Message.ProtocolMessage.Type.EPHEMERAL_SETTING) return protocol.ephemeralExpiration ?? 0;
  const contentType = content ? getContentType(content) : undefined;
  if (!content || !contentType || NOT_CONTENT.has(contentType)) return undefined;
  const inner = /** @type {Record<string, any>} */ (content)[contentType];
  if (!inner || typeof inner !== 'object' || !inner.contextInfo) return undefined;
  return Number(inner.contextInfo.expiration ?? 0);
}

/**
 * One id per 1:1 chat, whichever form the stanza used: the phone-number JID when the
 * mapping is known (Baileys 7 addresses a chat by LID or PN depending on the stanza). The
 * account's own LID chat is its phone chat.
 * @param {WAMessage} message
 * @param {NormaliseContext} context
 */
export async function chatIdOf(message, context) {
  const key = /** @type {Record<string, any>} */ (message.key);
  const chat = jidNormalizedUser(key.remoteJid);
  if (!isLidUser(chat)) return chat;
  const { me } = context;
  const ownLid = me?.lid ? jidNormalizedUser(me.lid) : undefined;
  const ownPhone = me?.jid ? jidNormalizedUser(me.jid) : undefined;
  if (ownLid && ownPhone && chat === ownLid) return ownPhone;
  // On the owner's own messages remoteJidAlt is the owner's alternative, not the chat's.
  const alt = !key.fromMe && typeof key.remoteJidAlt === 'string' ? jidNormalizedUser(key.remoteJidAlt) : undefined;
  if (alt?.endsWith('@s.whatsapp.net') && alt !== ownPhone) return alt;
  const remembered = context.chatForLid?.(chat);
  if (remembered) return remembered;
  const phoneJid = await mappedPhone(chat, context);
  // A customer's LID never maps to the owner's number; such a mapping is wrong, not a merge.
  if (!phoneJid || phoneJid === ownPhone) return chat;
  return phoneJid;
}

/** @param {string} lid @param {NormaliseContext} context */
async function mappedPhone(lid, context) {
  try {
    const found = await context.phoneJidForLid(lid);
    return found ? jidNormalizedUser(found) : undefined;
  } catch (error) {
    context.logger.debug({ err: String(error) }, 'LID mapping lookup failed');
    return undefined;
  }
}

/**
 * Written by the owner in the account's own chat: `chat` is already canonical (an own LID
 * chat is reported as the phone chat by chatIdOf).
 * @param {MessageFrame} frame
 * @param {OwnAccount | undefined} me
 */
function isOwnChat(frame, me) {
  return frame.from_me && !frame.is_group && Boolean(me?.jid) && frame.chat === jidNormalizedUser(me?.jid);
}

/**
 * @param {WAMessage} message
 * @param {string} chat the canonical chat
 * @param {OwnAccount | undefined} me
 * @param {boolean} isGroup
 */
function senderJid(message, chat, me, isGroup) {
  const key = message.key;
  if (isGroup) {
    const author = key.participant || message.participant;
    if (author) return jidNormalizedUser(author);
  }
  if (key.fromMe && me?.jid) return jidNormalizedUser(me.jid);
  return chat;
}

/**
 * The author's phone: from a phone-number JID, the PN alternative Baileys 7 attaches to
 * @lid-addressed stanzas, or Baileys' LID mapping.
 * @param {WAMessage} message
 * @param {MessageFrame} frame
 * @param {NormaliseContext} context
 * @param {boolean} isGroup
 */
async function senderPhone(message, frame, context, isGroup) {
  const key = /** @type {Record<string, any>} */ (message.key);
  /** @type {(string | undefined)[]} */
  const candidates = [frame.sender];
  if (isGroup) candidates.push(key.participantAlt, key.participantPn, /** @type {any} */ (message).participantPn);
  else if (!key.fromMe) candidates.push(key.remoteJidAlt, key.senderPn);
  if (key.fromMe) candidates.push(context.me?.jid);
  for (const jid of candidates) {
    const phone = phoneDigits(jid);
    if (phone) return phone;
  }
  if (isLidUser(frame.sender) && !key.fromMe) {
    const mapped = context.chatForLid?.(frame.sender) ?? await mappedPhone(frame.sender, context);
    if (mapped && mapped !== jidNormalizedUser(context.me?.jid ?? '')) return phoneDigits(mapped);
  }
  return undefined;
}

/** @param {string | undefined} jid */
function phoneDigits(jid) {
  const decoded = typeof jid === 'string' ? jidDecode(jid) : undefined;
  return decoded?.server === 's.whatsapp.net' && /^\d+$/.test(decoded.user) ? decoded.user : undefined;
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
 * Put the media bytes into the frame, or say why they are left out.
 * @param {MessageFrame} frame
 * @param {WAMessage} message
 * @param {import('baileys').proto.IMessage} content
 * @param {string} contentType
 * @param {NormaliseContext} context
 */
async function attachMedia(frame, message, content, contentType, context) {
  const limit = context.maxMediaBytes ?? MAX_MEDIA_BYTES;
  const media = /** @type {import('baileys').proto.Message.IAudioMessage} */ (
    /** @type {Record<string, any>} */ (content)[contentType]);
  // A declared size over the limit is believed; one under it is checked while reading.
  if (toNumber(/** @type {any} */ (media.fileLength)) > limit) {
    frame.media_omitted = 'too_large';
    return;
  }
  const result = await downloadLimited(() => context.openMediaStream(message), {
    maxBytes: limit,
    timeoutMs: context.mediaTimeoutMs ?? MEDIA_DOWNLOAD_TIMEOUT_MS,
  });
  if (!result.ok) {
    const { omitted, error } = /** @type {Extract<typeof result, {ok: false}>} */ (result);
    context.logger.warn({ messageId: message.key.id, omitted, err: error ? String(error) : undefined }, 'media left out of the message');
    frame.media_omitted = omitted;
    return;
  }
  const { data } = /** @type {Extract<typeof result, {ok: true}>} */ (result);
  /** @type {import('./protocol.mjs').MessageMedia} */
  const attached = { mime: media.mimetype || 'application/octet-stream', data_base64: data.toString('base64') };
  if (contentType === 'audioMessage' && typeof media.seconds === 'number') attached.seconds = media.seconds;
  if (contentType === 'documentMessage') {
    // proto.Message.DocumentMessage: fileName is what the phone shows; title is older clients' copy of it.
    const document = /** @type {import('baileys').proto.Message.IDocumentMessage} */ (media);
    attached.file_name = document.fileName || document.title || 'document';
  }
  frame.media = attached;
}
