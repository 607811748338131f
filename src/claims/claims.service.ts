// Claims and customer deductions. A claim asks for what a partner believes it
// earned for an agreement's rule and period; it is validated at once against
// what is due (earned, less what is paid, less what other claims and open
// settlements already hold), with a tolerance. A deduction — a partner short-pays
// an invoice citing a rebate — is matched to a rule and period with enough due,
// or becomes a dispute. Disputes carry comments and a resolution. An approved
// claim is paid through one settlement (settlement-workflow.ts), never two.
import { type Selectable, sql } from 'kysely';
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError } from '../server/errors.ts';
import { settle } from '../settlements/settlement.service.ts';
import {
  type PayoutMethod,
  prepareSettlement,
  type SettlementView,
} from '../settlements/settlement-workflow.ts';
import { minorUnitsOf } from '../shared/currency.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Database, Store } from '../store/database.ts';
import type { ClaimsTable, UserRole } from '../store/store.types.ts';
import type { Author } from '../users/users.service.ts';
import { claimTolerance, validateClaim } from './claim-validation.ts';

const FINANCE: readonly UserRole[] = ['admin', 'finance'];
/** Serialises claims: what one claim holds of what is due, the next one sees. */
const CLAIMS_LOCK = 'claims';

export type Who = Author & { username: string; role: UserRole; partnerId: string | null };

export interface ClaimInput {
  agreementId: string;
  /** Needed when the agreement has more than one rule. */
  ruleId?: string;
  periodStart: string;
  reference: string;
  claimed: string;
  /** For claims entered by internal users on a partner's behalf (default: who is paid). */
  partnerId?: string;
}

export interface DeductionInput {
  partnerId: string;
  invoiceNumber: string;
  amount: string;
  currency: string;
  /** Where the partner said the deduction belongs, when it said. */
  agreementId?: string;
  ruleId?: string;
  periodStart?: string;
}

export interface RulePeriodDue {
  agreementId: string;
  ruleId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  partner: string;
  earned: Decimal;
  due: Decimal;
}

type ClaimRow = Selectable<ClaimsTable>;

export interface ClaimView {
  id: string;
  source: 'claim' | 'deduction';
  agreementId: string | null;
  ruleId: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  partnerId: string;
  reference: string;
  invoiceNumber: string | null;
  currency: string;
  claimed: string;
  due: string;
  tolerance: string;
  approved: string;
  difference: string;
  status: string;
  reasonCode: string;
  resolution: string | null;
  resolvedBy: string | null;
  submittedBy: string;
  submittedAt: string;
  settlement: { id: string; status: string; documentNumber: string | null } | null;
}

const keyOf = (agreementId: string, ruleId: string, start: string) =>
  `${agreementId}\u0000${ruleId}\u0000${start}`;

/**
 * What is due per rule and period of these agreements as of a day: earned, less
 * posted settlements, less what approved claims and open settlements hold.
 */
export async function duesOf(
  db: Database,
  agreementIds: readonly string[],
  asOf: string,
): Promise<RulePeriodDue[]> {
  if (agreementIds.length === 0) return [];
  const run = await settle(db, { agreementIds, asOf });
  const held = await sql<{ agreement_id: string; rule_id: string; period_start: string; amount: string }>`
    SELECT agreement_id, rule_id, period_start::text, sum(amount)::text AS amount FROM (
      SELECT agreement_id, rule_id, period_start, amount FROM settlements
      WHERE status IN ('posted', 'draft', 'approved') AND agreement_id = ANY(${[...agreementIds]})
      UNION ALL
      SELECT c.agreement_id, c.rule_id, c.period_start, c.approved FROM claims c
      WHERE c.status IN ('approved', 'partially_approved') AND c.agreement_id = ANY(${[...agreementIds]})
        AND NOT EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.id AND s.status <> 'cancelled')
    ) AS held
    GROUP BY agreement_id, rule_id, period_start`.execute(db);
  const heldBy = new Map(
    held.rows.map((r) => [keyOf(r.agreement_id, r.rule_id, r.period_start), Decimal.parse(r.amount)]),
  );
  const payee = new Map(
    run.agreements.map((a) => [a.agreement.id, a.agreement.beneficiary ?? a.agreement.partner ?? '']),
  );
  return run.results.map((r) => ({
    agreementId: r.agreementId,
    ruleId: r.ruleId,
    periodStart: r.period.start,
    periodEnd: r.period.end,
    currency: r.currency,
    partner: payee.get(r.agreementId) ?? '',
    earned: r.rebate,
    due: r.rebate.sub(heldBy.get(keyOf(r.agreementId, r.ruleId, r.period.start)) ?? Decimal.ZERO),
  }));
}

