// What a user may see. Internal roles see everything; a partner user sees only
// its own partner's records, or, when tied to a buying group, the group's and its
// members'. Another partner's record is answered with 404, exactly as a record
// that does not exist, so nothing tells a partner what others have.
import type { Database } from '../store/database.ts';
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

export function canSeeAgreement(
  scope: PartnerScope | undefined,
  agreement: { partner_id: string | null; buying_group: string | null },
): boolean {
  if (scope === undefined) return true;
  if (agreement.partner_id !== null) return scope.partners.includes(agreement.partner_id);
  return scope.group !== null && agreement.buying_group === scope.group;
}
