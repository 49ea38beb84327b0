import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MailboxJob, RunMailboxOptions } from '../../lib/ingest/pipeline-types.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { LocalPublisher } from '../../lib/publish/local-publisher.ts';
import type { DovecotServer } from '../helpers/dovecot.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function dovecotJob(dovecot: DovecotServer, user = 'alice', extra: Partial<MailboxJob> = {}): MailboxJob {
  const password = dovecot.users.find((u) => u.user === user)!.password;
  return {
    ...JOB_DEFAULTS,
    id: `mbx-${user}`,
    connect: { host: '127.0.0.1', port: dovecot.tlsPort, tls: 'implicit', ca: dovecot.caPem, servername: 'localhost', user, password },
    ...extra,
  };
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs the pipeline once into an fs store at `dir` with the local event log. */
export async function runInto(dir: string, job: MailboxJob, extra: Partial<RunMailboxOptions> = {}) {
  return runMailbox({
    job,
    store: new FsRawStore({ dir }),
    state: new FsStateStore({ dir }),
    publisher: new LocalPublisher({ dir }),
    ...extra,
  });
}

/** sha256 of every raw message in the fs store. */
export async function storedShas(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.eml')) out.push(sha256(await readFile(p)));
    }
  };
  await walk(path.join(dir, 'raw'));
  return out.sort();
}

export async function events(dir: string): Promise<Array<{ id: string; uidl: string; raw: { sha256: string } }>> {
  try {
    return (await readFile(path.join(dir, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** Realistic ~size-byte messages with distinct content, LF endings as Maildir files hold them. */
export function mail(i: number, opts: { size?: number; extra?: string } = {}): Buffer {
  const head = [
    `Received: from mx.example.net by pop.example.jp; Thu, 26 Nov 2026 10:${String(i % 60).padStart(2, '0')}:00 +0900`,
    `From: Customer ${i} <c${i}@example.com>`,
    'To: support@example.jp',
    `Subject: request ${i}`,
    `Message-ID: <req-${i}@example.com>`,
    'Date: Thu, 26 Nov 2026 10:00:00 +0900',
    'Content-Type: text/plain; charset=utf-8',
    ...(opts.extra ? [opts.extra] : []),
    '',
    '',
  ].join('\n');
  const line = `line of message ${i}: the quick brown fox jumps over the lazy dog.\n`;
  const body = line.repeat(Math.max(1, Math.ceil(((opts.size ?? 600) - head.length) / line.length)));
  return Buffer.from(head + body);
}
