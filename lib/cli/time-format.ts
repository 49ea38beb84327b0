/** Times as a person reads them: local time with its UTC offset, and how long ago. */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** ISO 8601 in the machine's time zone, with the offset: 2026-12-02T06:00:00.123+09:00 (TZ decides the zone). */
export function localTimestamp(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `.${pad(d.getMilliseconds(), 3)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago" (or "in ..." for a time ahead, a skewed clock). */
export function relativeTime(d: Date, now: Date = new Date()): string {
  const ms = now.getTime() - d.getTime();
  const s = Math.round(Math.abs(ms) / 1000);
  let text: string;
  if (s < 5) return 'just now';
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 172_800) text = `${Math.floor(s / 3600)} h`;
  else text = `${Math.floor(s / 86_400)} days`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

/** For tables: "5 min ago (2026-12-02 06:00:00 +09:00)". */
export function whenText(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const local = localTimestamp(d);
  return `${relativeTime(d, now)} (${local.slice(0, 10)} ${local.slice(11, 19)} ${local.slice(23)})`;
}
