/**
 * Runs the pipeline once and kills its own process with SIGKILL at a chosen step: no finally blocks, no flush, no
 * QUIT, exactly what a Lambda timeout or an OOM kill does. Used by kill-at-every-step.test.ts.
 * argv: <job JSON> <store dir> <fault point> <nth call>
 */
import type { FaultPoint, MailboxJob } from '../../lib/ingest/pipeline-types.ts';
import { runInto } from './e2e-helpers.ts';

const [jobJson = '', dir = '', point, nth] = process.argv.slice(2);
const job = JSON.parse(jobJson) as MailboxJob;
let calls = 0;
const summary = await runInto(dir, job, {
  checkpointEvery: 2,
  faults: {
    [point as FaultPoint]: () => {
      if (++calls === Number(nth)) process.kill(process.pid, 'SIGKILL');
    },
  },
});
process.stdout.write(JSON.stringify(summary));
