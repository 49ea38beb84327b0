import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { parseMessage } from '../../lib/parse/parse-message.ts';
import { BoundedMailParser } from '../../lib/parse/bounded-mail-parser.ts';
import { assertValidShape, fixture, parseBuffer, parseFixture } from './parse-helpers.ts';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1');

describe('parseMessage: hostile messages never throw and say what went wrong', () => {
  it('MIME nested 30 deep stops at maxMimeDepth with parseError, keeping headers and the text already read', async () => {
    const m = await parseFixture('nested-30-deep.eml');
    assert.equal(m.parseError, 'MIME nesting deeper than 20');
    assert.equal(m.subject, 'deep');
    const deeper = await parseFixture('nested-30-deep.eml', { maxMimeDepth: 40 });
    assert.equal(deeper.parseError, null);
    assert.equal(deeper.snippet, 'the innermost text');
  });

  it('a 2 MB header block: parseError, the fields before it kept, the body not parsed', async () => {
    const m = await parseFixture('header-2mb.eml');
    assert.equal(m.parseError, 'header block larger than 262144 bytes');
    assert.equal(m.subject, 'huge header');
    assert.deepEqual(m.from, [{ name: 'Sender', address: 'sender@example.com' }]);
    assert.equal(m.snippet, '');
  });

  it('20,000 header lines (1 MB): the same cap applies to many small lines', async () => {
    const m = await parseFixture('many-header-lines.eml');
    assert.equal(m.parseError, 'header block larger than 262144 bytes');
    assert.equal(m.messageId, '<many-lines@example.com>');
    const relaxed = await parseFixture('many-header-lines.eml', { maxHeaderBytes: 2 * 1024 * 1024 });
    assert.equal(relaxed.parseError, null);
    assert.equal(relaxed.snippet, 'body');
  });

  it('no headers at all: everything is body, parseError says so', async () => {
    const m = await parseFixture('no-headers.eml');
    assert.equal(m.parseError, 'message has no header fields');
    assert.equal(m.subject, null);
    assert.deepEqual(m.from, []);
    assert.equal(m.snippet, 'This message has no header block at all. Just a body, as a broken relay left it. Second paragraph.');
  });

  it('header only, no body, no blank line: parsed, no error', async () => {
    const m = await parseFixture('header-only.eml');
    assert.equal(m.parseError, null);
    assert.equal(m.subject, 'header only, no body, no blank line');
    assert.equal(m.snippet, '');
  });

  it('an empty message', async () => {
    const m = await parseFixture('empty.eml');
    assert.equal(m.parseError, 'empty message');
    assert.deepEqual(
      { subject: m.subject, messageId: m.messageId, date: m.date, snippet: m.snippet },
      { subject: null, messageId: null, date: null, snippet: '' },
    );
  });

  it('NUL bytes in headers and body are dropped from display strings', async () => {
    const m = await parseFixture('nul-bytes.eml');
    assert.equal(m.subject, 'beforeafter');
    assert.equal(m.snippet, 'body with a NUL byte');
    assert.equal(m.parseError, null);
  });

  it('broken base64: best-effort decode, the attachment still listed with size and hash', async () => {
    const m = await parseFixture('broken-base64.eml');
    assert.equal(m.parseError, null);
    assert.ok(m.snippet.startsWith('decoded text'));
    assert.equal(m.attachments.length, 1);
    assert.equal(m.attachments[0]?.filename, 'broken.pdf');
    assert.match(m.attachments[0]!.sha256, /^[0-9a-f]{64}$/);
  });

  it('an unterminated multipart boundary: the parts up to the end of input', async () => {
    const m = await parseFixture('unterminated-boundary.eml');
    assert.equal(m.snippet, 'first part text');
    assert.deepEqual(
      m.attachments.map((a) => [a.filename, a.size]),
      [['cut.bin', 'partial attachment without an end'.length]],
    );
  });

  it('1,000 parts stops at maxParts with parseError and at most maxParts attachments', async () => {
    const m = await parseFixture('parts-1000.eml');
    assert.equal(m.parseError, 'more than 500 MIME parts');
    assert.ok(m.attachments.length > 0 && m.attachments.length <= 500, String(m.attachments.length));
    assert.equal(m.attachments[0]?.filename, 'p0.bin');
    const relaxed = await parseFixture('parts-1000.eml', { maxParts: 2000 });
    assert.equal(relaxed.parseError, null);
    assert.equal(relaxed.attachments.length, 1000);
  });

  it('never throws on arbitrary bytes, including header-looking garbage', async () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc
        .constantFrom(
          '\r\n',
          '\r\n\r\n',
          'Content-Type: multipart/mixed; boundary=x\r\n',
          '--x\r\n',
          '--x--\r\n',
          'Subject: =?utf-8?B?',
          '\x1b$B',
          ': ',
          'From: <>',
          'Content-Transfer-Encoding: base64\r\n',
        )
        .map((s) => Buffer.from(s, 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), async (pieces, chunk) => {
        const m = await parseBuffer(Buffer.concat(pieces), { timeoutMs: 10_000 }, chunk);
        assertValidShape(m);
      }),
      { numRuns: 150 },
    );
  });

  it('reads input delivered one byte at a time', async () => {
    const buf = fixture('raw-iso2022jp-headers.eml');
    const m = await parseBuffer(buf, undefined, 1);
    assert.equal(m.subject, '会議のお知らせ①㈱髙');
    assert.equal(m.attachments[0]?.filename, '見積書.pdf');
  });
});

