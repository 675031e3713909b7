// @ts-check
/**
 * main.mjs as the relay's supervisor runs it: a child process with the docs/PROTOCOL.md
 * environment, the fake socket driven through its JSONL control file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { FakeRelay } from './support/fake_relay.mjs';
import { tempDir, waitUntil } from './support/bridge_harness.mjs';
import { fixture } from './support/real_shapes.mjs';

const MAIN = fileURLToPath(new URL('../src/main.mjs', import.meta.url));
const TOKEN = 'very-secret-bridge-token';

/**
 * @param {Record<string, string | undefined>} env
 * @returns {{child: import('node:child_process').ChildProcess, exit: Promise<number | null>, output: {stdout: string, stderr: string}}}
 */
function runBridge(env) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => { output.stdout += d; });
  child.stderr?.on('data', (d) => { output.stderr += d; });
  const exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, output };
}

/** @param {string} relayUrl @param {string} [dir] */
function bridgeEnv(relayUrl, dir = tempDir()) {
  return {
    PUENTE_RELAY_URL: relayUrl,
    PUENTE_TENANT: 'tienda-sol',
    PUENTE_BRIDGE_TOKEN: TOKEN,
    PUENTE_SESSION_DIR: path.join(dir, 'session'),
    PUENTE_FAKE_SOCKET: path.join(dir, 'control.jsonl'),
    PUENTE_SEND_GAP_MS: '0-0',
  };
}

/** @param {string} file @param {Record<string, any>} action */
function control(file, action) {
  fs.appendFileSync(file, `${JSON.stringify(action)}\n`);
}

describe('main.mjs', () => {
  test('a missing required variable exits 2 with one stderr line naming it', async () => {
    const full = bridgeEnv('ws://127.0.0.1:9/bridge');
    for (const name of ['PUENTE_RELAY_URL', 'PUENTE_TENANT', 'PUENTE_BRIDGE_TOKEN', 'PUENTE_SESSION_DIR']) {
      const run = runBridge({ ...full, [name]: undefined });
      assert.equal(await run.exit, 2, name);
      const lines = run.output.stderr.trim().split('\n');
      assert.equal(lines.length, 1);
      assert.match(lines[0], new RegExp(name));
    }
  });

  test('runs on the control file: QR, login, messages and sends, logging JSON with the tenant', async () => {
    const relay = new FakeRelay();
    const env = bridgeEnv(await relay.listen());
    const run = runBridge(env);
    try {
      const qr = await relay.waitForFrame((f) => f.type === 'qr', { timeoutMs: 10_000 });
      assert.match(qr.qr, /^fake-qr-/);
      control(env.PUENTE_FAKE_SOCKET, { op: 'open', phone: '56911112222', name: 'Tienda' });
      await relay.waitForFrame((f) => f.type === 'status' && f.state === 'connected');
      control(env.PUENTE_FAKE_SOCKET, { op: 'message', id: 'P1', chat: '56933334444@s.whatsapp.net', text: 'hola', push_name: 'Ana' });
      const message = await relay.waitForFrame((f) => f.type === 'message' && f.id === 'P1');
      assert.equal(message.text, 'hola');
      // A WAMessage replayed as WhatsApp sent it (a field report's log line) goes the same way.
      control(env.PUENTE_FAKE_SOCKET, { op: 'message', raw: fixture('reaction') });
      control(env.PUENTE_FAKE_SOCKET, { op: 'message', raw: fixture('lid_with_alt') });
      const replayed = await relay.waitForFrame((f) => f.type === 'message' && f.id === fixture('lid_with_alt').key.id);
      assert.equal(replayed.chat, '56933334444@s.whatsapp.net');
      assert.ok(!relay.frames.some((f) => f.id === fixture('reaction').key.id), 'the reaction is not forwarded');
      relay.send({ type: 'send', ref: 'S1', chat: '56933334444@s.whatsapp.net', text: 'buenas' });
      const result = await relay.waitForFrame((f) => f.type === 'result' && f.ref === 'S1');
      assert.equal(result.ok, true);
      const out = fs.readFileSync(`${env.PUENTE_FAKE_SOCKET}.out`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(out.filter((r) => r.op === 'sent').map((r) => r.text), ['buenas']);
      relay.send({ type: 'shutdown' });
      assert.equal(await run.exit, 0);
      const logLines = run.output.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(logLines.length > 3);
      assert.ok(logLines.every((l) => l.tenant === 'tienda-sol'));
      assert.ok(!run.output.stdout.includes(TOKEN), 'the token is never logged');
    } finally {
      run.child.kill();
      await relay.close();
    }
  });

  test('a second bridge on the same session directory is refused, then shutdown exits 0', async () => {
    const relay = new FakeRelay();
    const dir = tempDir();
    const first = runBridge(bridgeEnv(await relay.listen(), dir));
    try {
      await relay.waitForFrame((f) => f.type === 'status', { timeoutMs: 10_000 });
      const second = runBridge(bridgeEnv(await relay.listen(), dir));
      assert.equal(await second.exit, 3);
      assert.match(second.output.stderr, /session directory is in use by another bridge \(pid \d+/);
      assert.equal(relay.connections.length, 1, 'the second bridge never reached the relay');
      relay.send({ type: 'shutdown' });
      assert.equal(await first.exit, 0);
      assert.equal(fs.existsSync(path.join(dir, 'session', 'bridge.lock')), false, 'lock released');
    } finally {
      first.child.kill();
      await relay.close();
    }
  });

  test('close 4410 (tenant gone) exits 0 and 4401 (bad credentials) exits 4', async () => {
    for (const [code, expected] of [[4410, 0], [4401, 4]]) {
      const relay = new FakeRelay();
      const run = runBridge(bridgeEnv(await relay.listen()));
      try {
        await relay.waitForFrame((f) => f.type === 'status', { timeoutMs: 10_000 });
        relay.current.ws.close(code, 'bye');
        assert.equal(await run.exit, expected, `close ${code}`);
        assert.equal(relay.connections.length, 1, 'did not come back');
      } finally {
        run.child.kill();
        await relay.close();
      }
    }
  });

  test('SIGTERM stops the bridge cleanly with 0', async () => {
    const relay = new FakeRelay();
    const run = runBridge(bridgeEnv(await relay.listen()));
    try {
      await relay.waitForFrame((f) => f.type === 'status', { timeoutMs: 10_000 });
      run.child.kill('SIGTERM');
      assert.equal(await run.exit, 0);
      await waitUntil(() => relay.current.closeCode !== undefined, 2000, 'relay link closed');
      assert.equal(relay.current.closeCode, 1000);
    } finally {
      run.child.kill();
      await relay.close();
    }
  });
});
