// @ts-check
/**
 * Reading a message's media with a size cap and a deadline. The size a sender declares
 * (`fileLength`) is not trusted: bytes are counted as they arrive and the download is
 * abandoned past the cap, so a lying sender cannot fill the bridge's memory; a stalled CDN
 * cannot hold every later message either (Baileys sets no timeout of its own).
 */

/**
 * @typedef {{ok: true, data: Buffer} | {ok: false, omitted: 'too_large' | 'download_failed' | 'download_timeout', error?: unknown}} DownloadResult
 */

/**
 * @param {() => Promise<import('node:stream').Readable>} open starts the download
 * @param {{maxBytes: number, timeoutMs: number}} limits
 * @returns {Promise<DownloadResult>}
 */
export function downloadLimited(open, { maxBytes, timeoutMs }) {
  return new Promise((resolve) => {
    /** @type {import('node:stream').Readable | undefined} */
    let stream;
    let done = false;
    /** @param {DownloadResult} result */
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Destroying stops reading; Baileys' decrypting stream then stops pulling from the CDN.
      if (!result.ok && stream && !stream.destroyed) stream.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, omitted: 'download_timeout' }), timeoutMs);
    open().then((opened) => {
      if (done) {
        opened.destroy();
        return;
      }
      stream = opened;
      /** @type {Buffer[]} */
      const chunks = [];
      let total = 0;
      opened.on('data', (/** @type {Buffer} */ chunk) => {
        total += chunk.length;
        if (total > maxBytes) finish({ ok: false, omitted: 'too_large' });
        else chunks.push(chunk);
      });
      opened.on('end', () => finish({ ok: true, data: Buffer.concat(chunks, total) }));
      opened.on('error', (error) => finish({ ok: false, omitted: 'download_failed', error }));
    }, (error) => finish({ ok: false, omitted: 'download_failed', error }));
  });
}
