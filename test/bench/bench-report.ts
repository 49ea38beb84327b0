import type { BenchResults, Cell, RunResult } from './bench-types.ts';
import { fmtMb, fmtSeconds, median, pairedRatio, spread } from './bench-stats.ts';

const okTimes = (c: Cell) => c.runs.filter((r): r is RunResult => r?.status === 'ok').map((r) => r.wallMs);
const timesByRun = (c: Cell) => c.runs.map((r) => (r?.status === 'ok' ? r.wallMs : r?.status === 'timeout' ? r.estimatedMs : undefined));

/** Median seconds, or for a contender that only timed out, its lower bound / extrapolation. */
export function summarize(c: Cell): { ms?: number; lowerBound: boolean; text: string } {
  if (c.unavailable) return { lowerBound: false, text: 'n/a' };
  const ok = okTimes(c);
  if (ok.length) return { ms: median(ok), lowerBound: false, text: fmtSeconds(median(ok)) };
  const to = c.runs.find((r) => r?.status === 'timeout');
  if (to) {
    return to.estimatedMs !== undefined
      ? { ms: to.estimatedMs, lowerBound: true, text: `~${fmtSeconds(to.estimatedMs)} (est.)` }
      : { ms: to.wallMs, lowerBound: true, text: `> ${fmtSeconds(to.wallMs)}` };
  }
  const failed = c.runs.find((r) => r?.status === 'failed');
  return { lowerBound: false, text: failed ? 'FAILED' : '–' };
}

function status(c: Cell): string {
  if (c.unavailable) return c.unavailable;
  const parts: string[] = [];
  const n = (s: string) => c.runs.filter((r) => r?.status === s).length;
  if (n('ok')) parts.push(`${n('ok')} ok`);
  if (n('timeout')) {
    const t = c.runs.find((r) => r?.status === 'timeout')!;
    parts.push(`timed out at ${fmtSeconds(t.wallMs)} s with ${t.delivered} delivered`);
  }
  if (n('failed')) parts.push(`FAILED: ${c.runs.find((r) => r?.status === 'failed')!.detail ?? ''}`);
  if (c.note) parts.push(c.note);
  return parts.join('; ');
}

export function cellFor(res: BenchResults, workload: string, rttMs: number, contender: string): Cell | undefined {
  return res.cells.find((c) => c.workload === workload && c.rttMs === rttMs && c.contender === contender);
}

/** The contender every other is compared with: mpop, the fastest peer (issue 14). */
export const LEAD = 'mpop';

/** Speed relative to the lead (its time over this one's, paired by run): above 1 is faster than mpop. */
export function speedVsLead(res: BenchResults, c: Cell): { ratio: number; lowerBound: boolean } | undefined {
  const lead = cellFor(res, c.workload, c.rttMs, LEAD);
  if (!lead || lead.unavailable || c.unavailable) return undefined;
  const r = pairedRatio(timesByRun(lead), timesByRun(c));
  if (!Number.isFinite(r)) return undefined;
  // A contender that only timed out is slower than its extrapolation says at best: its ratio is an upper bound.
  return { ratio: r, lowerBound: summarize(c).lowerBound };
}

export function markdownTable(res: BenchResults): string {
  const lines: string[] = [];
  lines.push(
    '| workload | RTT | contender | median s | spread s (min–max) | speed × mpop (paired) | CPU s | peak RSS MB | runs / status |',
  );
  lines.push('|---|---:|---|---:|---|---:|---:|---:|---|');
  for (const w of res.workloads) {
    for (const rtt of res.rtts) {
      for (const c of res.cells.filter((x) => x.workload === w.id && x.rttMs === rtt)) {
        const s = summarize(c);
        const ok = okTimes(c);
        const sp = ok.length > 1 ? `${fmtSeconds(spread(ok).min)}–${fmtSeconds(spread(ok).max)}` : '';
        const v = c.contender === LEAD ? undefined : speedVsLead(res, c);
        const ratio =
          c.contender === LEAD ? '1 (lead)' : v === undefined ? '' : `${v.lowerBound ? '≤ ' : ''}${v.ratio.toFixed(v.ratio >= 10 ? 0 : 2)}`;
        const rss = Math.max(0, ...c.runs.map((r) => r?.peakRssBytes ?? 0));
        const cpu = c.runs.filter((r): r is RunResult => r?.status === 'ok').map((r) => r.cpuMs);
        lines.push(
          `| ${w.title} | ${rtt} ms | ${c.label} | ${s.text} | ${sp} | ${ratio} | ${cpu.length ? fmtSeconds(median(cpu)) : ''} | ${rss ? fmtMb(rss) : ''} | ${status(c)} |`,
        );
      }
      const floor = res.floors.find((f) => f.workload === w.id && f.rttMs === rtt);
      if (floor) {
        lines.push(
          `| ${w.title} | ${rtt} ms | link floor (${floor.roundTrips} RTT + bytes / ${fmtMb(floor.bandwidthBytesPerSec)} MB/s) | ${fmtSeconds(floor.floorMs)} | | | | | computed |`,
        );
      }
    }
  }
  return lines.join('\n');
}

