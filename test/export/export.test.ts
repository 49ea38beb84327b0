import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { MboxrdQuoter, ZipWriter, splitMboxrd } from '../../lib/export/index.ts';
import { cli } from '../cli/cli-helpers.ts';
import {
  hostileHtml,
  japaneseQuote,
  makeArchive,
  newsletterWithLogo,
  plain,
  quoteReply,
  sha256,
  type Archive,
} from '../search/archive-fixture.ts';
import { readZip } from './zip-reader.ts';

function quoteAll(chunks: Buffer[]): Buffer {
  const q = new MboxrdQuoter();
  return Buffer.concat([...chunks.flatMap((c) => q.push(c)), ...q.end()]);
}

const python = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('mboxrd quoting', () => {
  it('quotes ">*From " at every line start, whatever the chunking, and splitting undoes it exactly', () => {
    const line = fc.constantFrom('From a', '>From b', '>>From c', 'From', 'Fro', '', 'x From y', '\r', 'From \r', 'hello');
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 30 }), (lines, cuts) => {
        const message = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
        const whole = quoteAll([message]);
        const chunks: Buffer[] = [];
        let at = 0;
        for (const c of cuts) {
          if (at >= message.length) break;
          chunks.push(message.subarray(at, at + c));
          at += c;
        }
        if (at < message.length) chunks.push(message.subarray(at));
        assert.ok(quoteAll(chunks).equals(whole), 'chunking does not change the output');
        for (const l of whole.toString('latin1').split('\n')) assert.doesNotMatch(l, /^From /);
        const mbox = Buffer.concat([Buffer.from('From x@y Mon Mar  3 01:00:00 2025\n'), whole, Buffer.from('\n')]);
        const [back] = splitMboxrd(mbox);
        assert.ok(back!.bytes.equals(message), 'split restores the bytes');
      }),
      { numRuns: 300 },
    );
  });
});

describe('zip writer', () => {
  for (const forceZip64 of [false, true]) {
    it(`writes stored and deflated entries with UTF-8 names${forceZip64 ? ' as ZIP64' : ''}, readable by two independent readers`, async () => {
      const sink = new PassThrough();
      const parts: Buffer[] = [];
      sink.on('data', (c: Buffer) => parts.push(c));
      const zip = new ZipWriter(sink, { forceZip64 });
      const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
      await zip.addStream(
        'support/見積書.eml',
        (async function* () {
          for (let i = 0; i < big.length; i += 65_536) yield big.subarray(i, i + 65_536);
        })(),
        { expectedSize: big.length },
      );
      await zip.addBuffer('manifest.csv', Buffer.from('id\r\n1\r\n'));
      await zip.addStream('empty.eml', (async function* () {})());
      await zip.finish();
      sink.end();
      const file = Buffer.concat(parts);
      const entries = readZip(file);
      assert.deepEqual(
        entries.map((e) => ({ name: e.name, method: e.method, zip64: e.zip64, size: e.data.length })),
        [
          { name: 'support/見積書.eml', method: 8, zip64: forceZip64, size: big.length },
          { name: 'manifest.csv', method: 0, zip64: forceZip64, size: 7 },
          { name: 'empty.eml', method: 8, zip64: forceZip64, size: 0 },
        ],
      );
      assert.ok(entries[0]!.data.equals(big));
      await assert.rejects(zip.addBuffer('late', Buffer.alloc(1)), { code: 'EZIP' });
      if (python) {
        const out = execFileSync(
          'python3',
          [
            '-c',
            [
              'import sys, zipfile, hashlib',
              'z = zipfile.ZipFile(sys.stdin.buffer.raw if False else __import__("io").BytesIO(sys.stdin.buffer.read()))',
              'assert z.testzip() is None',
              'print("\\n".join(f"{i.filename} {i.file_size} {hashlib.sha256(z.read(i)).hexdigest()}" for i in z.infolist()))',
            ].join('\n'),
          ],
          { input: file },
        )
          .toString('utf8')
          .trim()
          .split('\n');
        assert.deepEqual(out, [
          `support/見積書.eml ${big.length} ${sha256(big)}`,
          `manifest.csv 7 ${sha256('id\r\n1\r\n')}`,
          `empty.eml 0 ${sha256('')}`,
        ]);
      }
    });
  }

  it('refuses names that would escape the folder they are extracted to', async () => {
    const zip = new ZipWriter(new PassThrough());
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a\\b', ''])
      await assert.rejects(zip.addBuffer(bad, Buffer.alloc(0)), { code: 'EZIP' }, bad);
  });
});

