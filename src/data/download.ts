/**
 * `leantrain data download`: fetches a data set's official files over HTTP(S), verifies each
 * against the publisher's checksum (md5, as torchvision pins them), and leaves the files a
 * `--data-dir` expects. A download streams into `<file>.part-<pid>` and is renamed only after
 * its checksum matches; a failure (network, HTTP status, checksum) removes the partial file, so
 * no corrupt or half-written file is ever left under the final name. Archives (CIFAR's .tar.gz)
 * are verified, then their data files extracted (each written atomically) and the archive removed.
 * Files already present with the right checksum are not fetched again.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError, OptionError } from '../core/errors.js';

/** One file of a data set's distribution. */
export interface RemoteFile {
  /** File name under the base URL (and in the destination directory, unless extracted). */
  name: string;
  md5: string;
  /** For a .tar.gz: members to extract, by their path in the archive, to these names in the directory. */
  extract?: Record<string, string>;
}

export interface DownloadManifest {
  baseUrl: string;
  files: RemoteFile[];
}

/** The official locations and checksums (torchvision's pins). */
export const DOWNLOADS: Record<string, DownloadManifest> = {
  mnist: {
    baseUrl: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    ],
  },
  'fashion-mnist': {
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
      { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
    ],
  },
  cifar10: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    files: [{
      name: 'cifar-10-binary.tar.gz',
      md5: 'c32a1d4ab5d03f1284b67883e8d87530',
      extract: Object.fromEntries(
        ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin', 'batches.meta.txt']
          .map((f) => [`cifar-10-batches-bin/${f}`, f]),
      ),
    }],
  },
  cifar100: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    files: [{
      name: 'cifar-100-binary.tar.gz',
      md5: '03b5dce01913d631647c71ecec9e9cb8',
      extract: Object.fromEntries(['train.bin', 'test.bin', 'fine_label_names.txt', 'coarse_label_names.txt'].map((f) => [`cifar-100-binary/${f}`, f])),
    }],
  },
};

/** Progress of one file: bytes so far and the total when the server said (Content-Length). */
export type ProgressFn = (file: string, bytes: number, total: number | null) => void;

export interface DownloadOptions {
  /** Override the manifest (tests, mirrors). */
  manifest?: DownloadManifest;
  /** Replace the manifest's base URL (a mirror with the same file names). */
  baseUrl?: string;
  progress?: ProgressFn;
  info?: (line: string) => void;
}

function md5File(file: string): string {
  return createHash('md5').update(readFileSync(file)).digest('hex');
}

/** Streams `url` into `tmp`, returning its md5; follows up to 5 redirects. */
function fetchTo(url: string, tmp: string, file: string, progress: ProgressFn | undefined, redirects = 5): Promise<string> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        resolve(fetchTo(new URL(res.headers.location, url).toString(), tmp, file, progress, redirects - 1));
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new DataError(`download ${url}: HTTP ${status}`));
        return;
      }
      const total = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
      const hash = createHash('md5');
      let fd: number;
      try {
        fd = openSync(tmp, 'w');
      } catch (e) {
        res.destroy();
        reject(new DataError(`download ${url}: cannot write ${tmp} (${(e as Error).message})`));
        return;
      }
      let bytes = 0;
      let failed = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        closeSync(fd);
        res.destroy();
        reject(new DataError(`download ${url}: ${e.message}`));
      };
      res.on('data', (chunk: Buffer) => {
        if (failed) return;
        try {
          writeSync(fd, chunk);
        } catch (e) {
          fail(new Error(`cannot write ${tmp} (${(e as Error).message})`));
          return;
        }
        hash.update(chunk);
        bytes += chunk.length;
        progress?.(file, bytes, total);
      });
      res.on('aborted', () => fail(new Error(`connection closed after ${bytes} bytes`)));
      res.on('error', fail);
      res.on('end', () => {
        if (failed) return;
        if (total !== null && bytes !== total) {
          fail(new Error(`connection closed after ${bytes} of ${total} bytes`));
          return;
        }
        closeSync(fd);
        resolve(hash.digest('hex'));
      });
    });
    req.on('error', (e) => reject(new DataError(`download ${url}: ${e.message}`)));
    req.setTimeout(60_000, () => req.destroy(new Error('no data for 60 s')));
  });
}

/** Regular-file members of a (ustar / GNU) tar archive: path -> bytes. */
export function readTar(buf: Uint8Array, where: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const text = (o: number, n: number): string => {
    let e = o;
    while (e < o + n && buf[e] !== 0) e++;
    return Buffer.from(buf.subarray(o, e)).toString('utf8');
  };
  let off = 0;
  let longName: string | null = null;
  while (off + 512 <= buf.length) {
    if (buf.subarray(off, off + 512).every((b) => b === 0)) break;
    const size = parseInt(text(off + 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new DataError(`${where}: corrupt tar header at byte ${off}`);
    const type = String.fromCharCode(buf[off + 156] || 48);
    const prefix = text(off + 345, 155);
    let name = longName ?? (prefix ? `${prefix}/${text(off, 100)}` : text(off, 100));
    longName = null;
    const body = off + 512;
    if (body + size > buf.length) throw new DataError(`${where}: truncated tar member '${name}'`);
    if (type === 'L') longName = text(body, size);
    else if (type === '0' || type === '\0') {
      name = name.replace(/^\.\//, '');
      out.set(name, buf.subarray(body, body + size));
    }
    off = body + Math.ceil(size / 512) * 512;
  }
  return out;
}

/**
 * Downloads data set `name` into `dir` (created if needed) and returns the files written.
 * @example await downloadDataset('mnist', 'data/mnist');
 */
export async function downloadDataset(name: string, dir: string, opts: DownloadOptions = {}): Promise<string[]> {
  const manifest = opts.manifest ?? (Object.hasOwn(DOWNLOADS, name) ? DOWNLOADS[name] : undefined);
  if (manifest === undefined) throw new OptionError(`data download: no download for '${name}' (available: ${Object.keys(DOWNLOADS).join(', ')})`);
  const base = opts.baseUrl ?? manifest.baseUrl;
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const f of manifest.files) {
    const dest = path.join(dir, f.name);
    const targets = f.extract ? Object.values(f.extract).map((n) => path.join(dir, n)) : [dest];
    if (targets.every((t) => existsSync(t)) && (f.extract !== undefined || md5File(dest) === f.md5)) {
      opts.info?.(`${f.name}: already present`);
      continue;
    }
    const url = new URL(f.name, base).toString();
    const tmp = `${dest}.part-${process.pid}`;
    try {
      const md5 = await fetchTo(url, tmp, f.name, opts.progress);
      if (md5 !== f.md5) throw new DataError(`download ${url}: checksum mismatch (md5 ${md5}, expected ${f.md5}); the file was discarded`);
      if (f.extract === undefined) {
        renameSync(tmp, dest);
        written.push(dest);
      } else {
        const members = readTar(gunzipSync(readFileSync(tmp)), url);
        for (const [member, out] of Object.entries(f.extract)) {
          const data = members.get(member);
          if (data === undefined) throw new DataError(`download ${url}: the archive has no '${member}'`);
          const target = path.join(dir, out);
          const part = `${target}.part-${process.pid}`;
          try {
            writeFileSync(part, data);
            renameSync(part, target);
          } catch (e) {
            rmSync(part, { force: true });
            throw new DataError(`download ${url}: cannot write ${target} (${(e as Error).message})`);
          }
          written.push(target);
        }
        rmSync(tmp, { force: true });
      }
      opts.info?.(`${f.name}: ok (md5 ${md5})`);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return written;
}
