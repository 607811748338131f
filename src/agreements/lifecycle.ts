// The agreement lifecycle: draft → submitted → approved → active → expired (after
// its last day) or closed, with rejected and cancelled on the way. Approving or rejecting is a
// decision someone other than the author makes (segregation of duties, enforced
// here, on the server). Each change of status is one transaction: the status,
// its audit entry, and the accruals — an agreement starts accruing once it is
// approved and stops when it is cancelled.
import { transactionRecalculating } from '../accruals/accruals.service.ts';
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError } from '../server/errors.ts';
import type { Store } from '../store/database.ts';
import type { UserRole } from '../store/store.types.ts';
import type { Author } from '../users/users.service.ts';
import type { AgreementStatus } from './agreements.schema.ts';

export const TRANSITIONS = {
  submit: { from: ['draft'], to: 'submitted', roles: ['admin', 'commercial', 'sales'] },
  approve: { from: ['submitted'], to: 'approved', roles: ['admin', 'commercial', 'finance'] },
  reject: { from: ['submitted'], to: 'rejected', roles: ['admin', 'commercial', 'finance'] },
  activate: { from: ['approved'], to: 'active', roles: ['admin', 'commercial', 'finance'] },
  cancel: { from: ['draft', 'submitted', 'approved'], to: 'cancelled', roles: ['admin', 'commercial'] },
  expire: { from: ['active'], to: 'expired', roles: ['admin', 'finance'] },
  close: { from: ['active', 'expired'], to: 'closed', roles: ['admin', 'finance'] },
} as const satisfies Record<
  string,
  { from: readonly AgreementStatus[]; to: AgreementStatus; roles: readonly UserRole[] }
>;

export type TransitionAction = keyof typeof TRANSITIONS;

/** Decisions the author of an agreement may not take on it. */
const DECISIONS: readonly TransitionAction[] = ['approve', 'reject'];

export async function changeStatus(
  store: Store,
  agreementId: string,
  action: TransitionAction,
  who: Author & { username: string; role: UserRole },
  comment?: string,
): Promise<AgreementStatus> {
  const transition = TRANSITIONS[action];
  if (!(transition.roles as readonly UserRole[]).includes(who.role))
    throw new HttpError(403, 'forbidden', `${action} is for ${transition.roles.join(', ')} users`);
  return transactionRecalculating(store, async (trx, recalculate) => {
    // Locked: two decisions on one agreement cannot both start from the same status.
    const row = await trx
      .selectFrom('agreements')
      .select(['status', 'created_by', 'end_date'])
      .where('id', '=', agreementId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new HttpError(404, 'not_found', `no agreement ${JSON.stringify(agreementId)}`);
    const from = row.status as AgreementStatus;
    if (!(transition.from as readonly string[]).includes(from))
      throw new HttpError(
        409,
        'invalid_transition',
        `agreement ${agreementId} is ${from}; ${action} applies to ${transition.from.join(' or ')} agreements`,
      );
    // An agreement expires once its last day has passed: it still settles, and is then closed.
    const today = new Date().toISOString().slice(0, 10);
    if (action === 'expire' && row.end_date >= today)
      throw new HttpError(
        409,
        'not_ended',
        `agreement ${agreementId} runs until ${row.end_date}; it expires after that day`,
      );
    if (DECISIONS.includes(action) && row.created_by === who.username)
      throw new HttpError(
        403,
        'segregation_of_duties',
        `${who.username} wrote agreement ${agreementId} and may not ${action} it; another user must`,
      );
    await trx
      .updateTable('agreements')
      .set({ status: transition.to })
      .where('id', '=', agreementId)
      .execute();
    await trx
      .insertInto('agreement_status_changes')
      .values({
        agreement_id: agreementId,
        from_status: from,
        to_status: transition.to,
        changed_by: who.username,
        comment: comment ?? null,
      })
      .execute();
    // Accrues once approved; a cancelled or rejected agreement keeps no totals.
    await recalculate([agreementId]);
    // After the accruals: every writer takes the accruals' lock before the audit trail's.
    await appendAudit(trx, {
      actor: who.actor,
      action: `agreement.${action}`,
      entity: 'agreement',
      entityId: agreementId,
      before: { status: from },
      after: { status: transition.to },
      ...(comment ? { comment } : {}),
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
    return transition.to;
  });
}
