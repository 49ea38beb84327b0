// Preloaded into a measured process (node --import): writes its own peak RSS (VmHWM) to the file named by
// MAIL_INGEST_HWM_FILE at exit. Not getrusage's ru_maxrss, which Linux carries over from the parent across fork and
// execve (a benchmark holding a 200 MB message would make its children "start" at 200 MB).
import { readFileSync, writeFileSync } from 'node:fs';

process.on('exit', () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m && process.env.MAIL_INGEST_HWM_FILE) writeFileSync(process.env.MAIL_INGEST_HWM_FILE, String(Number(m[1]) * 1024));
});
