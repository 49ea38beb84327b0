export type RunStatus = 'ok' | 'failed' | 'timeout';

export interface RunResult {
  status: RunStatus;
  wallMs: number;
  peakRssBytes: number;
  /** User + system CPU of the process tree. */
  cpuMs: number;
  /** Messages found delivered (after a timeout: how far it got). */
  delivered: number;
  /** After a timeout: wall time extrapolated from the share delivered, when anything was. */
  estimatedMs?: number;
  detail?: string;
}

export interface Cell {
  workload: string;
  rttMs: number;
  contender: string;
  label: string;
  /** Indexed by run number; undefined where the run was skipped. */
  runs: Array<RunResult | undefined>;
  unavailable?: string;
  note?: string;
}

export interface WorkloadInfo {
  id: string;
  title: string;
  count: number;
  /** Bytes as served over POP3 (CRLF). */
  bytes: number;
}

/** Connection set-up round trips plus bytes over the link's bandwidth, per RTT (small workload). */
export interface LinkFloor {
  workload: string;
  rttMs: number;
  roundTrips: number;
  bandwidthBytesPerSec: number;
  floorMs: number;
}

export interface BenchResults {
  startedAt: string;
  quick: boolean;
  machine: Record<string, string>;
  runs: number;
  rtts: number[];
  timeoutMs: number;
  workloads: WorkloadInfo[];
  cells: Cell[];
  floors: LinkFloor[];
  notes: string[];
  /** The 1-minute load average sampled through the run: the machine is shared, and times depend on it. */
  load?: { cores: number; samples: number[] };
}
