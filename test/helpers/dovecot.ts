import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, chownSync, readFileSync } from 'node:fs';
import { readdir, readFile, writeFile, rename, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCerts } from './certs.ts';
import { dovecotConf, dovecotOAuth2Conf, type DovecotOAuth2Options } from './dovecot-conf.ts';
import { freePort, listening, tail } from './local-server.ts';

export interface DovecotUser {
  user: string;
  password: string;
}

export interface DovecotServer {
  host: string;
  tlsPort: number;
  /** Plain POP3 with STLS offered. */
  plainPort: number;
  caPem: string;
  caFile: string;
  users: ReadonlyArray<DovecotUser>;
  /** Appends messages to the user's Maildir new/, in order: message n of the next session is the n-th seeded. */
  seed(user: string, messages: ReadonlyArray<Buffer | string>): Promise<void>;
  /** Bytes of the files currently in the Maildir (new/ and cur/), in seeding order. */
  maildirMessages(user: string): Promise<Buffer[]>;
  /** Path of the user's Maildir (for tests that inspect or corrupt it directly). */
  maildir(user: string): string;
  /** Last lines of Dovecot's log, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export const DEFAULT_USERS: ReadonlyArray<DovecotUser> = [
  { user: 'alice', password: 'secret-alice' },
  { user: 'bob', password: 'secret-bob' },
];

const DOVECOT_BIN = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'];

function dovecotBinary(): string | undefined {
  return DOVECOT_BIN.find((p) => existsSync(p));
}

/** null when Dovecot can be started here; otherwise why not. Under CI=true an unusable Dovecot is an error, not a skip. */
export function dovecotSkipReason(): string | null {
  let reason: string | null = null;
  if (!dovecotBinary()) reason = 'Dovecot is not installed (apt-get install dovecot-core dovecot-pop3d)';
  else if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    reason = 'Dovecot tests need root (Dovecot drops privileges itself)';
  if (reason !== null && process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason;
}

/**
 * The bytes a POP3 client receives (after unstuffing, terminator removed) for a Maildir file with LF endings:
 * every LF not already preceded by CR becomes CRLF. Dovecot ends a last line that lacks a line break with CRLF
 * before the terminating dot, so a client sees that CRLF too (its announced octet count does not include it).
 */
export function toCrlf(buf: Buffer): Buffer {
  if (buf.length > 0 && buf[buf.length - 1] !== 0x0a) return toCrlf(Buffer.concat([buf, Buffer.from('\r\n')]));
  let extra = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) extra++;
  if (extra === 0) return Buffer.from(buf);
  const out = Buffer.allocUnsafe(buf.length + extra);
  let o = 0;
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) {
      o += buf.copy(out, o, start, i);
      out[o++] = 0x0d;
      start = i;
    }
  }
  buf.copy(out, o, start);
  return out;
}

