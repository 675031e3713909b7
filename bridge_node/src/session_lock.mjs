// @ts-check
/**
 * One writer per session directory: a lock file holding the owner's pid.
 */
import fs from 'node:fs';
import path from 'node:path';

const LOCK_NAME = 'bridge.lock';

/** Raised when another live process already holds the session directory. */
export class SessionLocked extends Error {
  /**
   * @param {string} lockPath
   * @param {number} pid the holder
   */
  constructor(lockPath, pid) {
    super(`session directory is in use by another bridge (pid ${pid}, lock ${lockPath})`);
    this.name = 'SessionLocked';
    this.pid = pid;
  }
}

/** An acquired lock on a session directory; release() removes it. */
export class SessionLock {
  /** @param {string} lockPath */
  constructor(lockPath) {
    this.lockPath = lockPath;
  }

  /**
   * Take the lock of a session directory, taking over a stale one left by a dead pid.
   * @param {string} sessionDir
   * @returns {SessionLock}
   * @throws {SessionLocked}
   */
  static acquire(sessionDir) {
    const lockPath = path.join(sessionDir, LOCK_NAME);
    if (tryCreate(lockPath)) return new SessionLock(lockPath);
    const holder = readPid(lockPath);
    if (holder !== undefined && isAlive(holder)) throw new SessionLocked(lockPath, holder);
    fs.rmSync(lockPath, { force: true });
    // A second bridge taking over the same stale lock at the same instant loses here.
    if (tryCreate(lockPath)) return new SessionLock(lockPath);
    throw new SessionLocked(lockPath, readPid(lockPath) ?? -1);
  }

  /** Remove the lock file if it is still ours. */
  release() {
    if (readPid(this.lockPath) === process.pid) fs.rmSync(this.lockPath, { force: true });
  }
}

/** @param {string} lockPath */
function tryCreate(lockPath) {
  try {
    fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'EEXIST') return false;
    throw error;
  }
}

/** @param {string} lockPath */
function readPid(lockPath) {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** @param {number} pid */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
  }
}
