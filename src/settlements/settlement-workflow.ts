// Paying a rebate: a settlement for one rule and period is prepared (calculated
// from the stored lines), approved by a finance user who did not prepare it, and
// posted — which numbers its payout document and writes its journal entry, once.
// An interim settlement pays on account, up to what is earned so far; the final
// one nets every earlier payment, and when more was paid than earned it is a
// clawback, carried forward or invoiced by policy.
import { sql } from 'kysely';
import { loadAgreements } from '../agreements/agreements.repository.ts';
import { appendAudit } from '../audit/audit.service.ts';
import { assertBalanced, type JournalEntry, ledgerAccounts, writeEntries } from '../ledger/ledger.service.ts';
import { HttpError } from '../server/errors.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Database, Store } from '../store/database.ts';
import type { UserRole } from '../store/store.types.ts';
import type { Author } from '../users/users.service.ts';
import { settle } from './settlement.service.ts';

/** The ledger's lock: settlement postings and accrual postings write the journal one at a time. */
const LEDGER_LOCK_KEY = 7_202_613;
const FINANCE: readonly UserRole[] = ['admin', 'finance'];

export type SettlementKind = 'interim' | 'final';
export type PayoutMethod = 'credit_memo' | 'bank_transfer' | 'invoice_offset';
export type ClawbackPolicy = 'carry_forward' | 'invoice';
export type Who = Author & { username: string; role: UserRole };

const DOCUMENT_PREFIX: Record<PayoutMethod, string> = {
  credit_memo: 'CM',
  bank_transfer: 'BT',
  invoice_offset: 'OF',
};

export interface SettlementRequest {
  agreementId: string;
  ruleId: string;
  /** The first day of the period (or of its part, when an amendment cut it). */
  periodStart: string;
  kind: SettlementKind;
  payoutMethod: PayoutMethod;
  /** Interim only: what to pay on account (default: all that is earned and not yet paid). */
  amount?: string;
  clawbackPolicy?: ClawbackPolicy;
  /** Lines dated up to this day count (default: today). */
  asOf?: string;
  comment?: string;
  /** Calculate it and roll back: see the settlement without keeping it. */
  dryRun?: boolean;
  /** The claim this settlement pays (claims.service.ts): its approved amount is held, not open to others. */
  claimId?: string;
}

export interface SettlementView {
  id: string | null;
  agreementId: string;
  ruleId: string;
  periodStart: string;
  periodEnd: string;
  kind: SettlementKind;
  status: string;
  currency: string;
  asOf: string;
  earned: string;
  paidBefore: string;
  amount: string;
  payoutMethod: PayoutMethod;
  clawbackPolicy: ClawbackPolicy | null;
  beneficiary: string;
  preparedBy: string;
  approvedBy: string | null;
  postedBy: string | null;
  postedAt: string | null;
  documentNumber: string | null;
  journalEntry: string | null;
  comment: string | null;
  /** The claim it pays, if any. */
  claim: string | null;
}

type Row = Awaited<ReturnType<typeof readRows>>[number];

async function readRows(db: Database, where: { id?: string; agreementIds?: readonly string[] }) {
  let query = db.selectFrom('settlements').selectAll().orderBy('id');
  if (where.id !== undefined) query = query.where('id', '=', where.id);
  if (where.agreementIds !== undefined)
    query = query.where('agreement_id', 'in', where.agreementIds.length > 0 ? where.agreementIds : ['']);
  return query.execute();
}

