/**
 * The date a raw message is filed under in the archive (raw/<mailbox>/<yyyy>/<mm>/<dd>/...).
 *
 * It must be a function of the bytes alone: a message fetched again after a crash must land on the very same key,
 * or the archive would hold it twice. So it is read from the message: the topmost Received header (stamped by the
 * ISP's own MTA at delivery, RFC 5321 section 4.4), else the Date header. Only a message with neither falls back to
 * the time of ingest.
 */
const MAX_HEAD = 64 * 1024;

export function headerBlock(head: Buffer): string {
  const limit = Math.min(head.length, MAX_HEAD);
  let end = head.indexOf('\r\n\r\n');
  if (end < 0 || end > limit) end = head.indexOf('\n\n');
  if (end < 0 || end > limit) end = limit;
  return head.subarray(0, end).toString('latin1');
}

/** Unfolded headers named `name` (case-insensitive), in order. */
export function headerValues(block: string, name: string): string[] {
  const out: string[] = [];
  const lines = block.split(/\r?\n/);
  const prefix = `${name.toLowerCase()}:`;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.toLowerCase().startsWith(prefix)) continue;
    let value = line.slice(prefix.length);
    for (let next = lines[i + 1]; next !== undefined && /^[ \t]/.test(next); next = lines[i + 1]) {
      value += ` ${next.trim()}`;
      i++;
    }
    out.push(value.trim());
  }
  return out;
}

const EARLIEST = Date.UTC(1980, 0, 1);

function plausible(text: string | undefined, now: Date): Date | null {
  if (text === undefined) return null;
  // Strip comments such as "(JST)" that Date.parse rejects.
  const ms = Date.parse(
    text
      .replace(/\([^)]*\)/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  if (Number.isNaN(ms) || ms < EARLIEST || ms > now.getTime() + 366 * 86_400_000) return null;
  return new Date(ms);
}

export function arrivalDate(head: Buffer, now: Date): Date {
  const block = headerBlock(head);
  const received = headerValues(block, 'received')[0];
  const fromReceived = received === undefined ? null : plausible(received.slice(received.lastIndexOf(';') + 1), now);
  return fromReceived ?? plausible(headerValues(block, 'date')[0], now) ?? now;
}
