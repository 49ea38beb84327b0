import { buffer } from 'node:stream/consumers';
import { connectPop3 } from '../../lib/pop3/index.ts';
import type { Pop3Client, Pop3ConnectOptions } from '../../lib/pop3/index.ts';
import { fakeServerLogin, type FakePop3Server } from '../helpers/fake-pop3-server.ts';

/** Connects to a fake server: STLS on its plain port (or implicit TLS), trusting the test CA. */
export function connectFake(server: FakePop3Server, options: Partial<Pop3ConnectOptions> = {}): Promise<Pop3Client> {
  return connectPop3({ ...fakeServerLogin(server), ...options });
}

export async function retrBytes(client: Pop3Client, n: number): Promise<Buffer> {
  return buffer((await client.retr(n)).stream);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Commands that carry a credential. */
export const CREDENTIAL_VERBS = new Set(['USER', 'PASS', 'AUTH', 'APOP']);
