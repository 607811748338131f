// Rewriting a draft: until it is submitted an agreement is the commercial team's
// working copy, replaced whole; a rejected agreement is rewritten the same way
// and becomes a draft again. Approved and active agreements change only through
// amendments (amendments.ts).
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError } from '../server/errors.ts';
import type { Store } from '../store/database.ts';
import { agreementToJson, headRow, loadAgreements, ruleRows, tierRows } from './agreements.repository.ts';
import { parseAgreement } from './agreements.schema.ts';
import { agreementReferences, referenceProblems } from './agreements.service.ts';
import type { Who } from './amendments.ts';

const EDITABLE = ['draft', 'rejected'];

/** Replaces the terms of a draft (or rejected) agreement; returns them as stored. */
export async function rewriteDraft(
  store: Store,
  id: string,
  body: Record<string, unknown>,
  who: Who,
): Promise<Record<string, unknown>> {
  if (who.role !== 'admin' && who.role !== 'commercial')
    throw new HttpError(403, 'forbidden', 'writing agreements is for administrators and the commercial team');
  if (body.id !== undefined && body.id !== id)
    throw new HttpError(
      400,
      'invalid_request',
      `id: the body names ${JSON.stringify(body.id)}, the path ${id}`,
      [{ field: 'id', code: 'id_mismatch', message: 'the id cannot change' }],
    );
  if (body.status !== undefined && body.status !== 'draft')
    throw new HttpError(400, 'invalid_request', 'status: a rewritten agreement is a draft; submit it next', [
      { field: 'status', code: 'invalid_field', message: 'a rewritten agreement is a draft' },
    ]);
  return store.db.transaction().execute(async (trx) => {
    const head = await trx
      .selectFrom('agreements')
      .select(['status', 'import_id', 'created_by'])
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!head) throw new HttpError(404, 'not_found', `no agreement ${JSON.stringify(id)}`);
    if (!EDITABLE.includes(head.status))
      throw new HttpError(
        409,
        'not_editable',
        `agreement ${id} is ${head.status}; ${head.status === 'submitted' ? 'it waits for a decision' : 'it changes through an amendment'}`,
      );
    const parsed = parseAgreement({ ...body, id, status: 'draft' });
    const problems = parsed.ok
      ? referenceProblems(parsed.value.agreement, await agreementReferences(trx), '')
      : parsed.problems;
    if (!parsed.ok || problems.length > 0)
      throw new HttpError(
        422,
        'invalid_agreement',
        problems.map((p) => p.message).join('; '),
        problems.map((p) => ({ ...p, ...(p.field ? { field: p.field.replace(/^\./, '') } : {}) })),
      );
    const [before] = await loadAgreements(trx, [id]);
    await trx.deleteFrom('rule_tiers').where('agreement_id', '=', id).execute();
    await trx.deleteFrom('agreement_rules').where('agreement_id', '=', id).execute();
    const { id: _, ...row } = headRow(parsed.value, head.import_id, head.created_by);
    await trx.updateTable('agreements').set(row).where('id', '=', id).execute();
    await trx.insertInto('agreement_rules').values(ruleRows(parsed.value.agreement)).execute();
    await trx.insertInto('rule_tiers').values(tierRows(parsed.value.agreement)).execute();
    if (head.status !== 'draft')
      await trx
        .insertInto('agreement_status_changes')
        .values({
          agreement_id: id,
          from_status: head.status,
          to_status: 'draft',
          changed_by: who.username,
          comment: null,
        })
        .execute();
    const after = agreementToJson(parsed.value.agreement, 'draft');
    await appendAudit(trx, {
      actor: who.actor,
      action: 'agreement.update',
      entity: 'agreement',
      entityId: id,
      before: agreementToJson(before!.agreement, before!.status),
      after,
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
    return after;
  });
}