export function settlementView(r: Row): SettlementView {
  return {
    id: String(r.id),
    agreementId: r.agreement_id,
    ruleId: r.rule_id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    kind: r.kind as SettlementKind,
    status: r.status,
    currency: r.currency.trim(),
    asOf: r.as_of,
    earned: r.earned,
    paidBefore: r.paid_before,
    amount: r.amount,
    payoutMethod: r.payout_method as PayoutMethod,
    clawbackPolicy: r.clawback_policy as ClawbackPolicy | null,
    beneficiary: r.beneficiary_id,
    preparedBy: r.prepared_by,
    approvedBy: r.approved_by,
    postedBy: r.posted_by,
    postedAt: r.posted_at === null ? null : new Date(r.posted_at).toISOString(),
    documentNumber: r.document_number,
    journalEntry: r.journal_entry_id === null ? null : String(r.journal_entry_id),
    comment: r.comment,
    claim: r.claim_id === null ? null : String(r.claim_id),
  };
}

export async function readSettlement(db: Database, id: string): Promise<SettlementView | undefined> {
  const [row] = await readRows(db, { id });
  return row ? settlementView(row) : undefined;
}

function requireFinance(who: Who, what: string): void {
  if (!FINANCE.includes(who.role))
    throw new HttpError(403, 'forbidden', `${what} is for finance users and administrators`);
}

class DryRun extends Error {
  constructor(readonly view: SettlementView) {
    super('dry run: rolled back');
  }
}

/**
 * Prepares a settlement (a draft). A final settlement that exists already for the
 * rule and period is returned as it is (`existing: true`), whoever asks and however
 * often: there is one.
 */
export async function prepareSettlement(
  store: Store,
  request: SettlementRequest,
  who: Who,
): Promise<{ settlement: SettlementView; existing: boolean }> {
  requireFinance(who, 'preparing settlements');
  const asOf = request.asOf ?? new Date().toISOString().slice(0, 10);
  try {
    return await store.db.transaction().execute(async (trx) => {
      const [stored] = await loadAgreements(trx, [request.agreementId]);
      if (!stored)
        throw new HttpError(404, 'not_found', `no agreement ${JSON.stringify(request.agreementId)}`);
      const run = await settle(trx, { agreementIds: [request.agreementId], asOf });
      const result = run.results.find(
        (r) => r.ruleId === request.ruleId && r.period.start === request.periodStart,
      );
      if (!result)
        throw new HttpError(
          422,
          'invalid_settlement',
          `agreement ${request.agreementId} has no rule ${request.ruleId} period starting ${request.periodStart} settled as of ${asOf}`,
          [
            {
              field: 'periodStart',
              code: 'unknown_period',
              message: 'no such rule and period (is the agreement approved?)',
            },
          ],
        );
      const key = {
        agreement_id: request.agreementId,
        rule_id: request.ruleId,
        period_start: result.period.start,
        period_end: result.period.end,
      };
      // Serialises settlements of one rule and period: the paid sum below stays true until commit.
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`settlement:${Object.values(key).join('/')}`}))`.execute(
        trx,
      );
      const existing = await trx
        .selectFrom('settlements')
        .selectAll()
        .where('agreement_id', '=', key.agreement_id)
        .where('rule_id', '=', key.rule_id)
        .where('period_start', '=', key.period_start)
        .where('period_end', '=', key.period_end)
        .where('status', '<>', 'cancelled')
        .execute();
      const final = existing.find((s) => s.kind === 'final');
      if (final && request.claimId !== undefined)
        throw new HttpError(
          409,
          'period_settled',
          `final settlement ${final.id} settles this rule and period: it paid what was due, claims included`,
        );
      if (final) return { settlement: settlementView(final), existing: true };
      const open = existing.find((s) => s.kind === 'interim' && s.status !== 'posted');
      if (open)
        throw new HttpError(
          409,
          'settlement_open',
          `interim settlement ${open.id} for this rule and period is ${open.status}; post or cancel it first`,
        );
      if (request.kind === 'final' && asOf < result.period.end)
        throw new HttpError(
          409,
          'period_not_ended',
          `the period runs until ${result.period.end}: settle it finally from then, or pay on account (interim)`,
        );
      const paidBefore = Decimal.sum(
        existing.filter((s) => s.status === 'posted').map((s) => Decimal.parse(s.amount)),
      );
      const due = result.rebate.sub(paidBefore);
      let amount = due;
      if (request.kind === 'interim') {
        const asked = request.amount === undefined ? due : Decimal.tryParse(request.amount);
        // A claim approved within tolerance may ask a little more than is due; the final settlement nets it.
        const allowance =
          request.claimId === undefined ? Decimal.ZERO : await claimAllowance(trx, request.claimId);
        if (
          asked === undefined ||
          asked.sign() <= 0 ||
          asked.gt(due.add(allowance)) ||
          asked.significantScale() > 2
        )
          throw new HttpError(
            422,
            'invalid_settlement',
            `amount: an interim payment is more than 0 and at most the ${due} earned and not yet paid`,
            [{ field: 'amount', code: 'invalid_amount', message: `more than 0, at most ${due}, in cents` }],
          );
        amount = asked;
      }
      const agreement = stored.agreement;
      const beneficiary = agreement.beneficiary ?? agreement.partner;
      if (beneficiary === undefined)
        throw new HttpError(
          422,
          'invalid_settlement',
          `agreement ${agreement.id} is a buying group's and names no beneficiary to pay`,
          [{ field: 'agreementId', code: 'no_beneficiary', message: 'set a beneficiary on the agreement' }],
        );
      const row = await trx
        .insertInto('settlements')
        .values({
          ...key,
          kind: request.kind,
          status: 'draft',
          currency: result.currency,
          as_of: asOf,
          earned: result.rebate.toString(),
          paid_before: paidBefore.toString(),
          amount: amount.toString(),
          payout_method: request.payoutMethod,
          claim_id: request.claimId ?? null,
          clawback_policy: amount.sign() < 0 ? (request.clawbackPolicy ?? 'carry_forward') : null,
          beneficiary_id: beneficiary,
          prepared_by: who.username,
          comment: request.comment ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const view = settlementView(row);
      await appendAudit(trx, {
        actor: who.actor,
        action: 'settlement.prepare',
        entity: 'settlement',
        entityId: view.id!,
        after: view,
        ...(request.comment ? { comment: request.comment } : {}),
        ...(who.requestId ? { requestId: who.requestId } : {}),
      });
      if (request.dryRun) throw new DryRun({ ...view, id: null });
      return { settlement: view, existing: false };
    });
  } catch (error) {
    if (error instanceof DryRun) return { settlement: error.view, existing: false };
    throw error;
  }
}