async function tolerances(db: Database): Promise<{ absolute: Decimal; percent: Decimal }> {
  const row = await db.selectFrom('claim_settings').selectAll().executeTakeFirstOrThrow();
  return { absolute: Decimal.parse(row.tolerance_absolute), percent: Decimal.parse(row.tolerance_percent) };
}

function parseAmount(text: string, field: string): Decimal {
  const value = Decimal.tryParse(text.trim());
  if (value === undefined || value.sign() <= 0 || value.significantScale() > 4)
    throw new HttpError(422, 'invalid_claim', `${field}: a positive amount`, [
      { field, code: 'invalid_amount', message: 'a positive amount, e.g. "125.50"' },
    ]);
  return value;
}

async function lockClaims(db: Database): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${CLAIMS_LOCK}))`.execute(db);
}

async function findDuplicate(
  db: Database,
  partnerId: string,
  source: 'claim' | 'deduction',
  reference: string,
): Promise<void> {
  const existing = await db
    .selectFrom('claims')
    .select(['id', 'status'])
    .where('partner_id', '=', partnerId)
    .where('source', '=', source)
    .where('reference', '=', reference)
    .executeTakeFirst();
  if (existing)
    throw new HttpError(
      409,
      'duplicate_claim',
      `${partnerId} sent ${source === 'claim' ? 'claim' : 'invoice'} ${reference} already: claim ${existing.id} (${existing.status})`,
      [
        {
          field: source === 'claim' ? 'reference' : 'invoiceNumber',
          code: 'duplicate_claim',
          message: `claim ${existing.id}`,
        },
      ],
    );
}

/** Submits a claim and validates it at once. */
export async function submitClaim(store: Store, input: ClaimInput, who: Who): Promise<ClaimView> {
  const claimed = parseAmount(input.claimed, 'claimed');
  const today = new Date().toISOString().slice(0, 10);
  const id = await store.db.transaction().execute(async (trx) => {
    await lockClaims(trx);
    const dues = (await duesOf(trx, [input.agreementId], today)).filter(
      (d) => d.periodStart === input.periodStart,
    );
    const rules = [...new Set(dues.map((d) => d.ruleId))];
    if (dues.length === 0)
      throw new HttpError(
        422,
        'invalid_claim',
        `agreement ${input.agreementId} has no period starting ${input.periodStart} that is settled`,
        [
          {
            field: 'periodStart',
            code: 'unknown_period',
            message: 'no such period of an approved or active agreement',
          },
        ],
      );
    const ruleId = input.ruleId ?? (rules.length === 1 ? rules[0] : undefined);
    const target = dues.find((d) => d.ruleId === ruleId);
    if (!target)
      throw new HttpError(422, 'invalid_claim', `rule: one of ${rules.join(', ')}`, [
        { field: 'rule', code: 'unknown_rule', message: `the agreement's rules: ${rules.join(', ')}` },
      ]);
    const partnerId =
      who.role === 'partner' ? (who.partnerId ?? target.partner) : (input.partnerId ?? target.partner);
    await findDuplicate(trx, partnerId, 'claim', input.reference);
    // The same amount for the same rule and period, not rejected, is the same claim sent again.
    const same = await trx
      .selectFrom('claims')
      .select('id')
      .where('agreement_id', '=', target.agreementId)
      .where('rule_id', '=', target.ruleId)
      .where('period_start', '=', target.periodStart)
      .where('claimed', '=', claimed.toString())
      .where('status', '<>', 'rejected')
      .executeTakeFirst();
    if (same)
      throw new HttpError(
        409,
        'duplicate_claim',
        `claim ${same.id} asks for the same ${claimed} for this rule and period`,
        [{ field: 'claimed', code: 'duplicate_claim', message: `claim ${same.id}` }],
      );
    return writeClaim(trx, 'claim', target, partnerId, input.reference, null, claimed, who);
  });
  return (await readClaim(store.db, id))!;
}

