// Accrual postings over HTTP, on both stores, with figures worked out here from
// the stored lines by plain SQL sums: the first posting accrues, the next posts
// only the change, a late line is trued up in the period it belongs to, a period
// before the last posting is refused, a dry run writes nothing, a forecast-basis
// agreement accrues the forecast's share of the days elapsed, and the journal
// balances — when built, when committed (the database refuses an unbalanced
// entry) and when read back.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { Decimal } from '../src/shared/decimal.ts';
import { activeAgreement, demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const agreement = (id: string, accrual?: 'forecast') => ({
  id,
  name: `${id} volume`,
  partner: 'D-1002',
  currency: 'USD',
  period: { start: '2025-01-01', end: '2025-12-31' },
  calendar: 'quarterly',
  ...(accrual ? { accrual } : {}),
  rules: [
    {
      id: 'volume',
      basis: 'amount',
      method: 'retroactive',
      payout: 'percent',
      tiers: [{ from: '0', rate: '2' }],
    },
  ],
});

interface Entry {
  id: string;
  agreement: string;
  periodStart: string;
  amount: string;
  memo: string;
  lines: { account: string; debit: string; credit: string }[];
}

for (const target of storeTargets()) {
  describe(`accrual postings (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      cole: { role: 'commercial' },
      fin: { role: 'finance' },
      aud: { role: 'auditor' },
    });
    const { call } = server;
    /** D-1002's USD sales dated in the window, summed in SQL. */
    const sales = async (start: string, end: string) =>
      Decimal.parse(
        (
          await sql<{ amount: string | null }>`
            SELECT sum(amount)::text AS amount FROM transactions
            WHERE partner_id = 'D-1002' AND currency = 'USD' AND line_date BETWEEN ${start}::date AND ${end}::date`.execute(
            server.store.db,
          )
        ).rows[0]?.amount ?? '0',
      );
    const twoPercent = (amount: Decimal) => amount.mul(Decimal.parse('2')).shift(2).roundHalfAwayFromZero(2);
    const post = (period: string, dryRun = false) =>
      call('fin', 'POST', '/accrual-postings', { period, ...(dryRun ? { dryRun } : {}) });
    const entriesOf = (body: { entries: Entry[] }, id: string) =>
      body.entries.filter((e) => e.agreement === id);

    before(async () => {
      for (const id of ['POST-1', 'POST-F'])
        await activeAgreement(call, agreement(id, id === 'POST-F' ? 'forecast' : undefined));
    });

    test('the first posting accrues what is earned as of the month end: debit expense, credit accrued', async () => {
      assert.equal((await call('carla', 'POST', '/accrual-postings', { period: '2025-01' })).status, 403);
      const first = await post('2025-01');
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const [q1] = entriesOf(first.body, 'POST-1');
      const expected = twoPercent(await sales('2025-01-01', '2025-01-31'));
      assert.ok(expected.sign() > 0, 'the demo has January sales');
      assert.equal(q1!.amount, expected.toString());
      assert.deepEqual(q1!.lines, [
        { account: '4910', debit: expected.toString(), credit: '0.00' },
        { account: '2350', debit: '0.00', credit: expected.toString() },
      ]);
      assert.equal(entriesOf(first.body, 'POST-1').length, 1, 'one quarter has started by January 31');

      // Forecast basis: January projected to the quarter (× 90 ÷ 31), 2% of it, accrued for 31 of 90 days.
      const [forecast] = entriesOf(first.body, 'POST-F');
      const projected = (await sales('2025-01-01', '2025-01-31')).mulRatio(90n, 31n, 2);
      assert.equal(forecast!.amount, twoPercent(projected).mulRatio(31n, 90n, 2).toString());
    });

    test('the next posting posts only the change; nothing changed, nothing posted', async () => {
      const second = await post('2025-02');
      const [q1] = entriesOf(second.body, 'POST-1');
      const change = twoPercent(await sales('2025-01-01', '2025-02-28')).sub(
        twoPercent(await sales('2025-01-01', '2025-01-31')),
      );
      assert.equal(q1!.amount, change.toString());
      assert.match(q1!.memo, /^true-up POST-1\/volume 2025-01-01\.\.2025-03-31/);
      const again = await post('2025-02');
      assert.equal(again.status, 201);
      assert.deepEqual(again.body.entries, [], 'no accrual changed');
    });

    test('a late line is trued up in the period it belongs to', async () => {
      const late = await call('fin', 'POST', '/transactions', {
        lines: [
          {
            id: 'LATE-1',
            date: '2025-01-20',
            partner: 'D-1002',
            sku: 'PT-100',
            quantity: '4',
            amount: '1000.00',
            currency: 'USD',
          },
        ],
      });
      assert.equal(late.status, 201);
      const third = await post('2025-02');
      const [q1] = entriesOf(third.body, 'POST-1');
      assert.equal(q1!.amount, '20.00', '2% of the late 1,000.00');
      assert.equal(q1!.periodStart, '2025-01-01');
      const ledger = (await call('aud', 'GET', '/journal?agreement=POST-1')).body as Entry[];
      const booked = Decimal.sum(ledger.map((e) => Decimal.parse(e.amount)));
      assert.equal(booked.toString(), twoPercent(await sales('2025-01-01', '2025-02-28')).toString());
    });

    test('a period before the last posting is refused; a dry run writes nothing', async () => {
      const early = await post('2025-01');
      assert.deepEqual([early.status, early.body.code], [409, 'period_before_last_posting']);
      const bad = await post('2025-13');
      assert.deepEqual([bad.status, bad.body.details[0].field], [422, 'period']);
      const count = async () =>
        (await server.store.db.selectFrom('journal_entries').select('id').execute()).length;
      const before = await count();
      const preview = await post('2025-03', true);
      assert.equal(preview.status, 201);
      assert.equal(preview.body.posting, null);
      assert.ok(entriesOf(preview.body, 'POST-1').length > 0, 'March would post');
      assert.equal(await count(), before, 'nothing was written');
    });

    test('the journal balances when read back; the database refuses edits and unbalanced entries', async () => {
      const journal = (await call('aud', 'GET', '/journal')).body as Entry[];
      let debits = Decimal.ZERO;
      let credits = Decimal.ZERO;
      for (const e of journal) {
        const d = Decimal.sum(e.lines.map((l) => Decimal.parse(l.debit)));
        const c = Decimal.sum(e.lines.map((l) => Decimal.parse(l.credit)));
        assert.ok(d.eq(c), `entry ${e.id} balances`);
        debits = debits.add(d);
        credits = credits.add(c);
      }
      assert.ok(debits.eq(credits));
      const csv = await fetch(`${server.origin}/api/v1/journal?format=csv`, {
        headers: { authorization: `Bearer ${server.tokens.aud}` },
      });
      const rows = (await csv.text()).trim().split('\n');
      assert.equal(
        rows[0],
        'entry,posting,date,agreement,rule,period_start,period_end,currency,line,account,debit,credit,memo',
      );
      assert.equal(rows.length - 1, journal.length * 2, 'two journal lines per entry');

      await assert.rejects(
        sql`UPDATE journal_lines SET debit = debit + 1 WHERE entry_id = ${journal[0]!.id}`.execute(
          server.store.db,
        ),
        /append-only/,
      );
      await assert.rejects(
        server.store.db.transaction().execute(async (trx) => {
          const [row] = (
            await sql<{ id: string }>`
              INSERT INTO journal_entries (source, entry_date, agreement_id, rule_id, period_start, period_end, currency, amount, memo)
              VALUES ('accrual', '2025-01-31', 'POST-1', 'volume', '2025-01-01', '2025-03-31', 'USD', 1, 'forged')
              RETURNING id`.execute(trx)
          ).rows;
          await sql`INSERT INTO journal_lines (entry_id, line_no, account, debit, credit)
            VALUES (${row!.id}, 1, '4910', 1, 0), (${row!.id}, 2, '2350', 0, 0.99)`.execute(trx);
        }),
        /does not balance/,
      );
      const postings = (await call('aud', 'GET', '/accrual-postings')).body;
      assert.deepEqual(
        postings.items.map((p: { period: string }) => p.period),
        ['2025-02', '2025-02', '2025-02', '2025-01'],
      );
    });
  });
}
