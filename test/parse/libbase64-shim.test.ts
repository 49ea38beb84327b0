import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createRequire } from 'node:module';
import shim, { Decoder } from '../../lib/parse/shims/libbase64.ts';
import { MODULE_ALIASES } from '../../lib/parse/shims/aliases.mjs';

/** The real module as the bundles' mailsplit and the stand-in load it (its CommonJS build). */
const realBase64 = createRequire(import.meta.url)('libbase64') as typeof import('libbase64');

/** A small deterministic generator (xorshift32), so that a failure names the seed that reproduces it. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

async function decodeWith(decoder: Transform, pieces: Buffer[]): Promise<{ out: Buffer; inputBytes: number; outputBytes: number }> {
  const out = await buffer(Readable.from(pieces).pipe(decoder));
  const d = decoder as Transform & { inputBytes: number; outputBytes: number };
  return { out, inputBytes: d.inputBytes, outputBytes: d.outputBytes };
}

/** Cuts `input` into pieces of random sizes (1 byte up to `max`). */
function cut(input: Buffer, next: () => number, max: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < input.length; ) {
    const n = 1 + Math.floor(next() * max);
    pieces.push(input.subarray(at, at + n));
    at += n;
  }
  return pieces;
}

/** base64 of random bytes in lines of `width` characters, ended by CRLF or LF. */
function wrapped(next: () => number, bytes: number, width: number, eol: string): Buffer {
  const data = Buffer.from(Array.from({ length: bytes }, () => Math.floor(next() * 256)));
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += width) lines.push(b64.slice(i, i + width));
  return Buffer.from(lines.map((l) => l + eol).join(''), 'latin1');
}

const STRAYS = [' ', '\t', '\r', '\n', '=', '==', '-', '_', '!', '.', '\x00', '\x80', '\xc1', '\xff', 'A', '+', '/'];

/** A copy of `input` with a few stray bytes put in at random places, or put in place of a byte (lines keep their length). */
function damaged(input: Buffer, next: () => number): Buffer {
  let s = input.toString('latin1');
  const count = 1 + Math.floor(next() * 4);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(next() * (s.length + 1));
    const stray = STRAYS[Math.floor(next() * STRAYS.length)]!;
    s = s.slice(0, at) + stray + s.slice(next() < 0.5 ? at : at + stray.length);
  }
  return Buffer.from(s, 'latin1');
}

async function assertSame(input: Buffer, pieces: Buffer[], label: string): Promise<void> {
  const expected = await decodeWith(new realBase64.Decoder(), pieces);
  const actual = await decodeWith(new Decoder(), pieces);
  assert.ok(
    expected.out.equals(actual.out),
    `${label}: output differs from libbase64's (${actual.out.length} vs ${expected.out.length} bytes)`,
  );
  assert.equal(actual.inputBytes, expected.inputBytes, `${label}: inputBytes`);
  assert.equal(actual.outputBytes, expected.outputBytes, `${label}: outputBytes`);
  assert.equal(actual.inputBytes, input.length);
}

describe('libbase64 stand-in (lib/parse/shims/libbase64.ts)', () => {
  it('is what the bundles alias, with the real module behind every member but the Decoder', () => {
    assert.equal(MODULE_ALIASES.libbase64, './lib/parse/shims/libbase64.ts');
    assert.equal(shim.encode, realBase64.encode);
    assert.equal(shim.decode, realBase64.decode);
    assert.equal(shim.wrap, realBase64.wrap);
    assert.equal(shim.Encoder, realBase64.Encoder);
    assert.equal(shim.Decoder, Decoder);
  });

  it('decodes well-formed bodies as libbase64 does, whatever the line width, line ending and chunking', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const next = random(seed);
      const width = [76, 64, 72, 60, 4, 8, 75, 77, 1000, 5000][seed % 10]!;
      const input = wrapped(next, Math.floor(next() * 20_000), width, seed % 3 === 0 ? '\n' : '\r\n');
      const max = [1, 7, 100, 4096, 65_536][seed % 5]!;
      await assertSame(input, cut(input, next, max), `seed ${seed}, width ${width}, pieces up to ${max}`);
    }
  });

  it('decodes damaged bodies as libbase64 does: stray bytes, padding mid-stream, URL-safe characters', async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const next = random(seed * 7919);
      const width = [76, 64, 72, 76, 76][seed % 5]!;
      const input = damaged(wrapped(next, Math.floor(next() * 6_000), width, seed % 4 === 0 ? '\n' : '\r\n'), next);
      const max = [3, 50, 1000, 16_384][seed % 4]!;
      await assertSame(input, cut(input, next, max), `seed ${seed}`);
    }
  });

  it('decodes bodies of separately padded lines, mixed line endings and no line breaks at all', async () => {
    const next = random(42);
    const padded = Buffer.from(
      Array.from({ length: 300 }, (_, i) => `${Buffer.from(`line ${i} `).toString('base64')}\r\n`).join(''),
      'latin1',
    );
    const mixed = Buffer.from(
      wrapped(next, 9000, 76, '\r\n')
        .toString('latin1')
        .replace(/\r\n/g, (m, at: number) => (at % 3 ? m : '\n')),
      'latin1',
    );
    const oneLine = Buffer.from(Buffer.alloc(100_000, 3).toString('base64'), 'latin1');
    const longLines = wrapped(next, 60_000, 10_000, '\r\n');
    for (const [label, input] of [
      ['padded lines', padded],
      ['mixed endings', mixed],
      ['one line', oneLine],
      ['long lines', longLines],
    ] as const) {
      for (const max of [1, 13, 4096, 65_536, input.length])
        await assertSame(input, cut(input, next, max), `${label}, pieces up to ${max}`);
    }
  });

  it('gives back the very bytes that were encoded, in lines of 76 characters cut into socket-sized chunks', async () => {
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff));
    const lines: string[] = [];
    const b64 = data.toString('base64');
    for (let i = 0; i < b64.length; i += 76) lines.push(`${b64.slice(i, i + 76)}\r\n`);
    const body = Buffer.from(lines.join(''), 'latin1');
    const { out } = await decodeWith(new Decoder(), cut(body, random(9), 65_536));
    assert.ok(out.equals(data));
  });
});
