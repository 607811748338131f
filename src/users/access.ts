// What a user may see. Internal roles see everything; a partner user sees only
// its own partner's records, or, when tied to a buying group, the group's and its
// members'. Another partner's record is answered with 404, exactly as a record
// that does not exist, so nothing tells a partner what others have.
import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../store/database.ts';
import type { StoreSchema } from '../store/store.types.ts';
import type { User } from './users.service.ts';

export interface PartnerScope {
  /** The partners whose own records are visible. */
  partners: string[];
  /** The buying group whose group records are visible (group users only). */
  group: string | null;
}

/** undefined: the user sees every partner's records. */
export async function partnerScope(db: Database, user: User): Promise<PartnerScope | undefined> {
  if (user.role !== 'partner') return undefined;
  if (user.partnerId !== null) return { partners: [user.partnerId], group: null };
  const members = await db
    .selectFrom('partners')
    .select('id')
    .where('buying_group', '=', user.buyingGroup ?? '')
    .orderBy('id')
    .execute();
  return { partners: members.map((m) => m.id), group: user.buyingGroup };
}

/**
 * The agreements a scope may see, as a condition on the agreements table: its
 * partners' own agreements and, for a group user, the group's. Every list and
 * every read by id of agreements (and of what hangs on them) uses it.
 */
export function visibleAgreements(scope: PartnerScope | undefined) {
  return (eb: ExpressionBuilder<StoreSchema, 'agreements'>) =>
    scope === undefined
      ? eb.lit(true)
      : eb.or([
          ...(scope.partners.length > 0 ? [eb('agreements.partner_id', 'in', scope.partners)] : []),
          ...(scope.group !== null ? [eb('agreements.buying_group', '=', scope.group)] : []),
          eb.lit(false),
        ]);
}