const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');

/** Issue 14's targets: against mpop in the same run, the link floor, and memory. */
export function targetsVsMpop(res: BenchResults): string[] {
  const out: string[] = [];
  const small = res.workloads.find((w) => w.id === 'small');
  for (const [rtt, factor] of [
    [0, 1.2],
    [150, 2],
  ] as const) {
    const mi = cellFor(res, 'small', rtt, 'mail-ingest');
    const v = mi ? speedVsLead(res, mi) : undefined;
    if (!small || !mi || v === undefined) {
      out.push(`- small @ ${rtt} ms: at least ${factor}× mpop's speed: not measured`);
      continue;
    }
    out.push(
      `- ${small.title} @ ${rtt} ms: mail-ingest ${summarize(mi).text} s, mpop ${summarize(cellFor(res, 'small', rtt, LEAD)!).text} s → ${v.ratio.toFixed(2)}× mpop's speed (target ≥ ${factor}×): ${verdict(v.ratio >= factor)}`,
    );
  }
  const mi150 = cellFor(res, 'small', 150, 'mail-ingest');
  const floor = res.floors.find((f) => f.workload === 'small' && f.rttMs === 150);
  const t150 = mi150 ? summarize(mi150).ms : undefined;
  if (small && floor && t150 !== undefined) {
    const f = t150 / floor.floorMs;
    out.push(
      `- ${small.title} @ 150 ms: mail-ingest ${f.toFixed(2)}× the link floor of ${fmtSeconds(floor.floorMs)} s (target ≤ 1.5×): ${verdict(f <= 1.5)}`,
    );
  } else {
    out.push('- small @ 150 ms: within 1.5× of the link floor: not measured');
  }
  const smallCells = res.cells.filter((c) => c.workload === 'small' && c.contender === 'mail-ingest' && okTimes(c).length > 0);
  if (small && smallCells.length > 0) {
    const rss = Math.max(...smallCells.flatMap((c) => c.runs.map((r) => r?.peakRssBytes ?? 0)));
    out.push(
      `- ${small.title}: mail-ingest peak RSS ${fmtMb(rss)} MB, largest over every RTT (target ≤ 100 MB): ${verdict(rss <= 100 * 1048576)}`,
    );
  }
  const large = res.workloads.find((w) => w.id === 'large');
  if (large) {
    for (const rtt of res.rtts) {
      const cell = cellFor(res, 'large', rtt, 'mail-ingest');
      const raw = cellFor(res, 'large', rtt, 'openssl');
      if (!cell || cell.unavailable || !okTimes(cell).length) {
        out.push(`- ${large.title} @ ${rtt} ms: not measured`);
        continue;
      }
      const rss = Math.max(...cell.runs.map((r) => r?.peakRssBytes ?? 0));
      let speed = '';
      if (raw && okTimes(raw).length) {
        const r = pairedRatio(timesByRun(raw), timesByRun(cell));
        speed = `, ${r.toFixed(2)}× the speed of a raw openssl read (target ≥ 0.7×): ${verdict(r >= 0.7)}`;
      }
      out.push(
        `- ${large.title} @ ${rtt} ms: mail-ingest peak RSS ${fmtMb(rss)} MB (target < 150 MB): ${verdict(rss < 150 * 1048576)}${speed}`,
      );
    }
  }
  return out;
}

