import { CallStatsGroup, type CallStatsQuery } from './call-store.js';
import { InvalidArgumentError } from './errors.js';

const PERIODS = [CallStatsGroup.MINUTE, CallStatsGroup.HOUR, CallStatsGroup.DAY] as const;
const DAY_MS = 86_400_000;
/** The longest range per period, so that no query builds more than a few thousand periods. */
const MAX_RANGE_MS: Record<(typeof PERIODS)[number] | 'none', number> = {
  [CallStatsGroup.MINUTE]: DAY_MS,
  [CallStatsGroup.HOUR]: 31 * DAY_MS,
  [CallStatsGroup.DAY]: 366 * DAY_MS,
  none: 366 * DAY_MS,
};
/** More groups than this is a query to narrow, not a chart. */
export const MAX_STATS_GROUPS = 2_000;

/** Refuses a range or grouping whose answer would be unbounded; the groups, deduplicated. */
export function checkStatsQuery(query: CallStatsQuery): CallStatsGroup[] {
  const groups = [...new Set(query.groupBy)];
  const periods = groups.filter((group) => (PERIODS as readonly CallStatsGroup[]).includes(group));
  if (periods.length > 1) throw new InvalidArgumentError('groupBy', '"groupBy" takes one period at most (MINUTE, HOUR or DAY)');
  const span = query.to.getTime() - query.from.getTime();
  if (!(span > 0)) throw new InvalidArgumentError('to', '"to" must be after "from"');
  const period = (periods[0] as (typeof PERIODS)[number] | undefined) ?? 'none';
  const max = MAX_RANGE_MS[period];
  if (span > max) {
    throw new InvalidArgumentError(
      'to',
      `"from" to "to" spans at most ${max / DAY_MS} day${max === DAY_MS ? '' : 's'}${period === 'none' ? '' : ` when grouped by ${period.toUpperCase()}`}`,
    );
  }
  return groups;
}
