import type { Config, MailboxConfig } from '../config/index.ts';
import { ConfigError } from '../config/index.ts';

/**
 * The mailboxes a command works on: those named by --mailbox, else every enabled one. Its own module, apart from
 * run-all.ts, so that the commands that only read (status, verify, replay, check) do not load the pipeline.
 */
export function selectMailboxes(config: Config, ids?: readonly string[]): MailboxConfig[] {
  if (ids === undefined || ids.length === 0) return config.mailboxes.filter((m) => m.enabled !== false);
  const unknown = ids.filter((id) => !config.mailboxes.some((m) => m.id === id));
  if (unknown.length > 0)
    throw new ConfigError([
      {
        path: '--mailbox',
        message: `unknown mailbox id(s): ${unknown.join(', ')}; the config has ${config.mailboxes.map((m) => m.id).join(', ')}`,
      },
    ]);
  return config.mailboxes.filter((m) => ids.includes(m.id));
}
