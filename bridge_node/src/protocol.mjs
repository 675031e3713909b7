// @ts-check
/**
 * The bridge <-> relay frames of docs/PROTOCOL.md, version 1: builders for what the
 * bridge sends and a parser that turns relay frames into typed commands at the edge.
 */
import fs from 'node:fs';

export const PROTOCOL_VERSION = 1;

/** The largest frame either side sends or accepts (docs/PROTOCOL.md "Limits"). */
export const MAX_FRAME_BYTES = 20 * 1024 * 1024;
/**
 * Media larger than this travels without its bytes: base64 makes 14 MiB into 18.7 MiB,
 * which leaves more than 1 MiB of the frame for the envelope and the caption.
 */
export const MAX_MEDIA_BYTES = 14 * 1024 * 1024;

/** The bridge's version, as told to the relay in `hello`. */
export const BRIDGE_VERSION = JSON.parse(
  fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/**
 * @typedef {'starting'|'waiting_qr'|'pairing'|'connected'|'reconnecting'|'logged_out'|'banned'|'stopped'} WhatsAppState
 * @typedef {{type: 'status', state: WhatsAppState, phone?: string, name?: string, reason?: string, until?: string, at: string}} StatusFrame
 * @typedef {{mime: string, data_base64: string, seconds?: number, file_name?: string}} MessageMedia
 * @typedef {'too_large'|'download_failed'|'download_timeout'|'groups_off'} MediaOmitted
 * @typedef {object} MessageFrame
 * @property {'message'} type
 * @property {string} id
 * @property {string} chat
 * @property {string} sender
 * @property {string} [sender_phone]
 * @property {boolean} from_me
 * @property {boolean} sent_by_bridge
 * @property {string} [push_name]
 * @property {number} timestamp
 * @property {boolean} is_group
 * @property {'text'|'audio'|'image'|'video'|'document'|'sticker'|'location'|'contact'|'other'} kind
 * @property {string} [text]
 * @property {MessageMedia} [media]
 * @property {MediaOmitted} [media_omitted] why an audio, image or own-chat document came without its bytes
 * @property {true} [backlog] delivered late, from WhatsApp's offline queue
 */

/**
 * @typedef {object} SendFailedFrame
 * @property {'send_failed'} type
 * @property {string} id `send_failed:<message_id>`, acked like a message id
 * @property {string} ref
 * @property {string} message_id
 * @property {string} chat
 * @property {string} error
 * @property {string} at
 *
 * @typedef {MessageFrame | SendFailedFrame} EventFrame a frame kept until the relay acks its id
 *
 * @typedef {object} BridgeSettings the tenant's settings the bridge acts on (relay `config`)
 * @property {boolean} groups forward group media (false: group messages come without bytes)
 * @property {boolean} rejectCalls reject incoming calls
 * @property {string} callMessage what a rejected caller is told, once an hour
 */

/** @type {Readonly<BridgeSettings>} */
export const DEFAULT_SETTINGS = Object.freeze({
  groups: true,
  rejectCalls: false,
  callMessage: 'No puedo atender llamadas, escríbeme por aquí',
});

/**
 * @typedef {Partial<BridgeSettings>} SettingsUpdate
 * @typedef {{type: 'welcome', protocol: number, config?: SettingsUpdate}} WelcomeCommand
 * @typedef {{type: 'config', config: SettingsUpdate}} ConfigCommand
 * @typedef {{type: 'ack', id: string}} AckCommand
 * @typedef {{type: 'send', ref: string, chat: string, text: string, quoteId?: string}} SendCommand
 * @typedef {{type: 'typing', chat: string, state: 'composing'|'paused'}} TypingCommand
 * @typedef {{type: 'read', chat: string, ids: string[]}} ReadCommand
 * @typedef {{type: 'delete', ref: string, chat: string, id: string}} DeleteCommand
 * @typedef {{type: 'pair', ref: string, phone: string}} PairCommand
 * @typedef {{type: 'logout', ref: string}} LogoutCommand
 * @typedef {{type: 'shutdown'}} ShutdownCommand
 * @typedef {{type: 'unknown', frameType: string}} UnknownCommand
 * @typedef {{type: 'invalid', frameType: string, ref?: string, problem: string}} InvalidCommand
 * @typedef {WelcomeCommand|AckCommand|SendCommand|TypingCommand|ReadCommand|DeleteCommand|PairCommand|LogoutCommand|ShutdownCommand|ConfigCommand|UnknownCommand|InvalidCommand} RelayCommand
 */

/** Raised for a relay frame that is not a JSON object with a string `type`. */
export class MalformedFrame extends Error {
  /** @param {string} why */
  constructor(why) {
    super(`malformed relay frame: ${why}`);
    this.name = 'MalformedFrame';
  }
}

/** @param {Date} [date] @returns {string} ISO 8601 UTC */
export function isoTime(date = new Date()) {
  return date.toISOString();
}

/** @param {string} tenant @returns {{type: 'hello', protocol: number, tenant: string, bridge_version: string}} */
export function helloFrame(tenant) {
  return { type: 'hello', protocol: PROTOCOL_VERSION, tenant, bridge_version: BRIDGE_VERSION };
}

/**
 * @param {string} ref
 * @param {{ok: boolean, message_id?: string, error?: string}} outcome
 */
export function resultFrame(ref, outcome) {
  return { type: 'result', ref, ...outcome };
}

/** @param {string} qr @param {Date} expiresAt */
export function qrFrame(qr, expiresAt) {
  return { type: 'qr', qr, expires_at: isoTime(expiresAt) };
}

/** @param {string} code @param {string} phone @param {Date} expiresAt */
export function pairingCodeFrame(code, phone, expiresAt) {
  return { type: 'pairing_code', code, phone, expires_at: isoTime(expiresAt) };
}

/**
 * @param {{ref: string, messageId: string, chat: string, error: string}} failure
 * @returns {SendFailedFrame}
 */
export function sendFailedFrame({ ref, messageId, chat, error }) {
  return { type: 'send_failed', id: `send_failed:${messageId}`, ref, message_id: messageId, chat, error, at: isoTime() };
}

/** @param {object} frame @returns {number} bytes of the frame as sent */
export function frameBytes(frame) {
  return Buffer.byteLength(JSON.stringify(frame), 'utf8');
}

/**
 * A frame that fits MAX_FRAME_BYTES: media that would not fit is left out (kind and caption
 * stay, `media_omitted` says why). Undefined for a frame that cannot fit at all.
 * @template {object} F
 * @param {F} frame
 * @param {number} [maxBytes]
 * @returns {F | undefined}
 */
export function fitFrame(frame, maxBytes = MAX_FRAME_BYTES) {
  if (frameBytes(frame) <= maxBytes) return frame;
  if ('media' in /** @type {Record<string, unknown>} */ (frame)) {
    const { media: _media, ...rest } = /** @type {any} */ (frame);
    const stripped = /** @type {F} */ ({ ...rest, media_omitted: 'too_large' });
    if (frameBytes(stripped) <= maxBytes) return stripped;
  }
  return undefined;
}

const FIELD_RULES = {
  welcome: { protocol: 'number' },
  ack: { id: 'string' },
  send: { ref: 'string', chat: 'string', text: 'string' },
  typing: { chat: 'string', state: 'string' },
  read: { chat: 'string', ids: 'array' },
  delete: { ref: 'string', chat: 'string', id: 'string' },
  pair: { ref: 'string', phone: 'string' },
  logout: { ref: 'string' },
  shutdown: {},
  config: { config: 'object' },
};

/** The `config` object's fields and their JSON types. */
const SETTING_FIELDS = { groups: ['groups', 'boolean'], reject_calls: ['rejectCalls', 'boolean'], call_message: ['callMessage', 'string'] };

/**
 * Turn one text frame from the relay into a typed command.
 * @param {string} text
 * @returns {RelayCommand}
 * @throws {MalformedFrame} when the frame is not a JSON object with a string `type`
 */
export function parseRelayFrame(text) {
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MalformedFrame('not JSON');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || typeof raw.type !== 'string') {
    throw new MalformedFrame('not an object with a string type');
  }
  const rules = /** @type {Record<string, Record<string, string>>} */ (FIELD_RULES)[raw.type];
  if (!rules) return { type: 'unknown', frameType: raw.type };
  const problem = findProblem(raw, rules);
  if (problem) {
    const ref = typeof raw.ref === 'string' ? raw.ref : undefined;
    return { type: 'invalid', frameType: raw.type, ref, problem };
  }
  return toCommand(raw);
}

