import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DotDecoder, DotUnstuffer } from '../../lib/pop3/dot-unstuffer.ts';
import { dotStuff } from '../helpers/fake-pop3-server.ts';

/**
 * The obvious, slow reading of RFC 1939 section 3, line by line over the whole input: a line is what ends with LF;
 * ".CRLF" ends the response; any other line starting with "." loses that dot. Returns null without a terminator.
 */
function reference(wire: Buffer): { body: Buffer; end: number } | null {
  const out: Buffer[] = [];
  let start = 0;
  while (start < wire.length) {
    const nl = wire.indexOf(0x0a, start);
    if (nl === -1) return null;
    const line = wire.subarray(start, nl + 1);
    if (line.length === 3 && line[0] === 0x2e && line[1] === 0x0d) return { body: Buffer.concat(out), end: nl + 1 };
    out.push(line[0] === 0x2e ? line.subarray(1) : line);
    start = nl + 1;
  }
  return null;
}

/** Feeds `wire` cut at `cuts` and returns what the decoder produced and where (absolute offset) it stopped. */
function decodeSplit(wire: Buffer, cuts: readonly number[]): { body: Buffer; end: number } | null {
  const decoder = new DotDecoder();
  const out: Buffer[] = [];
  const bounds = [0, ...cuts, wire.length];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const chunk = wire.subarray(bounds[k], bounds[k + 1]);
    if (chunk.length === 0) continue;
    const end = decoder.decode(chunk, (piece) => out.push(Buffer.from(piece)));
    if (end !== -1) return { body: Buffer.concat(out), end: bounds[k]! + end };
  }
  return null;
}

const samples: Array<[string, string]> = [
  ['empty message', '.\r\n'],
  ['one line', 'hello\r\n.\r\n'],
  ['stuffed dot line', '..\r\n.\r\n'],
  ['stuffed leading dots', '..hidden\r\n...two\r\n.\r\n'],
  ['dot CR not followed by LF', '.\rx\r\n.\r\n'],
  ['dot then bare LF', '.\nnext\r\n.\r\n'],
  ['terminator lookalike mid-line', 'a.\r\n.b\r\n.\r\n'],
  ['bare LF line ends', 'a\n..b\n.\r\n'],
  ['bare CR inside', 'a\rb\r\r\n.\r\n'],
  ['NUL and 8-bit', 'a\u0000\u00ff\u0080\r\n.\r\n'],
  ['trailing bytes after terminator', 'x\r\n.\r\n+OK next\r\n'],
  ['double terminator', '.\r\n.\r\n'],
  ['CRLF.CR then LF', 'a\r\n.\r\n'],
];

