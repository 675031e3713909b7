// @ts-check
/**
 * The bridge <-> relay frames of docs/PROTOCOL.md, version 1: builders for what the
 * bridge sends and a parser that turns relay frames into typed commands at the edge.
 */
import fs from 'node:fs';

export const PROTOCOL_VERSION = 1;

/** The bridge's version, as told to the relay in `hello`. */
export const BRIDGE_VERSION = JSON.parse(
  fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/**
 * @typedef {'starting'|'waiting_qr'|'pairing'|'connected'|'reconnecting'|'logged_out'|'banned'|'stopped'} WhatsAppState
 * @typedef {{type: 'status', state: WhatsAppState, phone?: string, name?: string, reason?: string, at: string}} StatusFrame
 * @typedef {{mime: string, data_base64: string, seconds?: number}} MessageMedia
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
 */

/**
 * @typedef {{type: 'welcome', protocol: number}} WelcomeCommand
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
 * @typedef {WelcomeCommand|AckCommand|SendCommand|TypingCommand|ReadCommand|DeleteCommand|PairCommand|LogoutCommand|ShutdownCommand|UnknownCommand|InvalidCommand} RelayCommand
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

/** @param {string} code @param {string} phone */
export function pairingCodeFrame(code, phone) {
  return { type: 'pairing_code', code, phone };
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
};

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
      : typeof value === kind;
    if (!ok) return `field ${field} must be ${kind === 'array' ? 'a list of strings' : `a ${kind}`}`;
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
    case 'welcome': return { type: 'welcome', protocol: raw.protocol };
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
