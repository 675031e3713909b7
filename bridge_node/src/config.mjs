// @ts-check
/**
 * The bridge's settings, read once from the environment (docs/PROTOCOL.md "Processes").
 */

/** Raised when a required environment variable is absent or empty. */
export class MissingSetting extends Error {
  /** @param {string} name the environment variable that is missing */
  constructor(name) {
    super(`missing required environment variable ${name}`);
    this.name = 'MissingSetting';
    this.variable = name;
  }
}

/** Raised when an environment variable holds a value the bridge cannot use. */
export class InvalidSetting extends Error {
  /**
   * @param {string} name the environment variable
   * @param {string} why what is wrong with it
   */
  constructor(name, why) {
    super(`invalid environment variable ${name}: ${why}`);
    this.name = 'InvalidSetting';
    this.variable = name;
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * @typedef {object} BridgeConfig
 * @property {string} relayUrl WebSocket URL of the relay's bridge endpoint
 * @property {string} tenant the tenant's id
 * @property {string} token the tenant's bridge secret; never logged
 * @property {string} sessionDir directory holding the session database and lock
 * @property {string} logLevel pino level
 * @property {string | undefined} fakeSocketControl path of the fake socket's control file (tests only)
 * @property {{min: number, max: number}} sendGapMs random pause between two sends
 */

/**
 * Read the bridge's settings from an environment.
 * @param {Record<string, string | undefined>} env usually process.env
 * @returns {BridgeConfig}
 * @throws {MissingSetting | InvalidSetting}
 */
export function readConfig(env) {
  const required = (/** @type {string} */ name) => {
    const value = env[name];
    if (value === undefined || value.trim() === '') throw new MissingSetting(name);
    return value;
  };
  const relayUrl = required('PUENTE_RELAY_URL');
  const tenant = required('PUENTE_TENANT');
  const token = required('PUENTE_BRIDGE_TOKEN');
  const sessionDir = required('PUENTE_SESSION_DIR');
  if (!/^wss?:\/\//.test(relayUrl)) {
    throw new InvalidSetting('PUENTE_RELAY_URL', 'must start with ws:// or wss://');
  }
  const logLevel = (env.PUENTE_LOG_LEVEL || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new InvalidSetting('PUENTE_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    relayUrl,
    tenant,
    token,
    sessionDir,
    logLevel,
    fakeSocketControl: env.PUENTE_FAKE_SOCKET || undefined,
    sendGapMs: parseGap(env.PUENTE_SEND_GAP_MS),
  };
}

/**
 * Parse "MIN-MAX" milliseconds; the default keeps sends from looking machine-made.
 * @param {string | undefined} text
 * @returns {{min: number, max: number}}
 */
function parseGap(text) {
  if (!text) return { min: 150, max: 600 };
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!match || Number(match[1]) > Number(match[2])) {
    throw new InvalidSetting('PUENTE_SEND_GAP_MS', 'expected MIN-MAX in milliseconds, e.g. 150-600');
  }
  return { min: Number(match[1]), max: Number(match[2]) };
}
