import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesFilter } from '../../lib/publish/filter.ts';
import { fakeMetadataDocument } from '../helpers/memory-adapters.ts';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';

const flags = { autoReply: false, bounce: false, list: false, bulk: false, spam: false, oversized: false };
const attachment = (inline: boolean) => ({
  filename: inline ? null : '見積書.pdf',
  contentType: inline ? 'image/png' : 'application/pdf',
  size: 10,
  sha256: 'a'.repeat(64),
  contentId: inline ? '<logo>' : null,
  inline,
});

const doc: MetadataDocument = fakeMetadataDocument({
  mailbox: 'support',
  to: [{ name: 'サポート', address: 'Support@Support.Example.jp' }],
  cc: [
    { name: '', address: 'boss@example.jp' },
    { name: 'broken', address: '' },
  ],
  attachments: [attachment(false)],
  flags: { ...flags, list: true },
});

describe('matchesFilter', () => {
  it('matches everything without a filter or with an empty one', () => {
    assert.equal(matchesFilter(doc), true);
    assert.equal(matchesFilter(doc, {}), true);
  });

  it('mailbox: one of the listed ids', () => {
    assert.equal(matchesFilter(doc, { mailbox: ['sales', 'support'] }), true);
    assert.equal(matchesFilter(doc, { mailbox: ['sales'] }), false);
    assert.equal(matchesFilter(doc, { mailbox: ['Support'] }), false, 'ids are exact');
  });

  it('to: an address among To or Cc, case-insensitively', () => {
    assert.equal(matchesFilter(doc, { to: ['support@support.example.jp'] }), true);
    assert.equal(matchesFilter(doc, { to: ['BOSS@example.jp'] }), true, 'Cc counts');
    assert.equal(matchesFilter(doc, { to: ['someone@example.jp'] }), false);
  });

  it('to: "@domain" matches that domain exactly, neither a parent nor a sub-domain', () => {
    assert.equal(matchesFilter(doc, { to: ['@support.example.jp'] }), true);
    assert.equal(matchesFilter(doc, { to: ['@SUPPORT.example.JP'] }), true);
    assert.equal(matchesFilter(doc, { to: ['@example.jp'] }), true, 'via the Cc boss@example.jp');
    const onlyTo = { ...doc, cc: [] };
    assert.equal(matchesFilter(onlyTo, { to: ['@example.jp'] }), false, 'support.example.jp is not example.jp');
    assert.equal(matchesFilter(onlyTo, { to: ['@port.example.jp'] }), false, 'no suffix matching');
  });

  it('to: a document with no recipients matches no "to" filter', () => {
    assert.equal(matchesFilter({ ...doc, to: [], cc: [] }, { to: ['@example.jp'] }), false);
  });

  it('hasAttachments: only non-inline attachments count', () => {
    assert.equal(matchesFilter(doc, { hasAttachments: true }), true);
    assert.equal(matchesFilter(doc, { hasAttachments: false }), false);
    const inlineOnly = { ...doc, attachments: [attachment(true)] };
    assert.equal(matchesFilter(inlineOnly, { hasAttachments: true }), false);
    assert.equal(matchesFilter(inlineOnly, { hasAttachments: false }), true);
  });

  it('flags: autoReply, bounce, list compared as booleans (false means "must not be")', () => {
    assert.equal(matchesFilter(doc, { list: true }), true);
    assert.equal(matchesFilter(doc, { list: false }), false);
    assert.equal(matchesFilter(doc, { autoReply: false, bounce: false }), true);
    assert.equal(matchesFilter(doc, { autoReply: true }), false);
    assert.equal(matchesFilter({ ...doc, flags: { ...flags, bounce: true } }, { bounce: true }), true);
  });

  it('requires every condition to hold', () => {
    const filter = { mailbox: ['support'], to: ['@support.example.jp'], hasAttachments: true, autoReply: false };
    assert.equal(matchesFilter(doc, filter), true);
    assert.equal(matchesFilter({ ...doc, mailbox: 'sales' }, filter), false);
    assert.equal(matchesFilter({ ...doc, attachments: [] }, filter), false);
    assert.equal(matchesFilter({ ...doc, flags: { ...flags, autoReply: true } }, filter), false);
  });
});
