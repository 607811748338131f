// Amending an agreement that is approved or active: the amendment is a new
// version of its terms, in force from a date, that someone other than its author
// approves (or rejects) before it counts. Approval recalculates the agreement's
// accruals with each version in force on its own dates (versions.ts); earlier
// versions stay readable. A partner user signs off the terms of a version.
import { countCalculationInputChange, transactionRecalculating } from '../accruals/accruals.service.ts';
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError } from '../server/errors.ts';
import type { Problem } from '../shared/errors.ts';
import type { Database, Store } from '../store/database.ts';
import type { UserRole } from '../store/store.types.ts';
import type { Author } from '../users/users.service.ts';
import {
  agreementToJson,
  latestTerms,
  loadAgreements,
  type StoredAgreement,
} from './agreements.repository.ts';
import { parseAgreement } from './agreements.schema.ts';
import { agreementReferences, referenceProblems } from './agreements.service.ts';

/** Agreement statuses an amendment applies to; a draft is simply rewritten. */
const AMENDABLE = ['approved', 'active'];

export interface AmendmentInput {
  effectiveFrom: string;
  /** A new name, if it changes. */
  name?: string;
  /** A new end date, if it changes (an extension or an earlier end). */
  end?: string;
  /** The rules of the new version, whole, in the agreements' JSON format. */
  rules: unknown[];
  comment?: string;
}

export type Who = Author & { username: string; role: UserRole };

export interface VersionView {
  version: number;
  status: string;
  effectiveFrom: string;
  createdBy: string;
  /** Unknown for version 1 of an agreement that was never amended. */
  createdAt: string | null;
  comment: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionComment: string | null;
  terms: unknown;
}

async function lockedAgreement(trx: Database, agreementId: string): Promise<StoredAgreement> {
  const row = await trx
    .selectFrom('agreements')
    .select('id')
    .where('id', '=', agreementId)
    .forUpdate()
    .executeTakeFirst();
  const [stored] = row ? await loadAgreements(trx, [agreementId]) : [];
  if (!stored) throw new HttpError(404, 'not_found', `no agreement ${JSON.stringify(agreementId)}`);
  return stored;
}

