/**
 * A small POP3 server (RFC 1939, with CAPA, UIDL, TOP, PIPELINING) over implicit TLS on loopback, serving an
 * in-memory maildrop. It exists so that `mail-ingest demo` shows the whole pipeline with nothing installed.
 * Not for production: one user, messages in memory.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { DEMO_CERTS_DIR } from '../paths.ts';

export interface DemoServer {
  readonly port: number;
  /** The maildrop: a message pushed here is in every session that starts after. */
  readonly messages: Buffer[];
  close(): Promise<void>;
}

/** The demo's certificate for localhost / 127.0.0.1 and its key (see certs/README.md: demo only). */
export async function demoServerCredentials(): Promise<{ key: string; cert: string }> {
  const [key, cert] = await Promise.all([
    readFile(path.join(DEMO_CERTS_DIR, 'demo-server.key'), 'utf8'),
    readFile(path.join(DEMO_CERTS_DIR, 'demo-server.pem'), 'utf8'),
  ]);
  return { key, cert };
}

function stuff(message: Buffer): Buffer {
  // Byte-stuff lines starting with '.' (RFC 1939 section 3) and make sure the body ends with CRLF.
  const text = message.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1');
}

export async function startDemoServer(options: {
  key: string;
  cert: string;
  user: string;
  password: string;
  messages: Buffer[];
  port?: number;
}): Promise<DemoServer> {
  const messages = options.messages;
  const sockets = new Set<TLSSocket>();
  const server = createServer({ key: options.key, cert: options.cert, minVersion: 'TLSv1.2' }, (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let user: string | null = null;
    let authed = false;
    const deleted = new Set<number>();
    const snapshot = [...messages];
    let buffer = '';
    const send = (line: string | Buffer): void => {
      socket.write(line);
    };
    const get = (arg: string): Buffer | null => {
      const n = Number(arg);
      return Number.isInteger(n) && n >= 1 && !deleted.has(n) ? (snapshot[n - 1] ?? null) : null;
    };
    const uid = (m: Buffer): string => createHash('sha256').update(m).digest('hex').slice(0, 32);
    const handle = (line: string): void => {
      const [verb = '', ...args] = line.split(' ');
      const cmd = verb.toUpperCase();
      if (cmd === 'CAPA') return send('+OK\r\nUSER\r\nUIDL\r\nTOP\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n.\r\n');
      if (cmd === 'QUIT') {
        if (authed) for (const n of [...deleted].sort((a, b) => b - a)) messages.splice(messages.indexOf(snapshot[n - 1]!), 1);
        send('+OK bye\r\n');
        socket.end();
        return;
      }
      if (!authed) {
        if (cmd === 'USER') {
          user = args.join(' ');
          return send('+OK\r\n');
        }
        if (cmd === 'PASS' && user === options.user && args.join(' ') === options.password) {
          authed = true;
          return send('+OK logged in\r\n');
        }
        if (cmd === 'PASS') return send('-ERR [AUTH] invalid credentials\r\n');
        return send('-ERR log in first\r\n');
      }
      const live = snapshot.map((m, i) => [i + 1, m] as const).filter(([n]) => !deleted.has(n));
      switch (cmd) {
        case 'STAT':
          return send(`+OK ${live.length} ${live.reduce((s, [, m]) => s + m.length, 0)}\r\n`);
        case 'LIST':
          return send(`+OK\r\n${live.map(([n, m]) => `${n} ${m.length}\r\n`).join('')}.\r\n`);
        case 'UIDL':
          return send(`+OK\r\n${live.map(([n, m]) => `${n} ${uid(m)}\r\n`).join('')}.\r\n`);
        case 'NOOP':
          return send('+OK\r\n');
        case 'RSET':
          deleted.clear();
          return send('+OK\r\n');
        case 'RETR':
        case 'TOP':
        case 'DELE': {
          const m = get(args[0] ?? '');
          if (m === null) return send('-ERR no such message\r\n');
          if (cmd === 'DELE') {
            deleted.add(Number(args[0]));
            return send('+OK marked\r\n');
          }
          let body = m;
          if (cmd === 'TOP') {
            const end = m.indexOf('\r\n\r\n');
            const lines = Number(args[1] ?? 0);
            const rest =
              end < 0
                ? ''
                : m
                    .subarray(end + 4)
                    .toString('latin1')
                    .split('\r\n')
                    .slice(0, lines)
                    .join('\r\n');
            body = Buffer.concat([end < 0 ? m : m.subarray(0, end + 4), Buffer.from(rest, 'latin1')]);
          }
          send(`+OK ${body.length} octets\r\n`);
          send(stuff(body));
          return send('.\r\n');
        }
        default:
          return send('-ERR unknown command\r\n');
      }
    };
    send('+OK mail-ingest demo POP3 server ready\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        handle(line);
      }
      if (buffer.length > 4096) socket.destroy();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject); // e.g. EADDRINUSE for a --port already taken
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy(); // a session in progress must not keep the demo from stopping
      }),
  };
}
