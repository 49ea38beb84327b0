import type { Capabilities } from './capabilities.ts';
import type { CommandSpec } from './command.ts';
import type { Pop3Connection } from './connection.ts';
import { Pop3Error } from './errors.ts';

const utf8Command: CommandSpec<void> = { line: 'UTF8', verb: 'UTF8', kind: 'single', parse: () => undefined };

/**
 * RFC 6856 section 2: enters UTF-8 mode when CAPA offers `UTF8`. Resolves true when the server took it.
 *
 * Why it matters for an archive: a server that stores internationalized mail (RFC 6532, raw 8-bit header bytes) may
 * hand a client that did not send UTF8 something else in its place. Courier 1.0.16 generates a "Cannot display
 * Unicode content" substitute with the original attached and a new MIME boundary each session; archiving that
 * (and then deleting under retention) would lose the original. Sending UTF8 gets the stored bytes.
 *
 * The caller passes the CAPA it trusts (the one read inside TLS) and calls this before authenticating: UTF8 is
 * valid only in the AUTHORIZATION state, and a client must not send STLS after it. The capability is announced in
 * both states with no difference (section 2), so the CAPA re-read after login keeps meaning what it meant.
 *
 * A -ERR (whatever its response code) leaves the session in ASCII mode and the login goes on: that is what a
 * server without working UTF-8 support serves anyway. A dropped connection or a timeout still fails the session.
 */
export async function enableUtf8(conn: Pop3Connection, caps: Capabilities): Promise<boolean> {
  if (!caps.has('UTF8')) return false;
  try {
    await conn.send(utf8Command);
    return true;
  } catch (error) {
    if (error instanceof Pop3Error && error.response !== undefined && !conn.closed) return false;
    throw error;
  }
}