describe('parseMessage: the source stream', () => {
  it('is destroyed when parsing stops early (limit), so a producer teeing into it is never blocked', async () => {
    const source = new PassThrough();
    source.end(fixture('header-2mb.eml'));
    const m = await parseMessage(source);
    assert.equal(m.parseError, 'header block larger than 262144 bytes');
    assert.equal(source.destroyed, true);
  });

  it('a source that fails mid-way gives parseError and the headers read so far', async () => {
    const source = new Readable({ read() {} });
    source.push(crlf('Subject: cut short\nFrom: a@example.com\n\nsome body'));
    setImmediate(() => source.destroy(new Error('connection reset')));
    const m = await parseMessage(source);
    assert.match(m.parseError ?? '', /connection reset/);
    assert.equal(m.subject, 'cut short');
    assertValidShape(m);
  });

  it('a source that never ends times out with parseError instead of hanging', async () => {
    const source = new Readable({ read() {} });
    source.push(crlf('Subject: stalled\n\nbody that never ends'));
    const started = Date.now();
    const m = await parseMessage(source, { timeoutMs: 200 });
    assert.ok(Date.now() - started < 5000);
    assert.equal(m.parseError, 'parsing timed out after 200 ms');
    assert.equal(m.subject, 'stalled');
    assert.equal(source.destroyed, true);
  });
});

describe('parseMessage: bounded memory', () => {
  // Live memory, not RSS: forced collections before each sample leave only what is really retained (JS heap plus
  // Buffer backing stores), so the measure does not depend on when V8 chooses to collect the garbage a streamed
  // message leaves behind.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const live = (): number => {
    gc();
    gc(); // the second pass frees the Buffer backing stores whose wrappers the first one collected
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  async function peakGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
    const before = live();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, live());
    }, 250);
    try {
      const result = await work();
      return { result, growth: peak - before };
    } finally {
      clearInterval(sampler);
    }
  }

  /** A message generated on the fly: its body is never in memory as a whole, here or in the parser. */
  function bigMessage(headers: string, line: string, lines: number, trailer: string): Readable {
    const lineBytes = Buffer.from(line, 'latin1');
    let i = -1;
    return new Readable({
      read() {
        i++;
        if (i === 0) this.push(crlf(headers));
        else if (i <= lines) this.push(lineBytes);
        else if (i === lines + 1) this.push(crlf(trailer));
        else this.push(null);
      },
    });
  }

  it('hashes a 64 MB attachment as it streams (size and SHA-256 right) without holding it', async () => {
    const raw = Buffer.alloc(57 * 1024, 0xab);
    const line = Buffer.from(`${raw.toString('base64').replace(/(.{76})/g, '$1\r\n')}\r\n`);
    const parts = 1150; // 1150 * 57 KiB = ~64 MB decoded
    const expected = createHash('sha256');
    for (let k = 0; k < parts; k++) expected.update(raw);
    const { result: m, growth } = await peakGrowth(() =>
      parseMessage(
        bigMessage(
          'Subject: big\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsmall text\n--b\nContent-Type: application/octet-stream; name=big.bin\nContent-Transfer-Encoding: base64\n\n',
          line.toString('latin1'),
          parts,
          '--b--\n',
        ),
      ),
    );
    assert.equal(m.parseError, null);
    assert.equal(m.snippet, 'small text');
    assert.equal(m.attachments[0]?.size, raw.length * parts);
    assert.equal(m.attachments[0]?.sha256, expected.digest('hex'));
    assert.ok(growth < 24 * 1024 * 1024, `live memory grew by ${Math.round(growth / 1048576)} MB`);
  });

  it('keeps only a bounded prefix of a 40 MB text body (snippet right, memory flat)', async () => {
    const line = `${'x'.repeat(998)}\r\n`;
    const { result: m, growth } = await peakGrowth(() =>
      parseMessage(bigMessage('Subject: long text\nContent-Type: text/plain; charset=utf-8\n\nSTART ', line, 40_000, 'END\n'), {
        snippetChars: 20,
      }),
    );
    assert.equal(m.parseError, null);
    assert.equal(m.snippet, `START ${'x'.repeat(14)}`);
    assert.ok(growth < 24 * 1024 * 1024, `live memory grew by ${Math.round(growth / 1048576)} MB`);
  });
});

describe('BoundedMailParser relies on mailparser internals', () => {
  it('still finds createNode, processHeaders, decoder.decodeStream and tree (fails loudly on a mailparser upgrade that moves them)', () => {
    const parser = new BoundedMailParser({
      maxMimeDepth: 1,
      maxParts: 1,
      maxHeaderBytes: 1024,
      textBytesPerPart: 1,
      textBytesTotal: 1,
      onLimit: () => undefined,
    });
    const internals = parser as unknown as Record<string, unknown>;
    assert.equal(typeof internals['createNode'], 'function');
    assert.equal(typeof internals['processHeaders'], 'function');
    assert.equal(typeof (internals['decoder'] as { decodeStream?: unknown }).decodeStream, 'function');
    assert.ok('tree' in internals);
    assert.equal(typeof Object.getPrototypeOf(Object.getPrototypeOf(parser)).createNode, 'function');
    parser.destroy();
  });
});
