import path from 'node:path';
import { DEMO_CERTS_DIR } from '../paths.ts';

export const DEMO_USER = 'demo';
/** Not a secret: it opens the demo's loopback server and nothing else. */
export const DEMO_PASSWORD = 'demo-password';
export const DEMO_CONFIG_FILE = 'demo-config.json';

/**
 * The configuration file the demo writes beside its archive, for the demo's POP3S server on `port`: the fs store,
 * the local event log with the three shipped processors (what the Lambda ones do in AWS), and one mailbox.
 */
export function demoConfig(dir: string, port: number): Record<string, unknown> {
  return {
    store: { type: 'fs', dir },
    publish: {
      type: 'local',
      processors: [
        // Each with its default filter (lib/processors/registry.ts), as in AWS.
        { name: 'tickets', kind: 'ticket-intake' },
        { name: 'attachments', kind: 'attachment-extraction' },
        { name: 'index', kind: 'archive-index' },
      ],
    },
    mailboxes: [
      {
        id: 'demo',
        host: '127.0.0.1',
        port,
        tls: 'implicit',
        ca: path.join(DEMO_CERTS_DIR, 'demo-ca.pem'),
        servername: 'localhost',
        user: DEMO_USER,
        password: DEMO_PASSWORD,
        retention: 'keep',
      },
    ],
  };
}
