import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { chown, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCerts } from './certs.ts';
import { authdaemonrc, startScript, userdbLines } from './courier-conf.ts';
import { DEFAULT_USERS, type DovecotServer, type DovecotUser } from './dovecot.ts';
import { freePort, listening, tail } from './local-server.ts';

/**
 * Throw-away Courier POP3 servers (Debian's courier-pop 1.0.16), the suite's second real server beside Dovecot.
 * The packages are unpacked, not installed (.ci/install-courier.sh; courier-pop conflicts with dovecot-pop3d), and
 * each instance runs in private namespaces (courier-conf.ts). How it was found to work: docs/recipes/courier.md.
 */

export type CourierUser = DovecotUser;

/** The same shape as a DovecotServer, so the e2e helpers (dovecotJob...) serve both. */
export type CourierServer = DovecotServer;

export const COURIER_ROOT = process.env.COURIER_ROOT ?? '/opt/mail-ingest-courier';

const LOGIN = 'usr/lib/courier/courier/courierpop3login';

let probed: string | null | undefined;

/** null when Courier can be started here; otherwise why not. Under CI=true an unusable Courier is an error, not a skip. */
export function courierSkipReason(): string | null {
  if (probed === undefined) probed = probe();
  if (probed !== null && process.env.CI === 'true') throw new Error(`CI=true but ${probed}`);
  return probed;
}

