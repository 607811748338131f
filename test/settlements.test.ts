// Settlements over HTTP, on both stores, with figures checked by hand: a partner
// sells 54,000.00 in the first quarter at 2%, so it earns 1,080.00; 140.00 paid on
// account (interim) leaves 940.00 for the final settlement. A second agreement at
// 1% paid 400.00 on account, then a 20,000.00 return leaves 340.00 earned: a
// clawback of 60.00, invoiced. Each settlement is prepared by one finance user
// and approved by another, posted once however many ask at once, with its
// journal entry and its PDF document, and exported for payment.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import { demoServer, partnerWithFirstQuarter, usdLine } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

for (const target of storeTargets()) {
  describe(`settlements (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      cole: { role: 'commercial' },
      fin: { role: 'finance' },
      fiona: { role: 'finance' },
      aud: { role: 'auditor' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
    });
    const { call } = server;
    const prepare = (body: Record<string, unknown>, user = 'fin') =>
      call(user, 'POST', '/settlements', { rule: 'volume', periodStart: '2025-01-01', ...body });
    const act = (id: string, action: string, user: string) =>
      call(user, 'POST', `/settlements/${id}/transitions`, { action });

    before(async () => {
      await partnerWithFirstQuarter(
        server,
        { id: 'D-9100', name: 'Gulf Supply', user: 'gulf' },
        { 'SETT-1': '2', 'SETT-2': '1' },
      );
    });

    test('interim: paid on account, up to what is earned so far; approved by another; posted', async () => {
      const tooMuch = await prepare({
        agreement: 'SETT-1',
        kind: 'interim',
        amount: '800.01',
        asOf: '2025-02-15',
      });
      assert.deepEqual([tooMuch.status, tooMuch.body.details[0].field], [422, 'amount']);
      assert.match(tooMuch.body.message, /at most the 800\.00 earned/);
      assert.equal(
        (await prepare({ agreement: 'SETT-1', kind: 'interim', amount: '140.00' }, 'carla')).status,
        403,
      );
      const preview = await prepare({
        agreement: 'SETT-1',
        kind: 'interim',
        amount: '140.00',
        asOf: '2025-02-15',
        dryRun: true,
      });
      assert.deepEqual([preview.status, preview.body.id], [201, null]);
      assert.equal(
        (await call('fin', 'GET', '/settlements?agreement=SETT-1')).body.total,
        0,
        'a dry run keeps nothing',
      );

      const interim = await prepare({
        agreement: 'SETT-1',
        kind: 'interim',
        amount: '140.00',
        asOf: '2025-02-15',
      });
      assert.equal(interim.status, 201, JSON.stringify(interim.body));
      assert.deepEqual(
        [interim.body.status, interim.body.earned, interim.body.paidBefore, interim.body.amount],
        ['draft', '800.00', '0', '140.00'],
      );
      const id = interim.body.id;
      assert.equal((await act(id, 'post', 'fiona')).body.code, 'invalid_transition', 'approved first');
      const own = await act(id, 'approve', 'fin');
      assert.deepEqual([own.status, own.body.code], [403, 'segregation_of_duties']);
      assert.equal((await act(id, 'approve', 'fiona')).body.status, 'approved');
      const posted = await act(id, 'post', 'fin');
      assert.equal(posted.body.status, 'posted');
      assert.match(posted.body.documentNumber, /^CM-2025-\d{6}$/);
      const journal = (await call('aud', 'GET', '/journal?agreement=SETT-1')).body;
      const entry = journal.find((e: { id: string }) => e.id === posted.body.journalEntry);
      assert.deepEqual(entry.lines, [
        { account: '2350', debit: '140.00', credit: '0.00' },
        { account: '2110', debit: '0.00', credit: '140.00' },
      ]);
    });

    test('final: 1,080.00 earned less 140.00 paid on account pays 940.00, once', async () => {
      const early = await prepare({ agreement: 'SETT-1', kind: 'final', asOf: '2025-03-15' });
      assert.deepEqual([early.status, early.body.code], [409, 'period_not_ended']);
      const final = await prepare({
        agreement: 'SETT-1',
        kind: 'final',
        asOf: '2025-04-30',
        payoutMethod: 'bank_transfer',
      });
      assert.equal(final.status, 201, JSON.stringify(final.body));
      assert.deepEqual(
        [final.body.earned, final.body.paidBefore, final.body.amount],
        ['1080.00', '140.00', '940.00'],
      );
      const again = await prepare({ agreement: 'SETT-1', kind: 'final', asOf: '2025-05-31' }, 'fiona');
      assert.deepEqual(
        [again.status, again.body.id],
        [200, final.body.id],
        'a re-run shows the existing one',
      );

      const id = final.body.id;
      assert.equal((await act(id, 'approve', 'fiona')).status, 200);
      // Eight posts at once: one posting, one document, one journal entry.
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => act(id, 'post', i % 2 ? 'fin' : 'fiona')),
      );
      assert.deepEqual(
        [...new Set(answers.map((a) => `${a.status} ${a.body.status} ${a.body.documentNumber}`))],
        [`200 posted ${answers[0]!.body.documentNumber}`],
      );
      assert.match(answers[0]!.body.documentNumber, /^BT-2025-/);
      const entries = await server.store.db
        .selectFrom('journal_entries')
        .select('id')
        .where('settlement_id', '=', id)
        .execute();
      assert.equal(entries.length, 1);
      const rows = await server.store.db
        .selectFrom('settlements')
        .select('status')
        .where('agreement_id', '=', 'SETT-1')
        .execute();
      assert.deepEqual(rows.map((r) => r.status).sort(), ['posted', 'posted']);
    });

    test('more paid on account than earned is a clawback, invoiced by policy', async () => {
      const interim = await prepare({ agreement: 'SETT-2', kind: 'interim', asOf: '2025-02-15' });
      assert.equal(interim.body.amount, '400.00', 'all earned so far by default: 1% of 40,000.00');
      await act(interim.body.id, 'approve', 'fiona');
      await act(interim.body.id, 'post', 'fin');
      const returned = await call('fin', 'POST', '/transactions', {
        lines: [usdLine('G-4', 'D-9100', '2025-03-01', '-20000.00')],
      });
      assert.equal(returned.status, 201);
      const final = await prepare({
        agreement: 'SETT-2',
        kind: 'final',
        asOf: '2025-04-30',
        clawbackPolicy: 'invoice',
      });
      assert.deepEqual(
        [final.body.earned, final.body.paidBefore, final.body.amount, final.body.clawbackPolicy],
        ['340.00', '400.00', '-60.00', 'invoice'],
      );
      await act(final.body.id, 'approve', 'fiona');
      const posted = await act(final.body.id, 'post', 'fin');
      const journal = (await call('aud', 'GET', '/journal?agreement=SETT-2')).body;
      const entry = journal.find((e: { id: string }) => e.id === posted.body.journalEntry);
      assert.deepEqual(entry.lines, [
        { account: '1200', debit: '60.00', credit: '0.00' },
        { account: '2350', debit: '0.00', credit: '60.00' },
      ]);
    });

    test('payout documents as PDF; payments exported as CSV; each partner sees its own', async () => {
      const listed = await call('gulf', 'GET', '/settlements?status=posted');
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const list = listed.body.items;
      assert.equal(list.length, 4);
      const final = list.find(
        (s: { agreementId: string; kind: string }) => s.agreementId === 'SETT-1' && s.kind === 'final',
      );
      const response = await fetch(`${server.origin}/api/v1/settlements/${final.id}/document`, {
        headers: { authorization: `Bearer ${server.tokens.gulf}` },
      });
      assert.equal(response.headers.get('content-type'), 'application/pdf');
      const pdf = await PDFDocument.load(new Uint8Array(await response.arrayBuffer()));
      assert.equal(pdf.getPageCount(), 1);
      assert.equal(pdf.getTitle(), `Remittance advice (bank transfer) ${final.documentNumber}`);
      assert.match(pdf.getSubject()!, /^940\.00 USD to D-9100 for SETT-1\/volume 2025-01-01\.\.2025-03-31$/);
      assert.equal((await call('d1002', 'GET', `/settlements/${final.id}`)).status, 404, "another partner's");
      assert.equal((await call('d1002', 'GET', `/settlements/${final.id}/document`)).status, 404);
      assert.equal((await call('d1002', 'GET', '/settlements')).body.total, 0);

      const csv = await fetch(`${server.origin}/api/v1/settlement-payments`, {
        headers: { authorization: `Bearer ${server.tokens.fin}` },
      });
      const rows = (await csv.text())
        .trim()
        .split('\n')
        .map((r) => r.split(','));
      assert.equal(
        rows[0]!.join(','),
        'document,posted,method,beneficiary,beneficiary_name,agreement,rule,period_start,period_end,kind,currency,amount,settlement',
      );
      assert.deepEqual(
        rows
          .slice(1)
          .map((r) => `${r[5]} ${r[9]} ${r[11]}`)
          .sort(),
        ['SETT-1 final 940.00', 'SETT-1 interim 140.00', 'SETT-2 final -60.00', 'SETT-2 interim 400.00'],
      );
      assert.equal((await call('carla', 'GET', '/settlement-payments')).status, 403);
    });

    test('a posted settlement cannot be changed, even in SQL', async () => {
      const [posted] = await server.store.db
        .selectFrom('settlements')
        .select('id')
        .where('status', '=', 'posted')
        .execute();
      await assert.rejects(
        server.store.db
          .updateTable('settlements')
          .set({ amount: '1.00' })
          .where('id', '=', posted!.id)
          .execute(),
        /it is not changed/,
      );
    });
  });
}