/** Writes an amendment, submitted for approval. Returns its version number. */
export async function amendAgreement(
  store: Store,
  agreementId: string,
  input: AmendmentInput,
  who: Who,
): Promise<VersionView> {
  if (who.role !== 'admin' && who.role !== 'commercial')
    throw new HttpError(
      403,
      'forbidden',
      'amending agreements is for administrators and the commercial team',
    );
  return store.db.transaction().execute(async (trx) => {
    const stored = await lockedAgreement(trx, agreementId);
    if (!AMENDABLE.includes(stored.status))
      throw new HttpError(
        409,
        'not_amendable',
        `agreement ${agreementId} is ${stored.status}; only approved and active agreements are amended`,
      );
    const pending = await trx
      .selectFrom('agreement_versions')
      .select('version')
      .where('agreement_id', '=', agreementId)
      .where('status', '=', 'submitted')
      .executeTakeFirst();
    if (pending)
      throw new HttpError(
        409,
        'amendment_pending',
        `amendment ${pending.version} of agreement ${agreementId} waits for a decision; decide or cancel it first`,
      );
    const current = latestTerms(stored);
    const currentJson = agreementToJson(current, stored.status);
    const termsJson = {
      ...currentJson,
      name: input.name ?? current.name,
      period: { start: current.window.start, end: input.end ?? current.window.end },
      rules: input.rules,
    };
    const parsed = parseAgreement(termsJson);
    const problems: Problem[] = (
      parsed.ok
        ? referenceProblems(parsed.value.agreement, await agreementReferences(trx), '')
        : parsed.problems
    ).map((p) => ({ ...p, field: fieldOf(p.field) }));
    const end = input.end ?? current.window.end;
    if (input.effectiveFrom < current.window.start || input.effectiveFrom > end)
      problems.push({
        code: 'effective_date_outside_agreement',
        field: 'effectiveFrom',
        message: `the amendment takes effect between ${current.window.start} and ${end}`,
      });
    if (!parsed.ok || problems.length > 0)
      throw new HttpError(422, 'invalid_amendment', problems.map((p) => p.message).join('; '), problems);
    const terms = agreementToJson(parsed.value.agreement, stored.status);
    const latest = await trx
      .selectFrom('agreement_versions')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('agreement_id', '=', agreementId)
      .executeTakeFirst();
    if (latest?.version == null) {
      // The first amendment: version 1, the agreement as approved, is kept beside it.
      const head = await trx
        .selectFrom('agreements')
        .select('created_by')
        .where('id', '=', agreementId)
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('agreement_versions')
        .values({
          agreement_id: agreementId,
          version: 1,
          effective_from: current.window.start,
          status: 'approved',
          terms: JSON.stringify(currentJson),
          created_by: head.created_by ?? 'import',
          comment: null,
          decided_by: null,
          decided_at: null,
          decision_comment: null,
        })
        .execute();
    }
    const version = Number(latest?.version ?? 1) + 1;
    await trx
      .insertInto('agreement_versions')
      .values({
        agreement_id: agreementId,
        version,
        effective_from: input.effectiveFrom,
        status: 'submitted',
        terms: JSON.stringify(terms),
        created_by: who.username,
        comment: input.comment ?? null,
        decided_by: null,
        decided_at: null,
        decision_comment: null,
      })
      .execute();
    await appendAudit(trx, {
      actor: who.actor,
      action: 'agreement.amend',
      entity: 'agreement',
      entityId: agreementId,
      before: { version: version - 1, terms: currentJson },
      after: { version, effectiveFrom: input.effectiveFrom, terms },
      ...(input.comment ? { comment: input.comment } : {}),
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
    return (await readVersions(trx, agreementId)).find((v) => v.version === version)!;
  });
}

/** Errors from the terms name the amendment's own fields: rules[0].tiers, end, name. */
function fieldOf(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  const bare = field.replace(/^\./, '');
  return bare.startsWith('period') ? 'end' : bare;
}

export const AMENDMENT_DECISIONS = {
  approve: { to: 'approved', roles: ['admin', 'commercial', 'finance'] },
  reject: { to: 'rejected', roles: ['admin', 'commercial', 'finance'] },
  cancel: { to: 'cancelled', roles: ['admin', 'commercial'] },
} as const satisfies Record<string, { to: string; roles: readonly UserRole[] }>;

export type AmendmentAction = keyof typeof AMENDMENT_DECISIONS;

/** Approves, rejects or cancels a submitted amendment. Approval recalculates the agreement's accruals. */
export async function decideAmendment(
  store: Store,
  agreementId: string,
  version: number,
  action: AmendmentAction,
  who: Who,
  comment?: string,
): Promise<VersionView> {
  const decision = AMENDMENT_DECISIONS[action];
  if (!(decision.roles as readonly UserRole[]).includes(who.role))
    throw new HttpError(403, 'forbidden', `${action} is for ${decision.roles.join(', ')} users`);
  return transactionRecalculating(store, async (trx, recalculate) => {
    await lockedAgreement(trx, agreementId);
    const row = await trx
      .selectFrom('agreement_versions')
      .select(['status', 'created_by'])
      .where('agreement_id', '=', agreementId)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!row) throw new HttpError(404, 'not_found', `agreement ${agreementId} has no version ${version}`);
    if (row.status !== 'submitted')
      throw new HttpError(
        409,
        'invalid_transition',
        `version ${version} of agreement ${agreementId} is ${row.status}; only a submitted amendment is decided`,
      );
    if (action !== 'cancel' && row.created_by === who.username)
      throw new HttpError(
        403,
        'segregation_of_duties',
        `${who.username} wrote this amendment and may not ${action} it; another user must`,
      );
    await trx
      .updateTable('agreement_versions')
      .set({
        status: decision.to,
        decided_by: who.username,
        decided_at: new Date().toISOString(),
        decision_comment: comment ?? null,
      })
      .where('agreement_id', '=', agreementId)
      .where('version', '=', version)
      .execute();
    if (action === 'approve') {
      const [stored] = await loadAgreements(trx, [agreementId]);
      // The agreement's row shows the terms agreed last and the dates they now cover.
      await trx
        .updateTable('agreements')
        .set({ name: latestTerms(stored!).name, end_date: stored!.agreement.window.end })
        .where('id', '=', agreementId)
        .execute();
      await countCalculationInputChange(trx);
      await recalculate([agreementId]);
    }
    // After the accruals: every writer takes the accruals' lock before the audit trail's.
    await appendAudit(trx, {
      actor: who.actor,
      action: `agreement.amendment.${action}`,
      entity: 'agreement',
      entityId: agreementId,
      before: { version, status: 'submitted' },
      after: { version, status: decision.to },
      ...(comment ? { comment } : {}),
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
    return (await readVersions(trx, agreementId)).find((v) => v.version === version)!;
  });
}

/** Every version of an agreement, oldest first; one version (the agreement itself) until it is amended. */
export async function readVersions(db: Database, agreementId: string): Promise<VersionView[]> {
  const rows = await db
    .selectFrom('agreement_versions')
    .selectAll()
    .where('agreement_id', '=', agreementId)
    .orderBy('version')
    .execute();
  if (rows.length > 0)
    return rows.map((r) => ({
      version: r.version,
      status: r.status,
      effectiveFrom: r.effective_from,
      createdBy: r.created_by,
      createdAt: new Date(r.created_at).toISOString(),
      comment: r.comment,
      decidedBy: r.decided_by,
      decidedAt: r.decided_at === null ? null : new Date(r.decided_at).toISOString(),
      decisionComment: r.decision_comment,
      terms: r.terms,
    }));
  const [stored] = await loadAgreements(db, [agreementId]);
  if (!stored) return [];
  const head = await db
    .selectFrom('agreements')
    .select('created_by')
    .where('id', '=', agreementId)
    .executeTakeFirstOrThrow();
  const approval = await db
    .selectFrom('agreement_status_changes')
    .select(['changed_by', 'changed_at'])
    .where('agreement_id', '=', agreementId)
    .where('to_status', '=', 'approved')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return [
    {
      version: 1,
      status: stored.status,
      effectiveFrom: stored.agreement.window.start,
      createdBy: head.created_by ?? 'import',
      createdAt: null,
      comment: null,
      decidedBy: approval?.changed_by ?? null,
      decidedAt: approval ? new Date(approval.changed_at).toISOString() : null,
      decisionComment: null,
      terms: agreementToJson(stored.agreement, stored.status),
    },
  ];
}

/** The version a partner signs: the one agreed last. */
export async function signOff(
  store: Store,
  agreementId: string,
  who: Who,
  comment?: string,
): Promise<{ version: number; signedBy: string; signedAt: string }> {
  return store.db.transaction().execute(async (trx) => {
    const stored = await lockedAgreement(trx, agreementId);
    if (!AMENDABLE.includes(stored.status))
      throw new HttpError(
        409,
        'not_signable',
        `agreement ${agreementId} is ${stored.status}; terms are signed off once approved`,
      );
    const version = stored.versions?.at(-1)?.version ?? 1;
    const existing = await trx
      .selectFrom('agreement_sign_offs')
      .select('signed_at')
      .where('agreement_id', '=', agreementId)
      .where('version', '=', version)
      .where('signed_by', '=', who.username)
      .executeTakeFirst();
    if (existing)
      throw new HttpError(
        409,
        'already_signed_off',
        `${who.username} signed off version ${version} of agreement ${agreementId} on ${new Date(existing.signed_at).toISOString()}`,
      );
    const row = await trx
      .insertInto('agreement_sign_offs')
      .values({ agreement_id: agreementId, version, signed_by: who.username, comment: comment ?? null })
      .returning(['signed_at'])
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: who.actor,
      action: 'agreement.sign_off',
      entity: 'agreement',
      entityId: agreementId,
      after: { version, signedBy: who.username },
      ...(comment ? { comment } : {}),
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
    return { version, signedBy: who.username, signedAt: new Date(row.signed_at).toISOString() };
  });
}

export async function readSignOffs(db: Database, agreementId: string) {
  const rows = await db
    .selectFrom('agreement_sign_offs')
    .selectAll()
    .where('agreement_id', '=', agreementId)
    .orderBy('signed_at')
    .execute();
  return rows.map((r) => ({
    version: r.version,
    signedBy: r.signed_by,
    signedAt: new Date(r.signed_at).toISOString(),
    comment: r.comment,
  }));
}
