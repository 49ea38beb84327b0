import type { CommandSpec, RawResponse } from './command.ts';
import { Pop3Error, sanitize } from './errors.ts';
import type { ListEntry, MessageStream, UidlEntry } from './types.ts';

// One small spec per command verb (RFC 1939 sections 5 and 7). Every number the server sends is checked: a count
// past Number.MAX_SAFE_INTEGER or a malformed line is EPROTOCOL, never a silently wrong value.

function int(value: string | undefined, what: string, verb: string): number {
  if (value === undefined || !/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Pop3Error('EPROTOCOL', `${verb}: ${what} is not a valid number: ${sanitize(String(value), 40)}`, { command: verb });
  }
  return Number(value);
}

/** Message numbers and line counts come from the caller: checked before anything is queued. */
export function checkArg(value: number, what: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Pop3Error('ECONFIG', `${what} must be an integer >= ${min}, got ${String(value)}`);
  }
}

function parseListEntry(line: string, verb: string): ListEntry {
  const [n, size] = line.trim().split(/\s+/);
  return { n: int(n, 'message number', verb), size: int(size, 'size', verb) };
}

// RFC 1939: a unique-id is 1 to 70 characters in 0x21..0x7E. Longer ids are tolerated (some servers exceed 70).
const UID = /^[\x21-\x7e]{1,512}$/;

function parseUidlEntry(line: string, verb: string): UidlEntry {
  const [n, uid, extra] = line.trim().split(/\s+/);
  if (uid === undefined || extra !== undefined || !UID.test(uid)) {
    throw new Pop3Error('EPROTOCOL', `${verb}: malformed unique-id line: ${sanitize(line, 80)}`, { command: verb });
  }
  return { n: int(n, 'message number', verb), uid };
}

export const stat: CommandSpec<{ count: number; size: number }> = {
  line: 'STAT',
  verb: 'STAT',
  kind: 'single',
  parse: (r) => {
    const [count, size] = r.text.trim().split(/\s+/);
    return { count: int(count, 'message count', 'STAT'), size: int(size, 'maildrop size', 'STAT') };
  },
};

export const listAll: CommandSpec<ListEntry[]> = {
  line: 'LIST',
  verb: 'LIST',
  kind: 'lines',
  parse: (r) => r.lines.map((l) => parseListEntry(l, 'LIST')),
};

export function listOne(n: number): CommandSpec<ListEntry> {
  return { line: `LIST ${n}`, verb: 'LIST', kind: 'single', parse: (r) => parseListEntry(r.text, 'LIST') };
}

export const uidlAll: CommandSpec<UidlEntry[]> = {
  line: 'UIDL',
  verb: 'UIDL',
  kind: 'lines',
  parse: (r) => r.lines.map((l) => parseUidlEntry(l, 'UIDL')),
};

export function uidlOne(n: number): CommandSpec<UidlEntry> {
  return { line: `UIDL ${n}`, verb: 'UIDL', kind: 'single', parse: (r) => parseUidlEntry(r.text, 'UIDL') };
}

/** "+OK 1234 octets" (RFC 1939 suggests it; not every server says it). */
function announced(text: string): number | null {
  const m = /^(\d{1,16})(?:\s|$)/.exec(text.trim());
  return m && Number.isSafeInteger(Number(m[1])) ? Number(m[1]) : null;
}

function body(verb: string, maxMessageBytes: number) {
  return (r: RawResponse): MessageStream => {
    const announcedSize = announced(r.text);
    if (announcedSize !== null && announcedSize > maxMessageBytes) {
      throw new Pop3Error('ETOOLARGE', `${verb}: server announced ${announcedSize} octets, over maxMessageBytes (${maxMessageBytes})`, {
        command: verb,
      });
    }
    return { announcedSize, stream: r.stream! };
  };
}

export function retr(n: number, maxMessageBytes: number): CommandSpec<MessageStream> {
  return { line: `RETR ${n}`, verb: 'RETR', kind: 'body', parse: body('RETR', maxMessageBytes) };
}

export function top(n: number, lines: number): CommandSpec<MessageStream> {
  // TOP's "+OK" rarely carries a size, and when it does it is the whole message's: never held against the cap.
  return { line: `TOP ${n} ${lines}`, verb: 'TOP', kind: 'body', parse: (r) => ({ announcedSize: announced(r.text), stream: r.stream! }) };
}

const simple = (verb: string, line = verb): CommandSpec<void> => ({ line, verb, kind: 'single', parse: () => undefined });

export const dele = (n: number): CommandSpec<void> => simple('DELE', `DELE ${n}`);
export const rset = simple('RSET');
export const noop = simple('NOOP');
export const quit: CommandSpec<void> = { ...simple('QUIT'), quit: true };