function vmailIds(): { uid: number; gid: number } {
  const ids = () => ({
    uid: Number(
      execFileSync('id', ['-u', 'vmail'], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    ),
    gid: Number(
      execFileSync('id', ['-g', 'vmail'], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    ),
  });
  try {
    return ids();
  } catch {
    // Another test process may be creating it at the same moment: ignore our failure and look again.
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'vmail'], { stdio: 'ignore' });
    } catch {
      /* raced */
    }
    return ids();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let instanceCounter = 0;
const live = new Set<ChildProcess>();
// A test file that forgets stop() (or fails before it) must not leave a Dovecot behind.
process.once('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

async function launch(root: string, conf: string): Promise<{ child: ChildProcess; error?: string }> {
  const bin = dovecotBinary()!;
  // -F: stay in the foreground, so the child's pid is the master's and its exit is observable. detached: the
  // master leads its own process group, so stop() can signal it and all its children at once.
  const child = spawn(bin, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited: number | null | undefined;
  child.once('exit', (code, signal) => {
    exited = code ?? (signal ? -1 : null);
    live.delete(child);
  });
  live.add(child);
  return { child, error: await waitReady() };

  async function waitReady(): Promise<string | undefined> {
    const ports = confPorts(conf);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (exited !== undefined) return `dovecot exited (${exited}): ${stderr.trim()}\n${tail(join(root, 'dovecot.log'))}`;
      const ok = await Promise.all(ports.map(listening));
      if (ok.every(Boolean)) return undefined;
      await sleep(20);
    }
    killGroup(child, 'SIGKILL');
    return `dovecot did not listen within 15 s: ${stderr.trim()}\n${tail(join(root, 'dovecot.log'))}`;
  }
}

function confPorts(conf: string): number[] {
  return [...readFileSync(conf, 'utf8').matchAll(/^\s*port = (\d+)$/gm)].map((m) => Number(m[1]));
}

/** A config file's mailbox for Dovecot user `user` over implicit TLS, trusting the server's CA file. */
export function dovecotMailbox(
  dovecot: DovecotServer,
  id: string,
  user: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, host: '127.0.0.1', port: dovecot.tlsPort, ca: dovecot.caFile, servername: 'localhost', user, ...extra };
}

export async function startDovecot(
  options: { users?: Array<DovecotUser>; oauth2?: DovecotOAuth2Options; uidlFormat?: string } = {},
): Promise<DovecotServer> {
  const skip = dovecotSkipReason();
  if (skip) throw new Error(skip);
  const users = options.users ?? DEFAULT_USERS.map((u) => ({ ...u }));
  const { uid, gid } = vmailIds();
  const certs = makeTestCerts();

  const root = mkdtempSync(join(tmpdir(), 'mi-dovecot-'));
  // Mail processes run as vmail and must traverse to the Maildirs.
  chmodSync(root, 0o755);
  const certFile = join(root, 'server.pem');
  const keyFile = join(root, 'server.key');
  writeFileSync(certFile, certs.certPem + certs.caPem);
  writeFileSync(keyFile, certs.keyPem, { mode: 0o600 });
  const passwdFile = join(root, 'passwd');
  writeFileSync(passwdFile, users.map((u) => `${u.user}:{PLAIN}${u.password}::::::\n`).join(''), { mode: 0o644 });
  mkdirSync(join(root, 'mail'));
  chownSync(join(root, 'mail'), uid, gid);
  for (const u of users) {
    for (const sub of ['', '/cur', '/new', '/tmp']) {
      const d = join(root, 'mail', u.user) + sub;
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, uid, gid);
    }
  }

  let oauth2ConfFile: string | undefined;
  if (options.oauth2 !== undefined) {
    oauth2ConfFile = join(root, 'dovecot-oauth2.conf.ext');
    writeFileSync(oauth2ConfFile, dovecotOAuth2Conf(options.oauth2), { mode: 0o600 });
  }

  const instanceName = `mi-test-${process.pid}-${++instanceCounter}-${Date.now().toString(36)}`;
  const conf = join(root, 'dovecot.conf');
  let child: ChildProcess | undefined;
  let plainPort = 0;
  let tlsPort = 0;
  let lastError = '';
  // Another process can take a free port between our probe and Dovecot's bind: retry with new ports.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    plainPort = await freePort();
    tlsPort = await freePort();
    if (plainPort === tlsPort) continue;
    writeFileSync(
      conf,
      dovecotConf({
        root,
        instanceName,
        plainPort,
        tlsPort,
        certFile,
        keyFile,
        passwdFile,
        uid,
        gid,
        ...(oauth2ConfFile === undefined ? {} : { oauth2ConfFile }),
        ...(options.uidlFormat === undefined ? {} : { uidlFormat: options.uidlFormat }),
      }),
    );
    const r = await launch(root, conf);
    if (r.error === undefined) child = r.child;
    else {
      lastError = r.error;
      if (!/Address already in use/i.test(r.error)) break;
    }
  }
  if (!child) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`Dovecot failed to start: ${lastError}`);
  }
  const master = child;

  const maildir = (user: string) => {
    if (!users.some((u) => u.user === user)) throw new Error(`unknown Dovecot user ${user}`);
    return join(root, 'mail', user);
  };
  let seq = 0;

  return {
    host: '127.0.0.1',
    tlsPort,
    plainPort,
    caPem: certs.caPem,
    caFile: certs.caFile,
    users,
    maildir,
    logTail: (lines?: number) => tail(join(root, 'dovecot.log'), lines),

    async seed(user, messages) {
      const dir = maildir(user);
      const now = Math.floor(Date.now() / 1000);
      // Dovecot numbers new mail by file name (time, then the M part): a fixed-width counter keeps seeding order.
      const CHUNK = 64;
      for (let i = 0; i < messages.length; i += CHUNK) {
        await Promise.all(
          messages.slice(i, i + CHUNK).map(async (m) => {
            const body = typeof m === 'string' ? Buffer.from(m, 'utf8') : m;
            const name = `${now}.M${String(++seq).padStart(9, '0')}P${process.pid}.mi-test,S=${body.length}`;
            const tmpPath = join(dir, 'tmp', name);
            await writeFile(tmpPath, body, { mode: 0o600 });
            await chown(tmpPath, uid, gid);
            await rename(tmpPath, join(dir, 'new', name));
          }),
        );
      }
    },

    async maildirMessages(user) {
      const dir = maildir(user);
      const files: Array<{ key: string; path: string }> = [];
      for (const sub of ['new', 'cur']) {
        for (const f of await readdir(join(dir, sub))) files.push({ key: f.split(':')[0]!, path: join(dir, sub, f) });
      }
      files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return Promise.all(files.map((f) => readFile(f.path)));
    },

    async stop() {
      if (master.exitCode === null && master.signalCode === null) {
        const gone = new Promise<void>((r) => master.once('exit', () => r()));
        // SIGTERM right after start-up can take Dovecot 1-5 s to act on; a throw-away server has nothing to save.
        killGroup(master, 'SIGKILL');
        await gone;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