describe('dot-unstuffing (RFC 1939 section 3)', () => {
  it('matches the reference on hand-picked inputs when split at every single offset', () => {
    for (const [name, text] of samples) {
      const wire = Buffer.from(text, 'latin1');
      const want = reference(wire);
      assert.ok(want, `${name}: reference found a terminator`);
      for (let i = 0; i <= wire.length; i++) {
        assert.deepEqual(decodeSplit(wire, [i]), want, `${name}: split at ${i}`);
      }
    }
  });

  it('matches the reference on hand-picked inputs when split at every pair of offsets and byte by byte', () => {
    for (const [name, text] of samples) {
      const wire = Buffer.from(text, 'latin1');
      const want = reference(wire);
      for (let i = 0; i <= wire.length; i++) {
        for (let j = i; j <= wire.length; j++) assert.deepEqual(decodeSplit(wire, [i, j]), want, `${name}: split at ${i},${j}`);
      }
      const everyByte = Array.from({ length: wire.length }, (_, k) => k);
      assert.deepEqual(decodeSplit(wire, everyByte), want, `${name}: one byte at a time`);
    }
  });

  it('exhaustively agrees with the reference on every 6-byte input over {., CR, LF, a} plus a terminator, at every split', () => {
    const alphabet = [0x2e, 0x0d, 0x0a, 0x61];
    const total = alphabet.length ** 6;
    for (let code = 0; code < total; code++) {
      const bytes: number[] = [];
      for (let k = 0, c = code; k < 6; k++, c = Math.floor(c / 4)) bytes.push(alphabet[c % 4]!);
      const wire = Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n.\r\n')]);
      const want = reference(wire);
      for (let i = 0; i <= wire.length; i++) assert.deepEqual(decodeSplit(wire, [i]), want, `${wire.toString('hex')} split ${i}`);
    }
  });

  it('gives nothing and no end when the terminator never comes', () => {
    const wire = Buffer.from('line\r\n.\r');
    for (let i = 0; i <= wire.length; i++) assert.equal(decodeSplit(wire, [i]), null);
  });

  // Bytes where the dangers are: dots, CR, LF, NUL, 8-bit.
  const wireByte = fc.constantFrom(0x2e, 0x2e, 0x0d, 0x0a, 0x0a, 0x00, 0x41, 0xff, 0x80, 0x20);
  const cutsFor = (length: number) =>
    fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 8 }).map((c) => c.sort((a, b) => a - b));

  it('round-trips any message through the server-side stuffing, split anywhere (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).chain((raw) => fc.tuple(fc.constant(raw), fc.array(wireByte, { maxLength: 200 }))),
        fc.array(wireByte, { maxLength: 20 }),
        fc.integer({ min: 0, max: 1 }),
        ([rawNoise, crafted], trailing, pick) => {
          const message = Buffer.from(pick === 0 ? crafted : rawNoise);
          const wire = Buffer.concat([dotStuff(message), Buffer.from(trailing)]);
          const expected =
            message.length === 0 || message.subarray(-2).toString('latin1') === '\r\n'
              ? message
              : Buffer.concat([message, Buffer.from('\r\n')]);
          const stuffedLength = wire.length - trailing.length;
          return (
            fc.assert(
              fc.property(cutsFor(wire.length), (cuts) => {
                assert.deepEqual(decodeSplit(wire, cuts), { body: expected, end: stuffedLength });
              }),
              { numRuns: 5 },
            ) === undefined
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('agrees with the reference on arbitrary (even malformed) input, split anywhere (property)', () => {
    fc.assert(
      fc.property(
        fc.array(wireByte, { maxLength: 300 }).chain((bytes) => fc.tuple(fc.constant(Buffer.from(bytes)), cutsFor(bytes.length))),
        ([wire, cuts]) => {
          assert.deepEqual(decodeSplit(wire, cuts), reference(wire));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('emits views of the input, never copies, for a large body', () => {
    const body = Buffer.alloc(1 << 20, 0x61);
    for (let i = 100; i < body.length; i += 100) body[i] = 0x0a;
    const wire = dotStuff(body);
    const pieces: Buffer[] = [];
    const end = new DotDecoder().decode(wire, (p) => pieces.push(p));
    assert.equal(end, wire.length);
    assert.ok(pieces.every((p) => p.buffer === wire.buffer));
    assert.ok(Buffer.concat(pieces).equals(Buffer.concat([body, Buffer.from('\r\n')])));
  });
});

describe('DotUnstuffer (Transform)', () => {
  const run = (chunks: string[]) => buffer(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(new DotUnstuffer()));

  it('yields the unstuffed message across chunks', async () => {
    assert.equal((await run(['..a\r', '\n.', '.', '\r\n.\r', '\n'])).toString('latin1'), '.a\r\n.\r\n');
  });

  it('fails with EPROTOCOL when the input ends before the terminator (never a silently truncated message)', async () => {
    await assert.rejects(run(['abc\r\n.\r']), { code: 'EPROTOCOL' });
  });

  it('fails with EPROTOCOL on data after the terminator', async () => {
    await assert.rejects(run(['abc\r\n.\r\nmore']), { code: 'EPROTOCOL' });
    await assert.rejects(run(['abc\r\n.\r\n', 'more']), { code: 'EPROTOCOL' });
  });
});