function probe(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'Courier tests need root (mount namespaces; Courier drops privileges itself)';
  if (!existsSync(join(COURIER_ROOT, LOGIN))) return `Courier is not unpacked in ${COURIER_ROOT} (run .ci/install-courier.sh as root)`;
  const r = spawnSync('unshare', ['-m', '-p', '--fork', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  if (r.status !== 0) return `cannot create mount and PID namespaces (unshare -m -p): ${r.stderr?.toString().trim() || r.error?.message}`;
  return null;
}

/**
 * The bytes a POP3 client receives from Courier for a Maildir file: every LF becomes CRLF, a CR already before it
 * included (a CRLF file comes out CR CR LF: seed LF files), and a last line without a line break gets one.
 */
export function courierServes(file: Buffer): Buffer {
  const body = file.length > 0 && file[file.length - 1] !== 0x0a ? Buffer.concat([file, Buffer.from('\n')]) : file;
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = body.indexOf(0x0a); i !== -1; i = body.indexOf(0x0a, i + 1)) {
    parts.push(body.subarray(start, i), Buffer.from('\r\n'));
    start = i + 1;
  }
  parts.push(body.subarray(start));
  return Buffer.concat(parts);
}

function ids(name: string): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(
      execFileSync('id', [flag, name], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    // Another test process may be creating it at the same moment: ignore our failure and look again.
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
    } catch {
      /* raced */
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live = new Set<ChildProcess>();
// A test file that forgets stop() (or fails before it) must not leave a Courier behind. SIGKILL to unshare is what
// ends a namespace: its --kill-child then kills the namespace's init, and the kernel every process in it.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

async function launch(root: string, ports: number[]): Promise<{ child: ChildProcess; error?: string }> {
  const log = join(root, 'courier.log');
  const fd = openSync(log, 'a');
  const child = spawn('unshare', ['-m', '-p', '--propagation', 'private', '--kill-child=SIGKILL', 'sh', join(root, 'start.sh')], {
    stdio: ['ignore', fd, fd],
    detached: true,
    cwd: '/',
  });
  closeSync(fd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = String(code ?? signal);
    live.delete(child);
  });
  live.add(child);
  const socket = join(root, 'run', 'courier', 'authdaemon', 'socket');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (exited !== undefined) return { child, error: `Courier's namespace exited (${exited}):\n${tail(log)}` };
    if (/bind: Address already in use/.test(tail(log))) {
      child.kill('SIGKILL');
      return { child, error: `port taken:\n${tail(log)}` };
    }
    if (existsSync(socket) && (await Promise.all(ports.map(listening))).every(Boolean)) return { child };
    await sleep(20);
  }
  child.kill('SIGKILL');
  return { child, error: `Courier did not listen within 15 s:\n${tail(log)}` };
}

export async function startCourier(options: { users?: Array<CourierUser> } = {}): Promise<CourierServer> {
  const skip = courierSkipReason();
  if (skip) throw new Error(skip);
  const users = options.users ?? DEFAULT_USERS.map((u) => ({ ...u }));
  const mail = ids('vmail');
  const tlsUser = ids('courier'); // couriertls drops to this user (a name compiled into courierpop3login)
  const certs = makeTestCerts();

  const root = mkdtempSync(join(tmpdir(), 'mi-courier-'));
  chmodSync(root, 0o755); // mail processes run as vmail and must traverse to the Maildirs
  const etc = join(root, 'etc', 'courier');
  mkdirSync(etc, { recursive: true });
  mkdirSync(join(root, 'run', 'courier', 'authdaemon'), { recursive: true });
  writeFileSync(join(etc, 'authdaemonrc'), authdaemonrc());
  // couriertls reads key and chain from one file after dropping to `courier`.
  const pem = join(etc, 'pop3d.pem');
  writeFileSync(pem, certs.keyPem + certs.certPem + certs.caPem, { mode: 0o600 });
  chownSync(pem, tlsUser.uid, tlsUser.gid);

  const maildirOf = (user: string) => join(root, 'mail', user);
  mkdirSync(join(root, 'mail'));
  chownSync(join(root, 'mail'), mail.uid, mail.gid);
  for (const u of users) {
    for (const sub of ['', '/cur', '/new', '/tmp']) {
      mkdirSync(maildirOf(u.user) + sub, { mode: 0o700 });
      chownSync(maildirOf(u.user) + sub, mail.uid, mail.gid);
    }
  }
  const hashed = users.map((u) => ({
    user: u.user,
    maildir: maildirOf(u.user),
    hash: execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: u.password }).toString().trim(),
  }));
  const { dat, shadow } = userdbLines(hashed, mail.uid, mail.gid);
  const makedat = join(COURIER_ROOT, 'usr/lib/courier/courier-authlib/makedatprog');
  execFileSync(makedat, ['-', join(etc, 'userdb.tmp'), join(etc, 'userdb.dat')], { input: dat });
  execFileSync(makedat, ['-', join(etc, 'userdbshadow.tmp'), join(etc, 'userdbshadow.dat')], { input: shadow });
  chmodSync(join(etc, 'userdbshadow.dat'), 0o600);

  let child: ChildProcess | undefined;
  let plainPort = 0;
  let tlsPort = 0;
  let lastError = '';
  // Another process can take a free port between our probe and Courier's bind: retry with new ports.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    plainPort = await freePort();
    tlsPort = await freePort();
    if (plainPort === tlsPort) continue;
    writeFileSync(join(root, 'start.sh'), startScript({ courierRoot: COURIER_ROOT, root, plainPort, tlsPort }));
    const r = await launch(root, [plainPort, tlsPort]);
    if (r.error === undefined) child = r.child;
    else {
      lastError = r.error;
      if (!r.error.startsWith('port taken')) break;
      await new Promise<void>((resolve) =>
        r.child.exitCode === null && r.child.signalCode === null ? r.child.once('exit', () => resolve()) : resolve(),
      );
    }
  }
  if (!child) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`Courier failed to start: ${lastError}`);
  }
  const namespace = child;

  const maildir = (user: string) => {
    if (!users.some((u) => u.user === user)) throw new Error(`unknown Courier user ${user}`);
    return maildirOf(user);
  };
  let seq = 0;
  const base = Math.floor(Date.now() / 1000) - 86_400;

  return {
    host: '127.0.0.1',
    tlsPort,
    plainPort,
    caPem: certs.caPem,
    caFile: certs.caFile,
    users,
    maildir,
    logTail: (lines?: number) => tail(join(root, 'courier.log'), lines),

    async seed(user, messages) {
      const dir = maildir(user);
      // Courier numbers a session's messages in file name order (seen here): the time prefix and counter keep seeding order.
      const CHUNK = 64;
      for (let i = 0; i < messages.length; i += CHUNK) {
        await Promise.all(
          messages.slice(i, i + CHUNK).map(async (m) => {
            const body = typeof m === 'string' ? Buffer.from(m, 'utf8') : m;
            const n = ++seq;
            const name = `${base + n}.M${String(n).padStart(9, '0')}P${process.pid}.mi-test`;
            const tmpPath = join(dir, 'tmp', name);
            await writeFile(tmpPath, body, { mode: 0o600 });
            await chown(tmpPath, mail.uid, mail.gid);
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
      if (namespace.exitCode === null && namespace.signalCode === null) {
        const gone = new Promise<void>((r) => namespace.once('exit', () => r()));
        namespace.kill('SIGKILL');
        await gone;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
