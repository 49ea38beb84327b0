import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ParsedMessage } from '../../lib/document/metadata-schema.ts';
import { parseBuffer } from './parse-helpers.ts';
import { corpusDir, corpusSkip as skip, toCrlf } from './corpus-location.ts';

/** The shared corpus (corpus-location.ts says where, and why a run may skip it). */
const PER_MESSAGE_MS = 5000;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else if (!/^(README|LICENSE)/i.test(entry)) out.push(path);
  }
  return out;
}

async function parseCorpus(name: string): Promise<ParsedMessage> {
  return parseBuffer(toCrlf(readFileSync(join(corpusDir, name))));
}

describe('shared corpus: every message parses to a valid document, in time, without throwing', { skip }, () => {
  const files = skip ? [] : listFiles(corpusDir);
  it('has messages to check', () => assert.ok(files.length > 50, `only ${files.length} files`));
  for (const file of files) {
    it(relative(corpusDir, file), async () => {
      const started = Date.now();
      const m = await parseBuffer(toCrlf(readFileSync(file)));
      const took = Date.now() - started;
      assert.ok(took < PER_MESSAGE_MS, `took ${took} ms`);
      // A valid document always: parseError only for messages that really are broken.
      if (m.parseError !== null)
        assert.match(
          m.parseError,
          /^(empty message|message has no header fields|mailparser: .+|header block repaired \(.+\): its fields were recovered)$/,
        );
    });
  }
});

describe('shared corpus: Japanese and other spot checks, as a mail client shows them', { skip }, () => {
  it('UTF-8 encoded-word subject and To name, ISO-2022-JP body under a folded charset parameter', async () => {
    const m = await parseCorpus('mikel-mail/multi_charset/japanese_iso_2022.eml');
    assert.equal(m.subject, 'まみむめも');
    assert.deepEqual(m.to, [{ name: 'みける', address: 'raasdnil@gmail.com' }]);
    assert.equal(m.snippet, 'すみません。');
  });

  it('Shift_JIS body from a docomo handset', async () => {
    const m = await parseCorpus('mikel-mail/multi_charset/japanese_shift_jis.eml');
    assert.equal(m.snippet, 'あいうえお このメールはテスト用のメールです。 今後ともよろしくお願い申し上げます！');
    assert.equal(m.messageId, '<xxxxx@docomo.ne.jp>');
  });

  it('RFC 2047 and RFC 2231-continued Japanese attachment names', async () => {
    assert.equal((await parseCorpus('mikel-mail/multi_charset/japanese_attachment.eml')).attachments[0]?.filename, 'てすと.txt');
    assert.equal(
      (await parseCorpus('mikel-mail/multi_charset/japanese_attachment_long_name.eml')).attachments[0]?.filename,
      `${'かきくけこ'.repeat(5)}.txt`,
    );
  });

  it('RFC 6532 raw UTF-8 headers', async () => {
    const m = await parseCorpus('mikel-mail/rfc6532/utf8_headers.eml');
    assert.equal(m.subject, 'Säying Hello');
    assert.deepEqual(m.from, [{ name: 'Jöhn Doe', address: 'jdöe@mächine.example' }]);
  });

  it('raw Latin-1 subject is not mistaken for Japanese', async () => {
    const m = await parseCorpus('mikel-mail/error_emails/invalid_subject_characters.eml');
    assert.equal(m.subject, 'Formação FrenetikPolis: Mega Campanha Final Verão | Cursos de Setembro');
  });

  it('ks_c_5601-1987 (Korean) body through the iconv alias', async () => {
    assert.equal((await parseCorpus('mikel-mail/multi_charset/ks_c_5601-1987.eml')).snippet, '스티해');
  });

  it('bounces are flagged', async () => {
    for (const name of ['multi_address_bounce1.eml', 'multi_address_bounce2.eml', 'report_422.eml', 'report_530.eml']) {
      const m = await parseCorpus(`mikel-mail/multipart_report_emails/${name}`);
      assert.equal(m.flags.bounce, true, name);
    }
  });
});
