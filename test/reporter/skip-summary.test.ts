import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPORTER = path.join(import.meta.dirname, 'skip-summary.ts');
const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'skips.fixture.ts');

describe('the npm test reporter', () => {
  it("keeps node's closing lines and then lists every skipped suite and test with its reason", () => {
    // Without NODE_TEST_CONTEXT, which would make the inner runner report to this one instead of to its reporter.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--test', `--test-reporter=${REPORTER}`, '--test-reporter-destination=stdout', FIXTURE], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      env: { ...env, NO_COLOR: '1' },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // Node's own counts, as CI reads them: the skipped suite is not among `skipped`.
    for (const line of ['ℹ tests 3', 'ℹ pass 1', 'ℹ fail 0', 'ℹ skipped 2']) assert.match(r.stdout, new RegExp(`^${line}$`, 'm'));
    const summary = r.stdout.slice(r.stdout.lastIndexOf('ℹ duration_ms'));
    assert.match(summary, /skipped: 1 suite \(their tests did not run\) and 2 tests, and why:/);
    const fixture = path.join('test', 'reporter', 'fixtures', 'skips.fixture.ts');
    assert.match(summary, new RegExp(`needs root\\n    ${fixture.replaceAll('/', '\\/')} › needs root\\n    .* › decides at run time`));
    assert.match(summary, /peer X is not installed \(apt-get install x\)\n {4}.* › needs a peer that is not here \(suite\)/);
  });
});
