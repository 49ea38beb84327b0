import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { dovecotSkipReason, startDovecot, toCrlf, type DovecotServer } from '../helpers/dovecot.ts';

/** A minimal lock-step POP3 talker for checking the server, independent of lib/pop3. */
class RawPop3 {
  socket: Socket;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  static async open(server: DovecotServer, tls: boolean): Promise<RawPop3> {
    const socket = tls
      ? tlsConnect({ host: server.host, port: server.tlsPort, ca: server.caPem, servername: 'localhost' })
      : netConnect({ host: server.host, port: server.plainPort });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new RawPop3(socket);
    assert.match(await c.line(), /^\+OK/);
    return c;
  }
  private async until(end: string): Promise<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(end);
      if (i >= 0) {
        const out = this.buf.subarray(0, i + end.length);
        this.buf = this.buf.subarray(i + end.length);
        return out;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  async line(): Promise<string> {
    return (await this.until('\r\n')).toString().trimEnd();
  }
  async cmd(c: string): Promise<string> {
    this.socket.write(`${c}\r\n`);
    return this.line();
  }
  /** Multi-line body after a +OK status, unstuffed, terminator removed. */
  async multi(c: string): Promise<{ status: string; body: Buffer }> {
    const status = await this.cmd(c);
    if (!status.startsWith('+OK')) return { status, body: Buffer.alloc(0) };
    const raw = await this.until('\r\n.\r\n');
    const body = raw
      .subarray(0, raw.length - 3)
      .toString('latin1')
      .replace(/^\.\./gm, '.');
    return { status, body: Buffer.from(body, 'latin1') };
  }
  async login(user: string, password: string): Promise<void> {
    assert.match(await this.cmd(`USER ${user}`), /^\+OK/);
    assert.match(await this.cmd(`PASS ${password}`), /^\+OK/);
  }
  async quit(): Promise<void> {
    await this.cmd('QUIT');
    this.socket.destroy();
  }
}

const skip = dovecotSkipReason();

describe('test Dovecot', { skip: skip ?? false }, () => {
  let server: DovecotServer;
  const messages = [
    'From: a@example.com\nSubject: one\n\nfirst\n',
    Buffer.from('From: b@example.com\r\nSubject: two\r\n\r\n.starts with a dot\r\n'),
    'From: c@example.com\nSubject: three\n\nno final newline',
  ];
  before(async () => {
    server = await startDovecot();
    await server.seed('alice', messages);
  });
  after(async () => {
    await server?.stop();
  });

  it('answers +OK on both ports, STLS offered only on the plain one', async () => {
    const plain = await RawPop3.open(server, false);
    const capaPlain = await plain.multi('CAPA');
    assert.match(capaPlain.body.toString(), /^STLS$/m);
    assert.match(capaPlain.body.toString(), /^PIPELINING$/m);
    await plain.quit();
    const tls = await RawPop3.open(server, true);
    const capaTls = await tls.multi('CAPA');
    assert.doesNotMatch(capaTls.body.toString(), /^STLS$/m);
    await tls.quit();
  });

  it('serves the seeded messages in seeding order, as toCrlf of the seeded bytes', async () => {
    const c = await RawPop3.open(server, true);
    await c.login('alice', 'secret-alice');
    assert.match(await c.cmd('STAT'), /^\+OK 3 /);
    for (let i = 0; i < messages.length; i++) {
      const { body } = await c.multi(`RETR ${i + 1}`);
      assert.deepEqual(body, toCrlf(Buffer.from(messages[i]!)), `message ${i + 1}`);
    }
    await c.quit();
  });

  it('keeps UIDLs stable across sessions and mail on the server without DELE', async () => {
    const uidl = async () => {
      const c = await RawPop3.open(server, true);
      await c.login('alice', 'secret-alice');
      const { body } = await c.multi('UIDL');
      await c.quit();
      return body.toString();
    };
    const first = await uidl();
    assert.equal(first.trim().split('\r\n').length, 3);
    assert.equal(await uidl(), first);
    assert.equal((await server.maildirMessages('alice')).length, 3);
  });

  it('maildirMessages returns the stored bytes in seeding order; other users are empty', async () => {
    const stored = await server.maildirMessages('alice');
    assert.deepEqual(
      stored,
      messages.map((m) => Buffer.from(m)),
    );
    assert.deepEqual(await server.maildirMessages('bob'), []);
    const c = await RawPop3.open(server, true);
    await c.login('bob', 'secret-bob');
    assert.match(await c.cmd('STAT'), /^\+OK 0 0/);
    await c.quit();
  });

  it('refuses a wrong password', async () => {
    const c = await RawPop3.open(server, true);
    assert.match(await c.cmd('USER alice'), /^\+OK/);
    assert.match(await c.cmd('PASS wrong'), /^-ERR/);
    await c.quit();
  });
});

describe('test Dovecot lifecycle', { skip: skip ?? false }, () => {
  it('runs instances side by side with their own users, and stop() frees the port', async () => {
    const [a, b] = await Promise.all([startDovecot({ users: [{ user: 'carol', password: 'pw-carol' }] }), startDovecot()]);
    try {
      assert.notEqual(a.tlsPort, b.tlsPort);
      assert.deepEqual(
        a.users.map((u) => u.user),
        ['carol'],
      );
      const many = Array.from({ length: 300 }, (_, i) => `Subject: m${i}\n\nbody ${i}\n`);
      await a.seed('carol', many);
      const c = await RawPop3.open(a, true);
      await c.login('carol', 'pw-carol');
      assert.match(await c.cmd('STAT'), /^\+OK 300 /);
      assert.match((await c.multi('RETR 300')).body.toString(), /^Subject: m299\r\n/);
      await c.quit();
      await assert.rejects(a.seed('alice', ['x\n']), /unknown Dovecot user alice/);
    } finally {
      await a.stop();
      await b.stop();
    }
    const refused = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: a.tlsPort });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    assert.ok(refused, 'the TLS port is closed after stop()');
  });
});

describe('dovecotSkipReason', () => {
  it('is null here exactly when Dovecot is installed and we are root', () => {
    const usable = existsSync('/usr/sbin/dovecot') && process.getuid?.() === 0;
    if (process.env.CI === 'true') assert.equal(skip, null);
    else assert.equal(skip === null, usable);
  });
});
