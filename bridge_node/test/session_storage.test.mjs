// @ts-check
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import pino from 'pino';
import { AuthStore } from '../src/auth_state.mjs';
import { MessageOutbox } from '../src/message_outbox.mjs';
import { SendLedger } from '../src/send_ledger.mjs';
import { openSessionDatabase, SchemaTooNew } from '../src/session_database.mjs';
import { SessionLock, SessionLocked } from '../src/session_lock.mjs';
import { tempDir } from './support/bridge_harness.mjs';

const silent = pino({ level: 'silent' });

describe('auth state in SQLite', () => {
  test('creds and keys of any type round-trip with their buffers, in one file', async () => {
    const dir = tempDir();
    const db = openSessionDatabase(dir);
    const store = new AuthStore(db, silent);
    const { creds } = store.load();
    assert.equal(creds.registered, false);
    // Linked as pair-success leaves it: `me` and `account` (a QR login never sets `registered`).
    creds.me = { id: '56911112222:7@s.whatsapp.net', name: 'Tienda' };
    creds.account = /** @type {any} */ ({ details: Buffer.from('adv') });
    store.saveCreds(creds);

    const keys = store.keyStore();
    await keys.set(/** @type {any} */ ({
      'pre-key': { 1: { public: Buffer.from([1, 2]), private: Buffer.from([3, 4]) } },
      'lid-mapping': { '56911112222': '99911112222' },
      'device-list': { '56911112222': ['0', '7'] },
      tctoken: { '56933334444@s.whatsapp.net': { token: Buffer.from('tc'), timestamp: '1700000000' } },
      // A key type this code has never heard of is stored all the same.
      'future-type': { x: { hello: 'world' } },
    }));
    db.close();

    const reopened = new AuthStore(openSessionDatabase(dir), silent);
    assert.equal(reopened.isRegistered(), true);
    assert.deepEqual(reopened.load().creds.noiseKey, creds.noiseKey);
    const again = reopened.keyStore();
    const preKey = (await again.get('pre-key', ['1', '2']))['1'];
    assert.ok(Buffer.isBuffer(preKey.public));
    assert.deepEqual([...preKey.private], [3, 4]);
    assert.deepEqual(await again.get('lid-mapping', ['56911112222']), { '56911112222': '99911112222' });
    assert.deepEqual(await again.get('device-list', ['56911112222']), { '56911112222': ['0', '7'] });
    const token = (await again.get('tctoken', ['56933334444@s.whatsapp.net']))['56933334444@s.whatsapp.net'];
    assert.equal(token.token.toString(), 'tc');
    assert.deepEqual(await again.get(/** @type {any} */ ('future-type'), ['x']), { x: { hello: 'world' } });
    assert.deepEqual(fs.readdirSync(dir).filter((f) => !f.includes('-wal') && !f.includes('-shm')), ['session.sqlite3']);
  });

  test('a null value deletes a key, and a failing set changes nothing', async () => {
    const db = openSessionDatabase(tempDir());
    const keys = new AuthStore(db, silent).keyStore();
    await keys.set({ session: { a: Buffer.from('1'), b: Buffer.from('2') } });
    await keys.set({ session: { a: null } });
    assert.deepEqual(Object.keys(await keys.get('session', ['a', 'b'])), ['b']);
    const circular = /** @type {any} */ ({});
    circular.self = circular;
    await assert.rejects(async () => keys.set({ session: { c: Buffer.from('3') }, 'sender-key': { d: circular } }));
    assert.deepEqual(Object.keys(await keys.get('session', ['c'])), [], 'the whole set rolled back');
  });

  test('wipe forgets creds and keys', async () => {
    const db = openSessionDatabase(tempDir());
    const store = new AuthStore(db, silent);
    const { creds } = store.load();
    store.saveCreds({ ...creds, me: { id: '56911112222:7@s.whatsapp.net' }, account: /** @type {any} */ ({ details: Buffer.from('adv') }) });
    assert.equal(store.isRegistered(), true);
    await store.keyStore().set({ session: { a: Buffer.from('1') } });
    store.wipe();
    assert.equal(store.isRegistered(), false);
    assert.deepEqual(await store.keyStore().get('session', ['a']), {});
  });

  test('a database from a newer bridge is refused', () => {
    const dir = tempDir();
    const db = openSessionDatabase(dir);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => openSessionDatabase(dir), SchemaTooNew);
  });
});

describe('outbox and send ledger', () => {
  test('the outbox keeps frames in arrival order, once per id, until acked', () => {
    const outbox = new MessageOutbox(openSessionDatabase(tempDir()));
    const frame = (/** @type {string} */ id) => /** @type {any} */ ({ type: 'message', id, text: id });
    assert.equal(outbox.add(frame('b')), true);
    outbox.add(frame('a'));
    assert.equal(outbox.add(frame('b')), false);
    outbox.add(frame('c'));
    outbox.ack('a');
    assert.deepEqual(outbox.pending().map((f) => f.id), ['b', 'c']);
  });

  test('the ledger tells done, unfinished and abandoned sends apart', () => {
    const ledger = new SendLedger(openSessionDatabase(tempDir()));
    ledger.begin('r1', 'm1');
    assert.deepEqual(ledger.find('r1'), { state: 'unfinished', messageId: 'm1' });
    ledger.complete('r1', { ok: true, message_id: 'm1' });
    assert.deepEqual(ledger.find('r1'), { state: 'done', outcome: { ok: true, message_id: 'm1' } });
    ledger.begin('r2', 'm2');
    ledger.abandon('r2');
    assert.equal(ledger.find('r2'), undefined);
  });
});

describe('session lock', () => {
  test('a second bridge on the same directory is refused while the first lives', () => {
    const dir = tempDir();
    const lock = SessionLock.acquire(dir);
    assert.throws(() => SessionLock.acquire(dir), (error) => error instanceof SessionLocked && error.pid === process.pid);
    lock.release();
    SessionLock.acquire(dir).release();
    assert.equal(fs.existsSync(path.join(dir, 'bridge.lock')), false);
  });

  test('a stale lock left by a dead process is taken over', () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    fs.writeFileSync(path.join(dir, 'bridge.lock'), `${dead.stdout.toString()}\n`);
    const lock = SessionLock.acquire(dir);
    assert.equal(fs.readFileSync(path.join(dir, 'bridge.lock'), 'utf8').trim(), String(process.pid));
    lock.release();
  });
});
