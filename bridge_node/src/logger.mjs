// @ts-check
/**
 * The bridge's pino loggers: JSON on stdout, the tenant on every line, secrets redacted.
 */
import pino from 'pino';

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Paths that could carry a secret if someone ever logs a whole object. */
const REDACTED = [
  'token', '*.token', 'authorization', '*.authorization', 'headers.Authorization',
  'creds', '*.creds', 'keys', '*.keys', 'auth', '*.auth',
];

/**
 * @param {{tenant: string, level: string}} options
 * @param {import('pino').DestinationStream} [destination] stdout unless given (tests)
 * @returns {import('pino').Logger}
 */
export function createLogger({ tenant, level }, destination) {
  return pino({
    level,
    base: { tenant },
    redact: { paths: REDACTED, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination ?? pino.destination({ dest: 1, sync: true }));
}

/**
 * The logger handed to Baileys: no chattier than `warn`, since Baileys' debug output
 * includes protocol nodes that are noise at best.
 * @param {import('pino').Logger} logger
 * @returns {import('pino').Logger}
 */
export function baileysLogger(logger) {
  const level = LEVEL_ORDER.indexOf(logger.level) > LEVEL_ORDER.indexOf('warn') ? logger.level : 'warn';
  return logger.child({ component: 'baileys' }, { level });
}
