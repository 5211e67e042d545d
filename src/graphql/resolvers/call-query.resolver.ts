import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { Call } from '../../domain/call.js';
import { keyOf } from '../../domain/call-service.js';
import { encodeCallCursor, encodeLogCursor } from '../../domain/cursor.js';
import { CallOrderField } from '../../domain/call-store.js';
import type { CallFilter } from '../../domain/call-store.js';
import type { GatewayContext } from '../context.js';
import { CallConnectionObject, CallObject } from '../types/call.type.js';
import { NodeInterface } from '../types/node.interface.js';
import { CallFilterInput, CallOrderInput } from '../inputs/call-filter.input.js';
import { toConnection, type ConnectionPage } from '../types/connection.js';
import { CallStatsObject } from '../types/call-stats.type.js';
import { DateTimeScalar } from '../types/scalars.js';
import { CallStatsGroup, type CallStats } from '../../domain/call-store.js';
import { heavyRead } from '../errors.js';

/** What a CallConnection resolves from: the page, plus the filter for a lazy totalCount. */
type CallConnectionSource = ConnectionPage<Call> & { filter: CallFilter | null };

@Resolver(() => CallConnectionObject)
export class CallQueryResolver {
  @Query(() => CallObject, { nullable: true, description: 'A call by id; null when not found or not visible to this key.' })
  async call(@Arg('id', () => ID, { description: 'The call id.' }) id: string, @Ctx() ctx: GatewayContext): Promise<Call | null> {
    return ctx.calls.get(id);
  }

  @Query(() => CallStatsObject, {
    description:
      'Figures for live dashboards over the calls created from `from` to `to` that match `filter`: counts, answer rate, mean and p95 duration, per group and in total, ' +
      'computed by PostgreSQL in one scan of the (app, mode, createdAt) index. A range of at most 1 day by MINUTE, 31 by HOUR, 366 otherwise; at most 2,000 groups.',
  })
  async callStats(
    @Ctx() ctx: GatewayContext,
    @Arg('from', () => DateTimeScalar, { description: 'Calls created at or after this time.' }) from: Date,
    @Arg('to', () => DateTimeScalar, { description: 'Calls created before this time.' }) to: Date,
    @Arg('filter', () => CallFilterInput, { nullable: true, description: 'Only calls matching all of these, as in `calls`.' }) filter?: CallFilterInput | null,
    @Arg('groupBy', () => [CallStatsGroup], { nullable: true, description: 'Group by these (none: the total only).' }) groupBy?: CallStatsGroup[] | null,
  ): Promise<Omit<CallStats, 'asOf'> & { asOf: string | null; countedAfterAsOf: string[] | null }> {
    const stats = await heavyRead(ctx.calls.stats({ filter, groupBy, from, to }));
    return {
      ...stats,
      asOf: stats.asOf ? encodeLogCursor(stats.asOf.position) : null,
      countedAfterAsOf: stats.asOf ? stats.asOf.countedAfter : null,
    };
  }

  @Query(() => NodeInterface, { nullable: true, description: 'Any object by its global id; null when not found or not visible to this key.' })
  async node(@Arg('id', () => ID, { description: 'A global id, e.g. a call id.' }) id: string, @Ctx() ctx: GatewayContext): Promise<Call | null> {
    return ctx.calls.get(id);
  }

  @Query(() => CallConnectionObject, {
    description: "Calls of this key's application and mode, newest first by default; 20 per page unless first or last says otherwise (at most 100).",
  })
  async calls(
    @Ctx() ctx: GatewayContext,
    @Arg('filter', () => CallFilterInput, { nullable: true, description: 'Only calls matching all of these.' }) filter?: CallFilterInput | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size from the start (0 to 100; default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor: return items after this one.' }) after?: string | null,
    @Arg('last', () => Int, { nullable: true, description: 'Page size from the end (0 to 100).' }) last?: number | null,
    @Arg('before', () => String, { nullable: true, description: 'Cursor: return items before this one.' }) before?: string | null,
    @Arg('orderBy', () => CallOrderInput, {
      nullable: true,
      description: 'Default: CREATED_AT DESC (newest first). STARTED_AT, ENDED_AT and DURATION list only the calls that have the field.',
    })
    orderBy?: CallOrderInput | null,
  ): Promise<CallConnectionSource> {
    const field = orderBy?.field ?? CallOrderField.CREATED_AT;
    const page = await ctx.calls.list({ filter, first, last, after, before, direction: orderBy?.direction ?? 'DESC', orderBy: field });
    // Object.assign, not a spread: a spread would build the lazy edges.
    return Object.assign(
      toConnection(page.calls, (call) => encodeCallCursor(keyOf(call, field)), page),
      { filter: filter ?? null },
    );
  }

  @FieldResolver(() => Int, { description: 'Number of calls matching the filter (all pages); computed only when selected.' })
  async totalCount(@Root() connection: CallConnectionSource, @Ctx() ctx: GatewayContext): Promise<number> {
    return heavyRead(ctx.calls.count(connection.filter));
  }
}