/**
 * @param {Record<string, any>} raw
 * @param {Record<string, string>} rules
 * @returns {string | undefined}
 */
function findProblem(raw, rules) {
  for (const [field, kind] of Object.entries(rules)) {
    const value = raw[field];
    const ok = kind === 'array' ? Array.isArray(value) && value.every((v) => typeof v === 'string')
      : kind === 'object' ? isPlainObject(value)
        : typeof value === kind;
    if (!ok) return `field ${field} must be ${kind === 'array' ? 'a list of strings' : `a${kind === 'object' ? 'n' : ''} ${kind}`}`;
  }
  if (raw.config !== undefined && (raw.type === 'config' || raw.type === 'welcome')) {
    if (!isPlainObject(raw.config)) return 'field config must be an object';
    for (const [field, [, kind]] of Object.entries(SETTING_FIELDS)) {
      const value = raw.config[field];
      if (value !== undefined && typeof value !== kind) return `field config.${field} must be a ${kind}`;
    }
  }
  if (raw.type === 'typing' && raw.state !== 'composing' && raw.state !== 'paused') {
    return 'field state must be composing or paused';
  }
  if (raw.type === 'pair' && !/^\d{6,15}$/.test(raw.phone)) return 'field phone must be digits only';
  return undefined;
}

/**
 * @param {Record<string, any>} raw a frame whose fields were checked
 * @returns {RelayCommand}
 */
function toCommand(raw) {
  switch (raw.type) {
    case 'welcome': return raw.config === undefined
      ? { type: 'welcome', protocol: raw.protocol }
      : { type: 'welcome', protocol: raw.protocol, config: toSettings(raw.config) };
    case 'config': return { type: 'config', config: toSettings(raw.config) };
    case 'ack': return { type: 'ack', id: raw.id };
    case 'send': return {
      type: 'send', ref: raw.ref, chat: raw.chat, text: raw.text,
      quoteId: typeof raw.quote_id === 'string' && raw.quote_id ? raw.quote_id : undefined,
    };
    case 'typing': return { type: 'typing', chat: raw.chat, state: raw.state };
    case 'read': return { type: 'read', chat: raw.chat, ids: raw.ids };
    case 'delete': return { type: 'delete', ref: raw.ref, chat: raw.chat, id: raw.id };
    case 'pair': return { type: 'pair', ref: raw.ref, phone: raw.phone };
    case 'logout': return { type: 'logout', ref: raw.ref };
    default: return { type: 'shutdown' };
  }
}

/** @param {unknown} value @returns {value is Record<string, any>} */
function isPlainObject(value) {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/**
 * @param {Record<string, any>} config a checked `config` object
 * @returns {SettingsUpdate}
 */
function toSettings(config) {
  /** @type {Record<string, any>} */
  const settings = {};
  for (const [field, [name]] of Object.entries(SETTING_FIELDS)) {
    if (config[field] !== undefined) settings[name] = config[field];
  }
  return settings;
}
