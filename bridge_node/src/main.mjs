#!/usr/bin/env node
// @ts-check
/**
 * Entry point: `node bridge_node/src/main.mjs`. Only this file decides exit codes:
 * 0 done (shutdown, tenant gone, QR timeout, signal), 1 crash, 2 bad environment,
 * 3 session directory locked, 4 relay rejected the credentials (close 4401).
 */
import { InvalidSetting, MissingSetting, readConfig } from './config.mjs';
import { SessionLocked } from './session_lock.mjs';

const EXIT_CRASH = 1;
const EXIT_BAD_ENVIRONMENT = 2;
const EXIT_SESSION_LOCKED = 3;
/** @type {Record<string, number>} stop reasons that are failures; every other one exits 0 */
const EXIT_BY_STOP_REASON = { bad_credentials: 4 };

async function main() {
  let config;
  try {
    config = readConfig(process.env);
  } catch (error) {
    if (error instanceof MissingSetting || error instanceof InvalidSetting) {
      process.stderr.write(`puente bridge: ${error.message}\n`);
      return EXIT_BAD_ENVIRONMENT;
    }
    throw error;
  }
  // Loaded only now, so a bad environment is reported without loading Baileys first.
  const { BridgeApp } = await import('./bridge_app.mjs');
  let app;
  try {
    app = await BridgeApp.start(config);
  } catch (error) {
    if (error instanceof SessionLocked) {
      process.stderr.write(`puente bridge: ${error.message}\n`);
      return EXIT_SESSION_LOCKED;
    }
    throw error;
  }
  // Baileys can leave a promise unhandled on a dropped connection; that is no reason to die.
  process.on('unhandledRejection', (reason) => {
    app.logger.error({ err: String(reason) }, 'unhandled rejection');
  });
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(signal, () => void app.stop(signal));
  }
  const reason = await app.exited;
  return EXIT_BY_STOP_REASON[reason] ?? 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`puente bridge: crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(EXIT_CRASH);
  },
);