/** Issue 6's targets (against fetchmail and getmail6), each checked against what was measured. */
export function targets(res: BenchResults): string[] {
  const out: string[] = [];
  const med = (w: string, rtt: number, c: string) => {
    const cell = cellFor(res, w, rtt, c);
    return cell ? summarize(cell) : undefined;
  };
  const small = res.workloads.find((w) => w.id === 'small');
  for (const [rtt, factor] of [
    [150, 20],
    [0, 3],
  ] as const) {
    const mi = med('small', rtt, 'mail-ingest');
    const peers = ['fetchmail', 'getmail6'].map((p) => ({ p, s: med('small', rtt, p) })).filter((x) => x.s?.ms !== undefined);
    if (!small || !mi?.ms || peers.length === 0) {
      out.push(`- small @ ${rtt} ms: ≥ ${factor}× faster than fetchmail/getmail6: not measured`);
      continue;
    }
    // "faster than the faster peer" (150 ms) and "faster than both" (0 ms) are the same test: against the faster.
    const ref = Math.min(...peers.map((x) => x.s!.ms!));
    const ratio = ref / mi.ms;
    out.push(
      `- ${small.title} @ ${rtt} ms: mail-ingest ${fmtSeconds(mi.ms)} s vs ${rtt === 150 ? 'the faster peer' : 'both peers (the faster shown)'} ${fmtSeconds(ref)} s → ${ratio.toFixed(1)}× (target ≥ ${factor}×): ${ratio >= factor ? 'MET' : 'NOT MET'}`,
    );
    const floor = res.floors.find((f) => f.workload === 'small' && f.rttMs === rtt);
    if (floor && rtt === 150) {
      const f = mi.ms / floor.floorMs;
      out.push(
        `- ${small.title} @ 150 ms: mail-ingest ${f.toFixed(2)}× the link floor of ${fmtSeconds(floor.floorMs)} s (target ≤ 3×): ${f <= 3 ? 'MET' : 'NOT MET'}`,
      );
    }
  }
  const large = res.workloads.find((w) => w.id === 'large');
  if (large) {
    for (const rtt of res.rtts) {
      const cell = cellFor(res, 'large', rtt, 'mail-ingest');
      const floorCell = cellFor(res, 'large', rtt, 'openssl');
      if (!cell || cell.unavailable || !okTimes(cell).length) {
        out.push(`- ${large.title} @ ${rtt} ms: not measured`);
        continue;
      }
      const rss = Math.max(...cell.runs.map((r) => r?.peakRssBytes ?? 0));
      out.push(
        `- ${large.title} @ ${rtt} ms: mail-ingest peak RSS ${fmtMb(rss)} MB (target < 150 MB): ${rss < 150 * 1048576 ? 'MET' : 'NOT MET'}`,
      );
      if (floorCell && okTimes(floorCell).length) {
        const r = pairedRatio(timesByRun(cell), timesByRun(floorCell));
        out.push(
          `- ${large.title} @ ${rtt} ms: mail-ingest ${r.toFixed(2)}× the raw openssl read (target ≤ 2×): ${r <= 2 ? 'MET' : 'NOT MET'}`,
        );
      }
    }
  }
  return out;
}

export function markdownReport(res: BenchResults, svgName: string): string {
  const m = res.machine;
  return [
    `# mail-ingest comparative benchmark${res.quick ? ' (quick run: reduced workloads)' : ''}`,
    '',
    `Run ${res.startedAt} on ${Object.entries(m)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}.`,
    ...(res.load
      ? [
          `Machine load (1-minute load average, ${res.load.cores} cores shared with other work): ${res.load.samples.map((x) => x.toFixed(1)).join(', ')} (sampled through the run; median ${median(res.load.samples).toFixed(1)}).`,
        ]
      : []),
    `${res.runs} runs per contender, alternating order; per-run time limit ${fmtSeconds(res.timeoutMs)} s. ` +
      'Time is wall clock from process start to exit; CPU is user + system time of the process tree (median); peak RSS is ru_maxrss from wait4 (largest single process of the run). ' +
      'Every run is checked message by message (sha256) against the mailbox; a run that loses or corrupts a message counts as FAILED, not timed. ' +
      'A contender that hits the time limit is run once and its time extrapolated from the share it delivered (est.). ' +
      '"speed × mpop" is mpop\'s time over the contender\'s, paired run by run: above 1 is faster than mpop.',
    '',
    markdownTable(res),
    '',
    '## Targets (issue 14: against mpop)',
    '',
    ...targetsVsMpop(res),
    '',
    '## Targets (issue 6: against fetchmail and getmail6)',
    '',
    ...targets(res),
    '',
    ...(res.notes.length ? ['## Notes', '', ...res.notes.map((n) => `- ${n}`), ''] : []),
    `![time against RTT](${svgName})`,
    '',
  ].join('\n');
}