async function writeClaim(
  trx: Database,
  source: 'claim' | 'deduction',
  target: RulePeriodDue,
  partnerId: string,
  reference: string,
  invoiceNumber: string | null,
  claimed: Decimal,
  who: Who,
): Promise<string> {
  const { absolute, percent } = await tolerances(trx);
  const tolerance = claimTolerance(target.due, absolute, percent, minorUnitsOf(target.currency));
  const outcome = validateClaim(claimed, target.due, tolerance);
  const row = await trx
    .insertInto('claims')
    .values({
      source,
      agreement_id: target.agreementId,
      rule_id: target.ruleId,
      period_start: target.periodStart,
      period_end: target.periodEnd,
      partner_id: partnerId,
      reference,
      invoice_number: invoiceNumber,
      currency: target.currency,
      claimed: claimed.toString(),
      submitted_by: who.username,
      status: outcome.status,
      due: target.due.toString(),
      tolerance: tolerance.toString(),
      approved: outcome.approved.toString(),
      reason_code: outcome.reasonCode,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(trx, {
    actor: who.actor,
    action: `${source}.submit`,
    entity: 'claim',
    entityId: String(row.id),
    after: {
      ...target,
      earned: target.earned.toString(),
      due: target.due.toString(),
      claimed: claimed.toString(),
      ...outcome,
      approved: outcome.approved.toString(),
    },
    ...(who.requestId ? { requestId: who.requestId } : {}),
  });
  return String(row.id);
}

/**
 * Records a deduction: matched to the rule and period named, or else to the
 * partner's latest rule-period with enough due; with none, a dispute.
 */
export async function recordDeduction(store: Store, input: DeductionInput, who: Who): Promise<ClaimView> {
  if (!FINANCE.includes(who.role))
    throw new HttpError(403, 'forbidden', 'deductions are recorded by finance');
  const amount = parseAmount(input.amount, 'amount');
  const today = new Date().toISOString().slice(0, 10);
  const id = await store.db.transaction().execute(async (trx) => {
    await lockClaims(trx);
    const partner = await trx
      .selectFrom('partners')
      .select('id')
      .where('id', '=', input.partnerId)
      .executeTakeFirst();
    if (!partner)
      throw new HttpError(422, 'invalid_deduction', `no partner ${input.partnerId}`, [
        { field: 'partner', code: 'unknown_partner', message: 'not in the store' },
      ]);
    await findDuplicate(trx, input.partnerId, 'deduction', input.invoiceNumber);
    const agreements = input.agreementId
      ? [input.agreementId]
      : (
          await trx
            .selectFrom('agreements')
            .select('id')
            .where((eb) =>
              eb.or([eb('partner_id', '=', input.partnerId), eb('beneficiary_id', '=', input.partnerId)]),
            )
            .execute()
        ).map((a) => a.id);
    const candidates = (await duesOf(trx, agreements, today))
      .filter(
        (d) =>
          d.currency === input.currency &&
          d.partner === input.partnerId &&
          (input.ruleId === undefined || d.ruleId === input.ruleId) &&
          (input.periodStart === undefined || d.periodStart === input.periodStart) &&
          d.due.gte(amount),
      )
      // The latest period first: a deduction is usually taken for what was just earned.
      .sort((a, b) => (a.periodEnd < b.periodEnd ? 1 : a.periodEnd > b.periodEnd ? -1 : 0));
    const match = candidates[0];
    if (match)
      return writeClaim(
        trx,
        'deduction',
        match,
        input.partnerId,
        input.invoiceNumber,
        input.invoiceNumber,
        amount,
        who,
      );
    const row = await trx
      .insertInto('claims')
      .values({
        source: 'deduction',
        agreement_id: input.agreementId ?? null,
        rule_id: null,
        period_start: null,
        period_end: null,
        partner_id: input.partnerId,
        reference: input.invoiceNumber,
        invoice_number: input.invoiceNumber,
        currency: input.currency,
        claimed: amount.toString(),
        submitted_by: who.username,
        status: 'disputed',
        due: '0',
        tolerance: '0',
        approved: '0',
        reason_code: 'unmatched_deduction',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: who.actor,
      action: 'deduction.submit',
      entity: 'claim',
      entityId: String(row.id),
      after: { ...input, status: 'disputed', reasonCode: 'unmatched_deduction' },
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
    return String(row.id);
  });
  return (await readClaim(store.db, id))!;
}

async function lockedClaim(trx: Database, id: string) {
  const row = await trx.selectFrom('claims').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new HttpError(404, 'not_found', `no claim ${JSON.stringify(id)}`);
  return row;
}

/** The partner (or finance) disputes the outcome; the claim waits for a resolution. */
export async function disputeClaim(
  store: Store,
  id: string,
  reasonCode: string,
  comment: string,
  who: Who,
): Promise<ClaimView> {
  if (who.role !== 'partner' && !FINANCE.includes(who.role))
    throw new HttpError(403, 'forbidden', 'a claim is disputed by its partner or by finance');
  await store.db.transaction().execute(async (trx) => {
    const row = await lockedClaim(trx, id);
    if (!['partially_approved', 'rejected'].includes(row.status))
      throw new HttpError(
        409,
        'invalid_transition',
        `claim ${id} is ${row.status}; a partially approved or rejected claim is disputed`,
      );
    const settled = await trx
      .selectFrom('settlements')
      .select('id')
      .where('claim_id', '=', id)
      .where('status', '<>', 'cancelled')
      .executeTakeFirst();
    if (settled)
      throw new HttpError(409, 'invalid_transition', `claim ${id} is being paid by settlement ${settled.id}`);
    await trx
      .updateTable('claims')
      .set({ status: 'disputed', reason_code: reasonCode })
      .where('id', '=', id)
      .execute();
    await trx
      .insertInto('claim_comments')
      .values({ claim_id: id, author: who.username, text: comment })
      .execute();
    await appendAudit(trx, {
      actor: who.actor,
      action: 'claim.dispute',
      entity: 'claim',
      entityId: id,
      before: { status: row.status },
      after: { status: 'disputed', reasonCode },
      comment,
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
  });
  return (await readClaim(store.db, id))!;
}

export async function commentOnClaim(store: Store, id: string, text: string, who: Who): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    await lockedClaim(trx, id);
    await trx.insertInto('claim_comments').values({ claim_id: id, author: who.username, text }).execute();
  });
}

export type Resolution = 'uphold' | 'accept' | 'reject';

/**
 * Finance resolves a dispute: `uphold` the calculation (pay what was due),
 * `accept` the partner's amount, or `reject` the claim.
 */
export async function resolveClaim(
  store: Store,
  id: string,
  resolution: Resolution,
  comment: string,
  who: Who,
): Promise<ClaimView> {
  if (!FINANCE.includes(who.role)) throw new HttpError(403, 'forbidden', 'disputes are resolved by finance');
  await store.db.transaction().execute(async (trx) => {
    await lockClaims(trx);
    const row = await lockedClaim(trx, id);
    if (row.status !== 'disputed')
      throw new HttpError(
        409,
        'invalid_transition',
        `claim ${id} is ${row.status}; only a disputed claim is resolved`,
      );
    if (row.agreement_id === null && resolution !== 'reject')
      throw new HttpError(
        409,
        'unmatched',
        `claim ${id} is a deduction no accrual covers: reject it, or record it again naming the agreement`,
      );
    const status =
      resolution === 'reject' ? 'rejected' : resolution === 'accept' ? 'approved' : 'partially_approved';
    const approved = resolution === 'reject' ? '0' : resolution === 'accept' ? row.claimed : row.due;
    await trx
      .updateTable('claims')
      .set({ status, approved, resolution, resolved_by: who.username, resolved_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
    await trx
      .insertInto('claim_comments')
      .values({ claim_id: id, author: who.username, text: comment })
      .execute();
    await appendAudit(trx, {
      actor: who.actor,
      action: 'claim.resolve',
      entity: 'claim',
      entityId: id,
      before: { status: row.status, approved: row.approved },
      after: { status, approved, resolution },
      comment,
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
  });
  return (await readClaim(store.db, id))!;
}

/** Pays an approved claim through one interim settlement (a draft, approved and posted as any other). */
export async function settleClaim(
  store: Store,
  id: string,
  payoutMethod: PayoutMethod,
  who: Who,
): Promise<SettlementView> {
  const claim = await readClaim(store.db, id);
  if (!claim) throw new HttpError(404, 'not_found', `no claim ${JSON.stringify(id)}`);
  if (!['approved', 'partially_approved'].includes(claim.status) || Decimal.parse(claim.approved).isZero())
    throw new HttpError(
      409,
      'not_payable',
      `claim ${id} is ${claim.status} with ${claim.approved} approved: nothing to pay`,
    );
  if (claim.settlement && claim.settlement.status !== 'cancelled')
    throw new HttpError(
      409,
      'already_settled',
      `claim ${id} is paid by settlement ${claim.settlement.id} (${claim.settlement.status})`,
    );
  const { settlement } = await prepareSettlement(
    store,
    {
      agreementId: claim.agreementId!,
      ruleId: claim.ruleId!,
      periodStart: claim.periodStart!,
      kind: 'interim',
      payoutMethod: claim.source === 'deduction' ? 'invoice_offset' : payoutMethod,
      amount: claim.approved,
      claimId: id,
      comment: `claim ${id} (${claim.reference})`,
    },
    {
      actor: who.actor,
      username: who.username,
      role: who.role,
      ...(who.requestId ? { requestId: who.requestId } : {}),
    },
  );
  return settlement;
}

function claimView(r: ClaimRow, settlement: ClaimView['settlement']): ClaimView {
  return {
    id: String(r.id),
    source: r.source,
    agreementId: r.agreement_id,
    ruleId: r.rule_id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    partnerId: r.partner_id,
    reference: r.reference,
    invoiceNumber: r.invoice_number,
    currency: r.currency.trim(),
    claimed: r.claimed,
    due: r.due,
    tolerance: r.tolerance,
    approved: r.approved,
    difference: Decimal.parse(r.claimed).sub(Decimal.parse(r.approved)).toString(),
    status: r.status,
    reasonCode: r.reason_code,
    resolution: r.resolution,
    resolvedBy: r.resolved_by,
    submittedBy: r.submitted_by,
    submittedAt: new Date(r.submitted_at).toISOString(),
    settlement,
  };
}

export async function listClaims(
  db: Database,
  filter: { partners?: readonly string[]; id?: string } = {},
): Promise<ClaimView[]> {
  let query = db.selectFrom('claims').selectAll().orderBy('id');
  if (filter.partners !== undefined)
    query = query.where('partner_id', 'in', filter.partners.length > 0 ? filter.partners : ['']);
  if (filter.id !== undefined) query = query.where('id', '=', filter.id);
  const rows = await query.execute();
  const settlements = await db
    .selectFrom('settlements')
    .select(['id', 'status', 'document_number', 'claim_id'])
    .where('claim_id', 'is not', null)
    .where('status', '<>', 'cancelled')
    .execute();
  const byClaim = new Map(
    settlements.map((s) => [
      String(s.claim_id),
      { id: String(s.id), status: s.status, documentNumber: s.document_number },
    ]),
  );
  return rows.map((r) => claimView(r, byClaim.get(String(r.id)) ?? null));
}

export async function readClaim(db: Database, id: string): Promise<ClaimView | undefined> {
  return (await listClaims(db, { id }))[0];
}

export async function claimComments(db: Database, id: string) {
  const rows = await db
    .selectFrom('claim_comments')
    .selectAll()
    .where('claim_id', '=', id)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ author: r.author, at: new Date(r.at).toISOString(), text: r.text }));
}
