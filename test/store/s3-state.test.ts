import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3StateStore, writeStateMerged } from '../../lib/store/s3-state.ts';
import { duplicateKey, emptyState } from '../../lib/store/state-format.ts';
import { StoreError } from '../../lib/store/types.ts';
import type { IngestedEntry, MailboxState, StateStore } from '../../lib/store/types.ts';
import { enforceConditionalWrites, startLocalAws } from '../helpers/fauxqs.ts';
import type { LocalAws } from '../helpers/fauxqs.ts';

function entry(n: number): IngestedEntry {
  return {
    id: `id-${n}`,
    sha256: String(n).padStart(64, '0'),
    key: `raw/support/2025/01/01/${String(n).padStart(64, '0')}.eml`,
    size: n,
    ingestedAt: '2025-01-01T00:00:00.000Z',
  };
}

function withUidl(state: MailboxState, uidl: string, n: number): MailboxState {
  return { ...state, uidls: { ...state.uidls, [uidl]: entry(n) } };
}

const isConflict = (e: unknown) => e instanceof StoreError && e.code === 'ECONFLICT' && e.retryable;

describe('S3StateStore (compare-and-set on the ETag)', () => {
  let aws: LocalAws;
  let n = 0;
  const mailbox = () => `mbox-${++n}`;
  before(async () => {
    aws = await startLocalAws();
  });
  after(async () => {
    await aws.stop();
  });

  function stores(prefix = 'p') {
    const client = aws.newS3Client();
    const { answered } = enforceConditionalWrites(client, aws.s3);
    return {
      a: new S3StateStore({ client, bucket: aws.bucket, prefix }),
      b: new S3StateStore({ client, bucket: aws.bucket, prefix }),
      answered,
    };
  }

  it('reads a fresh empty state with version null, and returns what was written with its ETag', async () => {
    const { a } = stores();
    const mb = mailbox();
    assert.deepEqual(await a.read(mb), { state: emptyState(mb), version: null });
    const state = withUidl({ version: 2, mailbox: mb, uidls: {} }, 'UIDL with spaces & "quotes"', 1);

    const version = await a.write(mb, state, null);

    const read = await a.read(mb);
    assert.deepEqual({ ...read, state: { ...read.state, uidls: { ...read.state.uidls } } }, { state, version });
    const raw = await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: `p/state/${mb}.json` }));
    assert.equal(raw.ContentType, 'application/json');
    assert.equal(raw.ETag, version);
  });

  it('saves and loads any UIDL as a key, __proto__ and constructor included, with no prototype to inherit from', async () => {
    const { a } = stores();
    const mb = mailbox();
    const keys = ['__proto__', 'constructor', 'a#b', '%2F', '../..', duplicateKey('shared', 'f'.repeat(64))];
    const uidls: Record<string, IngestedEntry> = Object.create(null);
    keys.forEach((k, i) => {
      uidls[k] = entry(i + 1);
    });
    await a.write(mb, { ...emptyState(mb), uidls }, null);
    const { state } = await a.read(mb);
    assert.deepEqual(Object.keys(state.uidls).sort(), [...keys].sort());
    assert.equal(Object.getPrototypeOf(state.uidls), null);
    // biome-ignore lint/suspicious/noProto: a UIDL named __proto__ is the case under test, not the accessor
    assert.deepEqual(state.uidls['__proto__'], entry(1));
  });

  it('refuses to create a state that another writer created first (If-None-Match: * → 412 → ECONFLICT)', async () => {
    const { a, b, answered } = stores();
    const mb = mailbox();
    await a.write(mb, withUidl({ version: 2, mailbox: mb, uidls: {} }, 'u1', 1), null);
    await assert.rejects(b.write(mb, withUidl({ version: 2, mailbox: mb, uidls: {} }, 'u2', 2), null), isConflict);
    assert.deepEqual(answered, ['PutObjectCommand 412 PreconditionFailed']);
    assert.deepEqual(Object.keys((await a.read(mb)).state.uidls), ['u1']);
  });

  it('refuses to replace a version that changed underneath (If-Match → 412 → ECONFLICT)', async () => {
    const { a, b } = stores();
    const mb = mailbox();
    await a.write(mb, withUidl({ version: 2, mailbox: mb, uidls: {} }, 'u1', 1), null);
    const readByA = await a.read(mb);
    const readByB = await b.read(mb);
    await b.write(mb, withUidl(readByB.state, 'u2', 2), readByB.version);

    await assert.rejects(a.write(mb, withUidl(readByA.state, 'u3', 3), readByA.version), isConflict);

    assert.deepEqual(Object.keys((await a.read(mb)).state.uidls).sort(), ['u1', 'u2']);
  });

  it('writeStateMerged re-reads and re-applies the change after a lost race, so neither writer loses entries', async () => {
    const { a, b } = stores();
    const mb = mailbox();
    await a.write(mb, withUidl({ version: 2, mailbox: mb, uidls: {} }, 'u1', 1), null);
    let raced = false;
    // Between this writer's read and its write, another writer commits its own entry.
    const racy: StateStore = {
      read: (m) => a.read(m),
      write: async (m, s, v) => {
        if (!raced) {
          raced = true;
          const cur = await b.read(m);
          await b.write(m, withUidl(cur.state, 'from-b', 2), cur.version);
        }
        return a.write(m, s, v);
      },
    };

    const result = await writeStateMerged(racy, mb, (current) => withUidl(current, 'from-a', 3), { baseDelayMs: 1 });

    assert.equal(result.attempts, 2);
    const final = await a.read(mb);
    assert.deepEqual(Object.keys(final.state.uidls).sort(), ['from-a', 'from-b', 'u1']);
    assert.equal(final.version, result.version);
  });

  it('writeStateMerged gives up with the last ECONFLICT after a bounded number of attempts', async () => {
    const { a, b } = stores();
    const mb = mailbox();
    await a.write(mb, { version: 2, mailbox: mb, uidls: {} }, null);
    let writes = 0;
    // A writer that always loses: every write meets a newer version.
    const busy: StateStore = {
      read: (m) => a.read(m),
      write: async (m, s, v) => {
        writes++;
        const cur = await b.read(m);
        await b.write(m, withUidl(cur.state, `other-${writes}`, writes), cur.version);
        return a.write(m, s, v);
      },
    };
    await assert.rejects(
      writeStateMerged(busy, mb, (current) => withUidl(current, 'loser', 2), { attempts: 3, baseDelayMs: 1 }),
      isConflict,
    );
    assert.equal(writes, 3);
    const final = (await a.read(mb)).state;
    assert.equal(Object.hasOwn(final.uidls, 'loser'), false);
    assert.deepEqual(Object.keys(final.uidls).sort(), ['other-1', 'other-2', 'other-3']);
  });

  it('treats a state that is not a state of that mailbox as corrupt (EVERIFY)', async () => {
    const { a } = stores();
    const mb = mailbox();
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: aws.bucket,
        Key: `p/state/${mb}.json`,
        Body: JSON.stringify({ version: 1, mailbox: 'someone-else', uidls: {} }),
      }),
    );
    await assert.rejects(a.read(mb), (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY');
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: `p/state/${mb}.json`, Body: '{"version":1,' }));
    await assert.rejects(a.read(mb), (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY');
  });

  it('keeps state under the prefix, one object per mailbox, and refuses unsafe mailbox ids', async () => {
    const client = aws.newS3Client();
    assert.equal(new S3StateStore({ client, bucket: aws.bucket }).keyFor('support'), 'state/support.json');
    assert.equal(new S3StateStore({ client, bucket: aws.bucket, prefix: '/a/b/' }).keyFor('support'), 'a/b/state/support.json');
    await assert.rejects(new S3StateStore({ client, bucket: aws.bucket }).read('../x'), /invalid mailbox id/);
  });
});
