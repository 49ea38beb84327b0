import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { extractAttachments, type AttachmentManifest } from '../../lib/processors/attachments.ts';
import { MemoryObjectStore } from '../../lib/processors/memory-object-store.ts';
import { buildDocument } from '../../lib/document/document.ts';
import { parseFixture, fixture } from './parse-helpers.ts';

/** Issue 10's header and attachment classes, each as a mail client shows it (fixtures: test/fixtures/messages/real-world). */
const rw = (name: string) => parseFixture(`real-world/${name}`);
const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

describe('damaged header blocks are read, and the damage is noted', () => {
  it('a whitespace-only line before the first field: every field recovered', async () => {
    const m = await rw('leading-whitespace-line.eml');
    assert.equal(m.subject, 'whitespace before the first field');
    assert.deepEqual(m.from, [{ name: 'Alice Example', address: 'alice@example.org' }]);
    assert.deepEqual(m.to, [{ name: 'Carol', address: 'carol@example.net' }]);
    assert.equal(m.messageId, '<leading-ws@example.org>');
    assert.equal(m.snippet, 'The fields above are all there.');
    assert.match(m.parseError ?? '', /^header block repaired \(header block starts with 1 whitespace-only line\)/);
  });

  it('an indented first field: recovered, and the MIME structure after it still read', async () => {
    const m = await rw('indented-first-field.eml');
    assert.deepEqual(m.from, [{ name: 'Alice Example', address: 'alice@example.org' }]);
    assert.equal(m.subject, 'indented first field');
    assert.deepEqual(
      m.attachments.map((a) => [a.filename, a.contentType, a.sha256]),
      [['invoice.pdf', 'application/pdf', sha256('%PDF-1.4')]],
    );
    assert.equal(m.snippet, 'see the attached file');
    assert.match(m.parseError ?? '', /first header field is indented/);
  });

  it("a block indented as a whole: each field at the first field's indentation is a field, deeper lines fold", async () => {
    const m = await rw('indented-block.eml');
    assert.deepEqual(m.from, [{ name: 'Alice Example', address: 'alice@example.org' }]);
    assert.deepEqual(m.to, [{ name: 'Carol', address: 'carol@example.net' }]);
    assert.equal(m.subject, 'the whole block     is indented'); // RFC 5322 2.2.3: unfolding keeps the whitespace
    assert.equal(m.messageId, '<indented-block@example.org>');
  });

  it('a field folded before its colon (From\\r\\n : x) is recovered under its name', async () => {
    const m = await rw('folded-before-colon.eml');
    assert.deepEqual(m.from, [{ name: 'Bob Example', address: 'bob@example.org' }]);
    assert.equal(m.subject, 'the colon was folded');
    assert.match(m.parseError ?? '', /field "from" folded before its colon; field "subject" folded before its colon/);
  });

  it('a well-formed block has no parseError', async () => {
    assert.equal((await rw('utf8-message-ids.eml')).parseError, null);
  });
});

describe('addresses as a mail client shows them', () => {
  it('drops stray characters around an address (test1@local> is test1@local) and unbalanced brackets in a name', async () => {
    const m = await rw('stray-address-characters.eml');
    assert.deepEqual(m.from, [{ name: '', address: 'test1@local' }]);
    assert.deepEqual(m.to, [
      { name: '', address: 'test2@example.com' },
      { name: '', address: 'test3@example.net' },
    ]);
    assert.deepEqual(m.cc, [
      { name: 'John Example', address: 'john@example.org' },
      { name: '', address: 'quoted@example.net' },
    ]);
    // An unbalanced quote does not swallow the address.
    assert.deepEqual(m.replyTo, [{ name: 'Dana Example', address: 'dana@example.org' }]);
  });

  it('drops RFC 5322 obsolete comments inside an addr-spec and a msg-id', async () => {
    const m = await rw('comments-in-addr-spec.eml');
    assert.deepEqual(m.from, [{ name: 'Pete', address: 'pete@silly.test' }]);
    assert.deepEqual(m.to, [{ name: 'John Doe', address: 'jdoe@machine.example' }]);
    assert.equal(m.messageId, '<1234@local.machine.example>');
  });
});

describe('character sets', () => {
  it('RFC 6532 UTF-8 in Message-ID, In-Reply-To and References', async () => {
    const m = await rw('utf8-message-ids.eml');
    assert.equal(m.messageId, '<grüße-1@wildduck.äää.test>');
    assert.equal(m.inReplyTo, '<anfang@wildduck.äää.test>');
    assert.deepEqual(m.references, ['<a@example.org>', '<anfang@wildduck.äää.test>']);
  });

  it('nearly valid UTF-8 in raw headers: one replacement character, not windows-1252 mojibake (even under a Latin-1 body charset)', async () => {
    const m = await rw('nearly-utf8-headers.eml');
    assert.deepEqual(m.from, [{ name: 'J\uFFFDrg Müller', address: 'joerg@example.de' }]);
    assert.deepEqual(m.to, [{ name: 'Zoë Ångström\uFFFD', address: 'zoe@example.se' }]);
    assert.equal(m.subject, 'Grüße aus Köln\uFFFD');
  });

  it('UTF-7 (RFC 2152) in encoded words and the body', async () => {
    const m = await rw('utf7-subject-and-body.eml');
    assert.equal(m.subject, 'Frösche und Kröten');
    assert.deepEqual(m.from, [{ name: 'Jörg', address: 'joerg@example.de' }]);
    assert.equal(m.snippet, 'Die Frösche quaken. 1 + 1 = 2');
  });
});

describe('text parts that are files are attachments; unnamed inline text is body', () => {
  it('lists a named text part, an attachment-disposition text part and a named inline HTML part', async () => {
    const m = await rw('text-attachments.eml');
    assert.deepEqual(
      m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, inline: a.inline, size: a.size })),
      [
        { filename: 'Makefile', contentType: 'text/plain', inline: false, size: 'all:\r\n\tcc -o app main.c'.length },
        { filename: null, contentType: 'text/plain', inline: false, size: 'unnamed log file'.length },
        { filename: 'report.html', contentType: 'text/html', inline: true, size: '<p>report</p>'.length },
      ],
    );
    assert.equal(m.attachments[0]!.sha256, sha256('all:\r\n\tcc -o app main.c'));
    assert.equal(m.snippet, 'The build failed, logs attached.');
  });

  it('a message that is one named text file lists it', async () => {
    const m = await rw('single-part-text-file.eml');
    assert.deepEqual(
      m.attachments.map((a) => a.filename),
      ['deliveryproblems.txt'],
    );
  });

  it('the attachment-extraction processor extracts the same files the document lists', async () => {
    const bytes = fixture('real-world/text-attachments.eml');
    const parsed = await rw('text-attachments.eml');
    const doc = buildDocument({
      mailbox: 'support',
      uidl: 'u1',
      ingestedAt: new Date(0),
      oversized: false,
      parsed,
      ref: { key: 'raw/x.eml', size: bytes.length, sha256: sha256(bytes) },
    });
    const store = new MemoryObjectStore();
    const out = await extractAttachments(doc, async () => Readable.from([bytes]), store);
    assert.equal(out.action, 'extracted');
    const manifest = store.json<AttachmentManifest>(`manifests/${doc.id}.json`);
    assert.deepEqual(
      manifest.attachments.map((a) => [a.filename, a.sha256]),
      parsed.attachments.map((a) => [a.filename, a.sha256]),
    );
  });
});
