import type { BenchResults } from './bench-types.ts';
import { summarize, cellFor, speedVsLead, LEAD } from './bench-report.ts';

const COLORS: Record<string, string> = {
  'mail-ingest': '#d62728',
  mpop: '#ff7f0e',
  fetchmail: '#1f77b4',
  getmail6: '#2ca02c',
  'node-pop3': '#9467bd',
  openssl: '#7f7f7f',
  floor: '#000000',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Two rows of panels, one panel per workload: time against RTT (log-scale seconds), and below it each contender's
 * speed relative to mpop (mpop's time over its own, log scale, 1 = as fast as mpop). Hollow markers: timed out
 * (extrapolated).
 */
export function svgChart(res: BenchResults): string {
  const W = 340;
  const H = 300;
  const pad = { l: 58, r: 14, t: 34, b: 44 };
  const legendH = 60;
  const width = W * Math.max(1, res.workloads.length);
  const height = 2 * H + legendH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  // A contender not installed on this machine has no points: it stays out of the legend too.
  const contenders = [...new Set(res.cells.filter((c) => !c.unavailable).map((c) => c.contender))];
  const labels = new Map(res.cells.map((c) => [c.contender, c.label]));

  res.workloads.forEach((w, wi) => {
    const x0 = wi * W;
    const series = contenders.map((id) => ({
      id,
      pts: res.rtts.map((rtt) => {
        const c = cellFor(res, w.id, rtt, id);
        const s = c ? summarize(c) : undefined;
        return s?.ms !== undefined ? { rtt, s: s.ms / 1000, est: s.lowerBound } : undefined;
      }),
    }));
    const floors = res.rtts
      .map((rtt) => res.floors.find((f) => f.workload === w.id && f.rttMs === rtt))
      .map((f) => (f ? { rtt: f.rttMs, s: f.floorMs / 1000, est: false } : undefined));
    if (floors.some(Boolean)) series.push({ id: 'floor', pts: floors });
    const all = series.flatMap((s) => s.pts.filter((p) => p !== undefined).map((p) => p.s));
    if (all.length === 0) {
      parts.push(`<text x="${x0 + W / 2}" y="${H / 2}" text-anchor="middle">${esc(w.title)}: no data</text>`);
      return;
    }
    const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...all) * 1.01));
    const px = (i: number) => x0 + pad.l + (res.rtts.length === 1 ? 0.5 : i / (res.rtts.length - 1)) * (W - pad.l - pad.r);
    const py = (s: number) => pad.t + (1 - (Math.log10(s) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - pad.t - pad.b);
    parts.push(`<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(w.title)}</text>`);
    for (let d = lo; d <= hi * 1.0001; d *= 10) {
      parts.push(`<line x1="${x0 + pad.l}" x2="${x0 + W - pad.r}" y1="${py(d)}" y2="${py(d)}" stroke="#ddd"/>`);
      parts.push(`<text x="${x0 + pad.l - 6}" y="${py(d) + 4}" text-anchor="end">${d >= 1 ? d : d.toPrecision(1)} s</text>`);
    }
    res.rtts.forEach((rtt, i) => {
      parts.push(`<line x1="${px(i)}" x2="${px(i)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#eee"/>`);
      parts.push(`<text x="${px(i)}" y="${H - pad.b + 16}" text-anchor="middle">${rtt} ms</text>`);
    });
    parts.push(`<text x="${x0 + pad.l + (W - pad.l - pad.r) / 2}" y="${H - 8}" text-anchor="middle">round-trip time</text>`);
    parts.push(
      `<rect x="${x0 + pad.l}" y="${pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#888"/>`,
    );
    for (const s of series) {
      const color = COLORS[s.id] ?? '#ff7f0e';
      const pts = s.pts.map((p, i) => (p ? { x: px(i), y: py(p.s), est: p.est } : undefined));
      const drawn = pts.filter((p) => p !== undefined);
      if (drawn.length > 1) {
        parts.push(
          `<polyline fill="none" stroke="${color}" stroke-width="2"${s.id === 'floor' ? ' stroke-dasharray="5,4"' : ''} points="${drawn.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>`,
        );
      }
      for (const p of drawn) {
        parts.push(
          `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="4" fill="${p.est ? '#fff' : color}" stroke="${color}" stroke-width="2"/>`,
        );
      }
    }
  });

  res.workloads.forEach((w, wi) => ratioPanel(parts, res, w.id, w.title, wi * W, H, W, H, pad, contenders));

  const ids = [...contenders, ...(res.floors.length ? ['floor'] : [])];
  ids.forEach((id, i) => {
    const col = i % 3;
    const row = Math.floor(i / 3);
    const x = 20 + col * 260;
    const y = 2 * H + 14 + row * 18;
    const color = COLORS[id] ?? '#ff7f0e';
    parts.push(
      `<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"${id === 'floor' ? ' stroke-dasharray="5,4"' : ''}/>`,
    );
    parts.push(`<text x="${x + 30}" y="${y + 4}">${esc(id === 'floor' ? 'link floor (computed)' : (labels.get(id) ?? id))}</text>`);
  });
  parts.push(`<text x="${width - 10}" y="${height - 6}" text-anchor="end" fill="#666">hollow marker: timed out, extrapolated</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Speed relative to mpop against RTT for one workload, at (x0, y0). */
function ratioPanel(
  parts: string[],
  res: BenchResults,
  workload: string,
  title: string,
  x0: number,
  y0: number,
  W: number,
  H: number,
  pad: { l: number; r: number; t: number; b: number },
  contenders: string[],
): void {
  const series = contenders
    .filter((id) => id !== LEAD)
    .map((id) => ({
      id,
      pts: res.rtts.map((rtt) => {
        const c = cellFor(res, workload, rtt, id);
        const v = c ? speedVsLead(res, c) : undefined;
        return v !== undefined && v.ratio > 0 ? { r: v.ratio, est: v.lowerBound } : undefined;
      }),
    }));
  const all = series.flatMap((s) => s.pts.filter((p) => p !== undefined).map((p) => p.r));
  if (all.length === 0) return;
  const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...all)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...all) * 1.01));
  const px = (i: number) => x0 + pad.l + (res.rtts.length === 1 ? 0.5 : i / (res.rtts.length - 1)) * (W - pad.l - pad.r);
  const py = (r: number) => y0 + pad.t + (1 - (Math.log10(r) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - pad.t - pad.b);
  parts.push(
    `<text x="${x0 + W / 2}" y="${y0 + 18}" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}: speed × mpop</text>`,
  );
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    parts.push(`<line x1="${x0 + pad.l}" x2="${x0 + W - pad.r}" y1="${py(d)}" y2="${py(d)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x0 + pad.l - 6}" y="${py(d) + 4}" text-anchor="end">${d >= 1 ? d : d.toPrecision(1)}×</text>`);
  }
  parts.push(
    `<line x1="${x0 + pad.l}" x2="${x0 + W - pad.r}" y1="${py(1)}" y2="${py(1)}" stroke="${COLORS[LEAD]}" stroke-width="2" stroke-dasharray="5,4"/>`,
  );
  res.rtts.forEach((rtt, i) => {
    parts.push(`<line x1="${px(i)}" x2="${px(i)}" y1="${y0 + pad.t}" y2="${y0 + H - pad.b}" stroke="#eee"/>`);
    parts.push(`<text x="${px(i)}" y="${y0 + H - pad.b + 16}" text-anchor="middle">${rtt} ms</text>`);
  });
  parts.push(
    `<text x="${x0 + pad.l + (W - pad.l - pad.r) / 2}" y="${y0 + H - 8}" text-anchor="middle">round-trip time (above the dashed line: faster than mpop)</text>`,
  );
  parts.push(
    `<rect x="${x0 + pad.l}" y="${y0 + pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#888"/>`,
  );
  for (const s of series) {
    const color = COLORS[s.id] ?? '#8c564b';
    const drawn = s.pts.map((p, i) => (p ? { x: px(i), y: py(p.r), est: p.est } : undefined)).filter((p) => p !== undefined);
    if (drawn.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${drawn.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of drawn)
      parts.push(
        `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="4" fill="${p.est ? '#fff' : color}" stroke="${color}" stroke-width="2"/>`,
      );
  }
}
