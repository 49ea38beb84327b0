import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parseMessage } from '../../lib/parse/parse-message.ts';

const FIXTURE = readFileSync(new URL('../fixtures/messages/bounces/amazonses-sns-bounce.eml', import.meta.url), 'latin1');
const KEY = '"notificationType"';

const parse = (text: string) => parseMessage(Readable.from([Buffer.from(text, 'latin1')]));

// SNS wraps long lines and mailboxes wrap them again: the reader must find the notification wherever a line breaks.
describe('Amazon SES notifications mailed by SNS, wrapped anywhere', () => {
  it('are read with the line broken at every place inside the notificationType key', async () => {
    const at = FIXTURE.indexOf(KEY);
    assert.ok(at > 0);
    const expected = (await parse(FIXTURE)).bounce;
    assert.equal(expected?.recipient, 'neko@example.net');
    for (let cut = 1; cut < KEY.length; cut++) {
      for (const eol of ['\r\n', '\n', '\r\n\r\n']) {
        const wrapped = FIXTURE.slice(0, at + cut) + eol + FIXTURE.slice(at + cut);
        assert.deepEqual((await parse(wrapped)).bounce, expected, `broken after ${KEY.slice(0, cut)} with ${JSON.stringify(eol)}`);
      }
    }
  });
});
