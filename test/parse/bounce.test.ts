import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedMessage } from '../../lib/document/metadata-schema.ts';
import { parseDeliveryStatus } from '../../lib/parse/bounce/delivery-status.ts';
import { classifyReason } from '../../lib/parse/bounce/reason.ts';
import { corpusDir, corpusSkip, toCrlf } from './corpus-location.ts';
import { fixtureDir, parseBuffer } from './parse-helpers.ts';

/**
 * Bounces as a bounce processor reads them. The fixture sets (test/fixtures/messages/bounces, one file per mail
 * system layout and reason, with what each should read as in expected.json; test/fixtures/messages/ordinary,
 * mail that must not be flagged) are written for this project; see their generators.
 */
const bouncesDir = join(fixtureDir, 'bounces');
const ordinaryDir = join(fixtureDir, 'ordinary');
const emls = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => join(dir, f));
const expected = JSON.parse(readFileSync(join(bouncesDir, 'expected.json'), 'utf8')) as Record<
  string,
  { recipient: string | null; status: string | null; reason: string; mta: string | null }
>;

// The project's own fixtures: one bounce, the rest ordinary or hostile mail.
const PROJECT_BOUNCES = new Set(['bounce-dsn.eml']);
// The shared corpus (mikel/mail's fixtures): its delivery reports, by hand.
const CORPUS_BOUNCES = new Set([
  'multipart_report_emails/multi_address_bounce1.eml',
  'multipart_report_emails/multi_address_bounce2.eml',
  'multipart_report_emails/multipart_report_multiple_status.eml',
  'multipart_report_emails/report_422.eml',
  'multipart_report_emails/report_530.eml',
  'mime_emails/raw_email_with_mimepart_without_content_type.eml',
]);

async function parseFile(path: string): Promise<ParsedMessage> {
  return parseBuffer(path.startsWith(corpusDir) ? toCrlf(readFileSync(path)) : readFileSync(path));
}

describe('bounce fixtures: each mail system layout read as a bounce processor reads it', () => {
  it('has a fixture set with expectations for every file', () => {
    assert.deepEqual(
      emls(bouncesDir).map((p) => p.slice(bouncesDir.length + 1)),
      Object.keys(expected).sort(),
    );
    assert.ok(Object.keys(expected).length >= 40);
  });
  for (const [name, want] of Object.entries(expected)) {
    it(name, async () => {
      const m = await parseFile(join(bouncesDir, name));
      assert.equal(m.flags.bounce, true);
      assert.ok(m.bounce);
      assert.deepEqual({ recipient: m.bounce.recipient, status: m.bounce.status, reason: m.bounce.reason, mta: m.bounce.mta }, want);
      // Every fixture quotes the server or states why; the diagnostic carries it (the abuse report its type).
      assert.ok(m.bounce.diagnostic === null || m.bounce.diagnostic.length <= 1000);
      if (want.reason !== 'feedback' && name !== 'exim-local-unrouteable.eml') assert.ok(m.bounce.diagnostic, 'diagnostic');
    });
  }
});

