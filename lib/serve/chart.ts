import type { DayStat } from '../search/search.ts';
import { html, type SafeHtml } from './html.ts';
import { formatBytes } from '../format-bytes.ts';

const W = 640;
const H = 140;
const PAD = 28;

/**
 * Messages per day as bars and bytes per day as a line, over the last `days` days ending `today`: inline SVG,
 * so the page needs no script and no request. Each day carries a <title> with its figures for a tooltip.
 */
export function dayChart(stats: readonly DayStat[], days: number, today: Date, labels: { messages: string; bytes: string }): SafeHtml {
  const series: Array<{ day: string; messages: number; bytes: number }> = [];
  const byDay = new Map(stats.map((s) => [s.day, s]));
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(today.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    const s = byDay.get(day);
    series.push({ day, messages: s?.messages ?? 0, bytes: s?.bytes ?? 0 });
  }
  const maxMessages = Math.max(1, ...series.map((s) => s.messages));
  const maxBytes = Math.max(1, ...series.map((s) => s.bytes));
  const slot = (W - PAD * 2) / days;
  const y = (v: number, max: number): number => H - PAD - (v / max) * (H - PAD * 2);
  const bars = series.map((s, i) => {
    const x = PAD + i * slot;
    const top = y(s.messages, maxMessages);
    return html`<rect class="bar" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${(H - PAD - top).toFixed(1)}"><title>${s.day}: ${s.messages} ${labels.messages}, ${formatBytes(s.bytes)}</title></rect>`;
  });
  const points = series.map((s, i) => `${(PAD + i * slot + slot / 2).toFixed(1)},${y(s.bytes, maxBytes).toFixed(1)}`).join(' ');
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${labels.messages} / ${labels.bytes}">
<line class="axis" x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}"/>
${bars}
<polyline class="bytes" points="${points}"/>
<text class="label" x="${PAD}" y="14">${maxMessages} ${labels.messages}</text>
<text class="label right" x="${W - PAD}" y="14" text-anchor="end">${formatBytes(maxBytes)}</text>
<text class="label" x="${PAD}" y="${H - 8}">${series[0]!.day}</text>
<text class="label right" x="${W - PAD}" y="${H - 8}" text-anchor="end">${series.at(-1)!.day}</text>
</svg>`;
}
