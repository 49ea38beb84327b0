import { writeIndexRow } from '../../lib/processors/archive-index.ts';
import { createProcessorHandler } from '../commons/processor-handler.ts';

/**
 * Archive index: one JSON line per message under OUTPUT_PREFIX/index/dt=YYYY-MM-DD/, the layout the Athena table
 * in lib/processors/archive-index-table.sql reads with partition projection.
 */
export const handler = createProcessorHandler({
  process: async (doc, env) => ({ action: 'indexed', ...(await writeIndexRow(doc, env.output)) }),
});
