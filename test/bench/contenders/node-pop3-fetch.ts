// Child process for the node-pop3 contender: download every message over TLS and write each to a file.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Pop3Command from 'node-pop3';
import { unstuff } from '../bench-files.ts';
import type { Mailbox } from './contender.ts';

const o = JSON.parse(process.argv[2]!) as Mailbox & { out: string };
await mkdir(o.out, { recursive: true });
const pop3 = new Pop3Command({
  host: o.host,
  port: o.port,
  tls: true,
  servername: o.servername,
  user: o.user,
  password: o.password,
  tlsOptions: { ca: await readFile(o.caFile, 'utf8') },
});

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const list = await pop3.UIDL();
for (const [n] of list as Array<[string, string]>) {
  const [, stream] = await pop3.command('RETR', n);
  // node-pop3 hands over the body still dot-stuffed and without its final CRLF (it strips "\r\n.\r\n").
  const body = Buffer.concat([unstuff(await collect(stream as Readable)), Buffer.from('\r\n')]);
  await writeFile(join(o.out, `${n}.eml`), body);
}
await pop3.QUIT();