describe('mail-ingest export: round trip through the real CLI', () => {
  let archive: Archive;
  let messages: Buffer[];
  before(async () => {
    messages = [
      japaneseQuote(),
      quoteReply(),
      hostileHtml('http://127.0.0.1:9'),
      newsletterWithLogo('http://127.0.0.1:9'),
      Buffer.from('From: x@y\r\nSubject: no final newline\r\n\r\nFrom the start, no line end'),
    ];
    archive = await makeArchive({ support: messages, sales: [plain(1), plain(2)] });
  });
  after(async () => {
    await archive?.remove();
  });

  it('mbox: every message re-splits to exactly its archived bytes; the manifest and the printed sha256 match', async () => {
    const out = path.join(archive.dir, 'support.mbox');
    const r = await cli(['export', '--config', archive.configPath, '--out', out, '--format', 'mbox', '--mailbox', 'support']);
    assert.equal(r.code, 0, r.stderr);
    const file = await readFile(out);
    assert.match(
      r.stdout,
      new RegExp(`^${sha256(file)}  ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
      "the printed sha256 is the file's",
    );
    const manifest = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8')) as {
      messages: Array<{ sha256: string; size: number; mailbox: string; key: string; uidl: string }>;
    };
    assert.equal(manifest.messages.length, messages.length);
    const split = splitMboxrd(file);
    assert.equal(split.length, messages.length);
    split.forEach((m, i) => {
      const entry = manifest.messages[i]!;
      // mboxrd cannot end a message without a line end: the manifest's size tells the reader where it stops.
      assert.equal(sha256(m.bytes.subarray(0, entry.size)), entry.sha256, `message ${i + 1} is its archived bytes`);
      assert.match(m.fromLine, /^From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    });
    assert.deepEqual(manifest.messages.map((e) => e.sha256).sort(), messages.map((m) => sha256(m)).sort());
    const csv = await readFile(`${out}.manifest.csv`, 'utf8');
    assert.ok(csv.startsWith('\ufeffid,mailbox,uidl,date,from,subject,sha256,size,key,bucket,file,oversized\r\n'));
    assert.match(csv, /見積書の送付について/);
  });

  it('eml-zip with --query: the matching messages byte for byte, manifests inside and beside', async () => {
    const out = path.join(archive.dir, 'quote.zip');
    const r = await cli(['export', '--config', archive.configPath, '--out', out, '--format', 'eml-zip', '--query', '見積', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { messages: number; sha256: string };
    const file = await readFile(out);
    assert.equal(summary.sha256, sha256(file));
    const entries = readZip(file);
    const emls = entries.filter((e) => e.name.endsWith('.eml'));
    assert.deepEqual(emls.map((e) => sha256(e.data)).sort(), [japaneseQuote(), quoteReply()].map((m) => sha256(m)).sort());
    assert.ok(emls.every((e) => /^support\/\d{4}-\d{2}-\d{2}_[0-9a-f]{64}\.eml$/.test(e.name)));
    const inside = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8')) as {
      messages: Array<{ file: string }>;
    };
    assert.deepEqual(inside.messages.map((m) => m.file).sort(), emls.map((e) => e.name).sort());
    assert.ok(existsSync(`${out}.manifest.csv`));
  });

  it('refuses an existing --out, a bad format and a bad date; a tampered message stops the export with no file left', async () => {
    const out = path.join(archive.dir, 'support.mbox');
    assert.equal((await cli(['export', '--config', archive.configPath, '--out', out, '--format', 'mbox'])).code, 2);
    assert.equal((await cli(['export', '--config', archive.configPath, '--out', `${out}2`, '--format', 'pst'])).code, 2);
    const bad = await cli(['export', '--config', archive.configPath, '--out', `${out}3`, '--format', 'mbox', '--since', '2025-13-01']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since: expected a day as YYYY-MM-DD/);

    const events = (await readFile(path.join(archive.storeDir, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { mailbox: string; raw: { key: string } });
    const victim = events.find((e) => e.mailbox === 'sales')!;
    await appendFile(path.join(archive.storeDir, victim.raw.key), 'tampered');
    const tampered = path.join(archive.dir, 'sales.zip');
    const r = await cli(['export', '--config', archive.configPath, '--out', tampered, '--format', 'eml-zip', '--mailbox', 'sales']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not match its record/);
    assert.deepEqual(
      (await readdir(archive.dir)).filter((n) => n.startsWith('sales.zip')),
      [],
      'neither the file nor a partial one',
    );
    await writeFile(
      path.join(archive.storeDir, victim.raw.key),
      (await readFile(path.join(archive.storeDir, victim.raw.key))).subarray(0, -'tampered'.length),
    );
  });
});