/** The tolerance a claim was approved within: what its settlement may pay above what is due. */
async function claimAllowance(db: Database, claimId: string): Promise<Decimal> {
  const claim = await db
    .selectFrom('claims')
    .select('tolerance')
    .where('id', '=', claimId)
    .executeTakeFirst();
  return claim ? Decimal.parse(claim.tolerance) : Decimal.ZERO;
}

export type SettlementAction = 'approve' | 'post' | 'cancel';

/**
 * Approves (not the preparer), posts (once: posting a posted settlement returns
 * it as it is) or cancels a settlement.
 */
export async function changeSettlement(
  store: Store,
  id: string,
  action: SettlementAction,
  who: Who,
  comment?: string,
): Promise<{ settlement: SettlementView; alreadyPosted: boolean }> {
  requireFinance(
    who,
    `${action === 'post' ? 'posting' : action === 'approve' ? 'approving' : 'cancelling'} settlements`,
  );
  return store.db.transaction().execute(async (trx) => {
    if (action === 'post') await sql`SELECT pg_advisory_xact_lock(${LEDGER_LOCK_KEY})`.execute(trx);
    const row = await trx
      .selectFrom('settlements')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new HttpError(404, 'not_found', `no settlement ${JSON.stringify(id)}`);
    if (action === 'post' && row.status === 'posted')
      return { settlement: settlementView(row), alreadyPosted: true };
    const from = { approve: ['draft'], post: ['approved'], cancel: ['draft', 'approved'] }[action];
    if (!from.includes(row.status))
      throw new HttpError(
        409,
        'invalid_transition',
        `settlement ${id} is ${row.status}; ${action} applies to ${from.join(' or ')} settlements`,
      );
    if (action === 'approve' && row.prepared_by === who.username)
      throw new HttpError(
        403,
        'segregation_of_duties',
        `${who.username} prepared settlement ${id} and may not approve it; another finance user must`,
      );
    const now = new Date().toISOString();
    let changes: Record<string, string | null> = {};
    if (action === 'approve') changes = { status: 'approved', approved_by: who.username, approved_at: now };
    if (action === 'cancel') changes = { status: 'cancelled' };
    if (action === 'post') {
      const sequence = await sql<{ n: string }>`SELECT nextval('settlement_documents')::text AS n`.execute(
        trx,
      );
      const method = row.payout_method as PayoutMethod;
      const documentNumber = `${DOCUMENT_PREFIX[method]}-${row.period_end.slice(0, 4)}-${sequence.rows[0]!.n.padStart(6, '0')}`;
      const entry = settlementEntry(
        settlementView(row),
        documentNumber,
        now.slice(0, 10),
        await ledgerAccounts(trx),
      );
      if (entry) await writeEntries(trx, [entry], null);
      changes = {
        status: 'posted',
        posted_by: who.username,
        posted_at: now,
        document_number: documentNumber,
        journal_entry_id: entry?.id ?? null,
      };
    }
    const updated = await trx
      .updateTable('settlements')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = settlementView(updated);
    await appendAudit(trx, {
      actor: who.actor,
      action: `settlement.${action}`,
      entity: 'settlement',
      entityId: id,
      before: { status: row.status },
      after: action === 'post' ? view : { status: view.status },
      ...(comment ? { comment } : {}),
      ...(who.requestId ? { requestId: who.requestId } : {}),
    });
    return { settlement: view, alreadyPosted: false };
  });
}

