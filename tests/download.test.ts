/**
 * Data download against a local HTTP server on 127.0.0.1 (no real network): small IDX files in
 * MNIST's layout and a CIFAR-style .tar.gz made here, served with their md5s in a test manifest.
 * Verified files land under their final names and load; a checksum mismatch, an HTTP error and
 * a connection dropped mid-file leave no file behind; the CLI reaches the same code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError, loadDataset } from '../src/index.js';
import { downloadDataset, readTar, type DownloadManifest } from '../src/data/download.js';
import { repoRoot } from './helpers/shared-data.js';

function runCli(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'leantrain.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** IDX bytes: magic, dims, payload. */
function idx(magic: number, dims: number[], payload: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, payload]);
}

/** A ustar archive of (name, bytes) members. */
function tar(members: [string, Uint8Array][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of members) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const N = 20;
const files: Record<string, Buffer> = {
  'train-images-idx3-ubyte.gz': gzipSync(idx(2051, [N, 28, 28], new Uint8Array(N * 784).map((_, i) => i % 256))),
  'train-labels-idx1-ubyte.gz': gzipSync(idx(2049, [N], new Uint8Array(N).map((_, i) => i % 10))),
  't10k-images-idx3-ubyte.gz': gzipSync(idx(2051, [N, 28, 28], new Uint8Array(N * 784).map((_, i) => (7 * i) % 256))),
  't10k-labels-idx1-ubyte.gz': gzipSync(idx(2049, [N], new Uint8Array(N).map((_, i) => (i * 3) % 10))),
  'archive.tar.gz': gzipSync(tar([['pack/a.bin', Uint8Array.of(1, 2, 3)], ['pack/b.txt', Buffer.from('hello')]])),
};

async function withServer(fn: (base: string, hits: string[]) => Promise<void>): Promise<void> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    hits.push(name);
    if (name === 'drop.gz') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(300));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    await fn(base, hits);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const mnistManifest = (base: string): DownloadManifest => ({
  baseUrl: base,
  files: Object.keys(files).filter((f) => f.includes('ubyte')).map((name) => ({ name, md5: md5(files[name]) })),
});

test('download: verified files under their final names, loadable; present files are not fetched again', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-dl-'));
  try {
    await withServer(async (base, hits) => {
      const got = await downloadDataset('mnist', dir, { manifest: mnistManifest(base) });
      assert.equal(got.length, 4);
      for (const f of Object.keys(files).filter((n) => n.includes('ubyte'))) assert.ok(readFileSync(path.join(dir, f)).equals(files[f]), f);
      const train = loadDataset('mnist', { split: 'train', dataDir: dir });
      assert.equal(train.length, N);
      assert.deepEqual([...train.labels.subarray(0, 3)], [0, 1, 2]);
      const before = hits.length;
      await downloadDataset('mnist', dir, { manifest: mnistManifest(base) });
      assert.equal(hits.length, before, 'nothing fetched the second time');
      // An archive: verified, members extracted under new names, the archive removed.
      const arch = path.join(dir, 'arch');
      const out = await downloadDataset('x', arch, {
        manifest: { baseUrl: base, files: [{ name: 'archive.tar.gz', md5: md5(files['archive.tar.gz']), extract: { 'pack/a.bin': 'a.bin', 'pack/b.txt': 'b.txt' } }] },
      });
      assert.equal(out.length, 2);
      assert.deepEqual([...readFileSync(path.join(arch, 'a.bin'))], [1, 2, 3]);
      assert.equal(readFileSync(path.join(arch, 'b.txt'), 'utf8'), 'hello');
      assert.deepEqual(readdirSync(arch).sort(), ['a.bin', 'b.txt']);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('download: checksum mismatch, HTTP error and a dropped connection leave no file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-dl-'));
  try {
    await withServer(async (base) => {
      const bad = { baseUrl: base, files: [{ name: 'train-labels-idx1-ubyte.gz', md5: '0'.repeat(32) }] };
      await assert.rejects(downloadDataset('mnist', dir, { manifest: bad }), (e: unknown) => e instanceof DataError && /checksum mismatch/.test(String(e)));
      await assert.rejects(downloadDataset('mnist', dir, { manifest: { baseUrl: base, files: [{ name: 'missing.gz', md5: 'x' }] } }), /HTTP 404/);
      await assert.rejects(downloadDataset('mnist', dir, { manifest: { baseUrl: base, files: [{ name: 'drop.gz', md5: 'x' }] } }), /closed after 300/);
      // A write error (disk full: the .part path is a link to /dev/full) is a DataError too.
      if (existsSync('/dev/full')) {
        symlinkSync('/dev/full', path.join(dir, `train-labels-idx1-ubyte.gz.part-${process.pid}`));
        const full = { baseUrl: base, files: [{ name: 'train-labels-idx1-ubyte.gz', md5: md5(files['train-labels-idx1-ubyte.gz']) }] };
        await assert.rejects(downloadDataset('mnist', dir, { manifest: full }), (e: unknown) => e instanceof DataError && /cannot write/.test(String(e)));
      }
      assert.deepEqual(readdirSync(dir), [], 'no partial or corrupt file left');
      // The CLI: same code path through --base-url (official names, so the md5 cannot match here).
      // (an async child: a synchronous one would block this process's server)
      const r = await runCli(['data', 'download', 'mnist', '--dir', dir, '--base-url', base]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /checksum mismatch \(md5 [0-9a-f]{32}, expected f68b3c2dcbeaaa9fbdd348bbdeb94873\)/);
      assert.ok(!existsSync(path.join(dir, 'train-images-idx3-ubyte.gz')));
      for (const name of ['imagenet', 'constructor']) {
        assert.match(spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'leantrain.js'), 'data', 'download', name, '--dir', dir], { encoding: 'utf8' }).stderr, new RegExp(`no download for '${name}'`));
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readTar: members by path; a truncated archive is a DataError', () => {
  const t = tar([['d/x', Uint8Array.of(9, 8)]]);
  assert.deepEqual([...readTar(t, 't').get('d/x')!], [9, 8]);
  assert.throws(() => readTar(t.subarray(0, 513), 't.tar'), /truncated tar member 'd\/x'/);
});
