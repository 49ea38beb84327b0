import { TicketIntake } from '../../lib/processors/tickets.ts';
import { integerEnv } from '../commons/env.ts';
import { createProcessorHandler } from '../commons/processor-handler.ts';

/** Days a reply may join a ticket by subject alone. @default 30 */
const SUBJECT_WINDOW_DAYS = integerEnv('TICKET_SUBJECT_WINDOW_DAYS', 30);

let intake: TicketIntake;

/**
 * Ticket intake: threads messages into ticket documents under OUTPUT_PREFIX/tickets/. Records run one after
 * another: replies in one batch often belong to the same ticket, and sequential writes avoid needless
 * conditional-write retries (concurrent invocations still race, and the ETag compare-and-set settles that).
 */
export const handler = createProcessorHandler({
  setup: (env) => {
    intake = new TicketIntake(env.output, { subjectWindowDays: SUBJECT_WINDOW_DAYS });
  },
  process: (doc) => intake.process(doc),
  sequential: true,
});