/**
 * The journal entry of a posted settlement. A payment relieves accrued rebates
 * and owes the partner (payable) or reduces what it owes (receivable, for an
 * invoice offset). A clawback does the opposite: invoiced, it is a receivable;
 * carried forward, it reduces the next payment (payable). Nothing to pay, no entry.
 */
export function settlementEntry(
  s: SettlementView,
  documentNumber: string,
  date: string,
  accounts: Record<'rebate_expense' | 'accrued_rebates' | 'partner_payable' | 'accounts_receivable', string>,
): JournalEntry | undefined {
  const amount = Decimal.parse(s.amount);
  if (amount.isZero()) return undefined;
  const size = amount.sign() < 0 ? amount.neg() : amount;
  const zero = size.sub(size);
  const other =
    amount.sign() > 0
      ? s.payoutMethod === 'invoice_offset'
        ? accounts.accounts_receivable
        : accounts.partner_payable
      : s.clawbackPolicy === 'invoice'
        ? accounts.accounts_receivable
        : accounts.partner_payable;
  const [debit, credit] =
    amount.sign() > 0 ? [accounts.accrued_rebates, other] : [other, accounts.accrued_rebates];
  return assertBalanced({
    source: 'settlement',
    ...(s.id !== null ? { settlementId: s.id } : {}),
    entryDate: date,
    agreementId: s.agreementId,
    ruleId: s.ruleId,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
    currency: s.currency,
    amount: amount.neg(),
    memo: `${s.kind} settlement ${documentNumber} ${s.agreementId}/${s.ruleId} ${s.periodStart}..${s.periodEnd} to ${s.beneficiary}`,
    lines: [
      { account: debit, debit: size, credit: zero },
      { account: credit, debit: zero, credit: size },
    ],
  });
}

export async function listSettlements(
  db: Database,
  agreementIds?: readonly string[],
): Promise<SettlementView[]> {
  return (await readRows(db, agreementIds === undefined ? {} : { agreementIds })).map(settlementView);
}