describe('bounce flag rates', () => {
  const rate = async (paths: string[]): Promise<{ flagged: string[]; total: number }> => {
    const flagged: string[] = [];
    for (const p of paths) if ((await parseFile(p)).flags.bounce) flagged.push(p);
    return { flagged, total: paths.length };
  };
  const projectFixtures = emls(fixtureDir).filter((p) => !/header-2mb|many-header-lines|parts-1000/.test(p));
  const realWorld = emls(join(fixtureDir, 'real-world'));

  it('flags at least 98 % of bounces and at most 1 % of ordinary mail (auto-replies, receipts, forwards included)', async () => {
    const bounces = [...emls(bouncesDir), ...projectFixtures.filter((p) => PROJECT_BOUNCES.has(p.slice(fixtureDir.length + 1)))];
    const ordinary = [
      ...emls(ordinaryDir),
      ...realWorld,
      ...projectFixtures.filter((p) => !PROJECT_BOUNCES.has(p.slice(fixtureDir.length + 1))),
    ];
    const b = await rate(bounces);
    const o = await rate(ordinary);
    const missed = bounces.filter((p) => !b.flagged.includes(p));
    assert.ok(b.flagged.length / b.total >= 0.98, `bounces flagged ${b.flagged.length}/${b.total}; missed: ${missed.join(', ')}`);
    assert.ok(o.flagged.length / o.total <= 0.01, `ordinary flagged ${o.flagged.length}/${o.total}: ${o.flagged.join(', ')}`);
    assert.ok(b.total >= 50 && o.total >= 60, `sets too small: ${b.total} bounces, ${o.total} ordinary`);
  });

  it('the same targets on the shared corpus', { skip: corpusSkip }, async () => {
    const all = readdirSync(corpusDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.eml'))
      .map((e) => join(e.parentPath, e.name));
    const isBounce = (p: string): boolean => CORPUS_BOUNCES.has(p.slice(corpusDir.length + 1).replace(/^mikel-mail\//, ''));
    const b = await rate(all.filter(isBounce));
    const o = await rate(all.filter((p) => !isBounce(p)));
    assert.equal(b.total, CORPUS_BOUNCES.size);
    assert.ok(b.flagged.length / b.total >= 0.98, `corpus bounces flagged ${b.flagged.length}/${b.total}`);
    assert.ok(o.flagged.length / o.total <= 0.01, `corpus ordinary flagged: ${o.flagged.join(', ')}`);
  });
});

describe('RFC 3464 reports', () => {
  it('reads each recipient group, folded fields, xtext and a typed address in angle brackets', () => {
    const r = parseDeliveryStatus(
      'Reporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: RFC822; <a+2Bb@example.net>\nAction: failed\nStatus: 5.1.1 (bad address)\nDiagnostic-Code: smtp; 550 5.1.1 User\n    unknown\n\nFinal-Recipient: rfc822;c@example.net\nAction: delayed\nStatus: 4.4.1\n',
    );
    assert.equal(r?.reportingMta, 'mx.example.jp');
    assert.deepEqual(
      r?.recipients.map((x) => [x.recipient, x.action, x.status, x.diagnostic]),
      [
        ['a+b@example.net', 'failed', '5.1.1', '550 5.1.1 User unknown'],
        ['c@example.net', 'delayed', '4.4.1', null],
      ],
    );
  });

  it('a report of successful delivery is no bounce', async () => {
    for (const name of ['delivery-success-report.eml', 'relayed-report.eml']) {
      const m = await parseFile(join(ordinaryDir, name));
      assert.equal(m.flags.bounce, false, name);
      assert.equal(m.bounce, undefined, name);
    }
  });
});

describe("reasons in sisimai's vocabulary", () => {
  const cases: Array<[string, string | null, string]> = [
    ['550 5.1.1 <a@b>: Recipient address rejected: User unknown', '5.1.1', 'userunknown'],
    ['550 5.7.1 Mailbox full', '5.7.1', 'mailboxfull'],
    ['554 5.7.1 Message rejected as spam', '5.7.1', 'spamdetected'],
    ['Host or domain name not found. Name service error for name=example.invalid', '5.4.4', 'hostunknown'],
    ['', '5.2.2', 'mailboxfull'],
    ['', '4.4.7', 'expired'],
    ['宛先のメールアドレスが見つかりません', null, 'userunknown'],
    ['受信拒否設定により受信できません', null, 'filtered'],
    ['550 something nobody has written before', '5.0.0', 'onhold'],
    ['', null, 'undefined'],
  ];
  for (const [text, status, reason] of cases) {
    it(`${JSON.stringify(text)} / ${status} -> ${reason}`, () => assert.equal(classifyReason({ text, status, action: null }), reason));
  }
});

describe('bounded on hostile text', () => {
  // Runs of what the patterns look for, without what would complete a match: each must stay linear.
  const runs: Array<[string, string]> = [
    ['no spaces', 'a'.repeat(900_000)],
    ['dashes', '-'.repeat(900_000)],
    ['blank lines after a layout line', `The following addresses had permanent fatal errors:${'\n'.repeat(300_000)}x`],
    ['spaces', ' '.repeat(900_000)],
    ['at signs', 'a@'.repeat(400_000)],
    ['angle brackets', '<'.repeat(900_000)],
    ['reply codes', '550 '.repeat(200_000)],
  ];
  for (const [label, body] of runs) {
    it(`${label}: a bounce-looking message with 900 KB of it parses in under 3 s`, async () => {
      const raw = Buffer.from(
        `From: Mail Delivery System <MAILER-DAEMON@mx.example.jp>\r\nSubject: Undelivered Mail Returned to Sender\r\nReturn-Path: <>\r\n\r\nThis is the mail system at host mx.example.jp.\r\n${body}\r\n`,
        'latin1',
      );
      const started = Date.now();
      const m = await parseBuffer(raw);
      assert.equal(m.flags.bounce, true);
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    });
  }
});

describe('bounded on hostile headers', () => {
  for (const [label, from, subject] of [
    ['200,000 "<" in From', '<'.repeat(200_000), 'x'],
    ['200,000 "*" in Subject', 'a@b.example', '*'.repeat(200_000)],
    ['200,000 quotes in From', '"'.repeat(200_000), 'Returned mail'],
  ] as const) {
    it(`${label} parses in under 3 s`, async () => {
      const started = Date.now();
      await parseBuffer(Buffer.from(`From: ${from}\r\nSubject: ${subject}\r\n\r\nbody\r\n`, 'latin1'));
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    });
  }
});

describe('not bounces', () => {
  for (const name of [
    'reply-quoting-a-bounce.eml',
    'forwarded-bounce.eml',
    'auto-reply-vacation-null-sender.eml',
    'read-receipt.eml',
    'parcel-could-not-be-delivered.eml',
    'list-discussion-of-bounces.eml',
  ]) {
    it(name, async () => assert.equal((await parseFile(join(ordinaryDir, name))).flags.bounce, false));
  }
  it('the ordinary set exists', () => assert.ok(existsSync(ordinaryDir)));
});
