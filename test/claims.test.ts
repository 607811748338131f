// Claims over HTTP, on both stores, with figures checked by hand. Delta Supply
// sells 54,000.00 in the first quarter: 2% earns 1,080.00 (CLM-1), 1% earns
// 540.00 (CLM-2). The tolerance is the larger of 1.00 and 0.5% of what is due.
// Claims are validated against what is due (earned, less paid, less what other
// claims hold), duplicates are refused, a dispute carries comments and a
// resolution, approved claims are paid through settlements once, deductions are
// matched to what is due or disputed, and nothing is paid twice.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { demoServer, partnerWithFirstQuarter } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

for (const target of storeTargets()) {
  describe(`claims and deductions (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      cole: { role: 'commercial' },
      fin: { role: 'finance' },
      fiona: { role: 'finance' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
    });
    const { call } = server;
    const claim = (body: Record<string, unknown>, user = 'delta') =>
      call(user, 'POST', '/claims', { agreement: 'CLM-1', periodStart: '2025-01-01', ...body });
    const outcome = (c: { status: string; approved: string; due: string; reasonCode: string }) =>
      `${c.status} ${c.approved} of ${c.due} due (${c.reasonCode})`;
    const pay = async (claimId: string, method = 'credit_memo') => {
      const prepared = await call('fin', 'POST', `/claims/${claimId}/settlement`, { payoutMethod: method });
      assert.equal(prepared.status, 201, JSON.stringify(prepared.body));
      assert.equal(
        (await call('fiona', 'POST', `/settlements/${prepared.body.id}/transitions`, { action: 'approve' }))
          .status,
        200,
      );
      const posted = await call('fin', 'POST', `/settlements/${prepared.body.id}/transitions`, {
        action: 'post',
      });
      assert.equal(posted.body.status, 'posted');
      return posted.body;
    };
    const ids: Record<string, string> = {};

    before(async () => {
      await partnerWithFirstQuarter(
        server,
        { id: 'D-9200', name: 'Delta Supply', user: 'delta' },
        { 'CLM-1': '2', 'CLM-2': '1' },
      );
    });

    test('validated at once: below what is due, approved as claimed; duplicates refused', async () => {
      const first = await claim({ reference: 'C-1', claimed: '500.00' });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(outcome(first.body), 'approved 500.00 of 1080.00 due (below_calculated)');
      assert.equal(first.body.partnerId, 'D-9200');
      ids.c1 = first.body.id;
      const again = await claim({ reference: 'C-1', claimed: '480.00' });
      assert.deepEqual(
        [again.status, again.body.code, again.body.details[0].field],
        [409, 'duplicate_claim', 'reference'],
      );
      const sameAmount = await claim({ reference: 'C-2', claimed: '500.00' });
      assert.deepEqual([sameAmount.status, sameAmount.body.details[0].field], [409, 'claimed']);
    });

    test('above what is due beyond tolerance: partially approved; disputed, discussed, resolved', async () => {
      // 1,080.00 earned, 500.00 held by C-1: 580.00 due; tolerance max(1.00, 2.90) = 2.90.
      const over = await claim({ reference: 'C-3', claimed: '700.00' });
      assert.equal(outcome(over.body), 'partially_approved 580.00 of 580.00 due (exceeds_calculated)');
      assert.deepEqual([over.body.tolerance, over.body.difference], ['2.90', '120.00']);
      ids.c3 = over.body.id;
      const disputed = await call('delta', 'POST', `/claims/${ids.c3}/dispute`, {
        reasonCode: 'missing_lines',
        comment: 'our March invoice 5521 is missing',
      });
      assert.equal(disputed.body.status, 'disputed');
      assert.equal(
        (
          await call('fin', 'POST', `/claims/${ids.c3}/comments`, {
            text: 'invoice 5521 was credited in full',
          })
        ).status,
        201,
      );
      assert.equal(
        (await call('delta', 'POST', `/claims/${ids.c3}/resolution`, { resolution: 'accept', comment: 'x' }))
          .status,
        404,
      );
      const resolved = await call('fin', 'POST', `/claims/${ids.c3}/resolution`, {
        resolution: 'uphold',
        comment: 'the calculation stands',
      });
      assert.equal(outcome(resolved.body), 'partially_approved 580.00 of 580.00 due (missing_lines)');
      assert.equal(resolved.body.resolution, 'uphold');
      const thread = (await call('delta', 'GET', `/claims/${ids.c3}`)).body.comments;
      assert.deepEqual(
        thread.map((c: { author: string }) => c.author),
        ['delta', 'fin', 'fin'],
      );
    });

    test('approved claims are paid through one settlement each; nothing is paid twice', async () => {
      const c1 = await pay(ids.c1!);
      assert.deepEqual([c1.amount, c1.claim, c1.kind], ['500.00', ids.c1, 'interim']);
      const twice = await call('fin', 'POST', `/claims/${ids.c1}/settlement`, {});
      assert.deepEqual([twice.status, twice.body.code], [409, 'already_settled']);
      const c3 = await pay(ids.c3!);
      assert.equal(c3.amount, '580.00');
      // 1,080.00 earned, 1,080.00 paid: nothing is due for another claim, and the final pays nothing.
      const more = await claim({ reference: 'C-4', claimed: '10.00' });
      assert.equal(outcome(more.body), 'rejected 0.00 of 0.00 due (nothing_due)');
      const final = await call('fin', 'POST', '/settlements', {
        agreement: 'CLM-1',
        rule: 'volume',
        periodStart: '2025-01-01',
        kind: 'final',
      });
      assert.deepEqual(
        [final.body.earned, final.body.paidBefore, final.body.amount],
        ['1080.00', '1080.00', '0.00'],
      );
      const view = (await call('delta', 'GET', `/claims/${ids.c1}`)).body;
      assert.equal(view.settlement.status, 'posted');
    });

    test('deductions: matched to what is due and offset, or disputed when nothing covers them', async () => {
      const matched = await call('fin', 'POST', '/deductions', {
        partner: 'D-9200',
        invoiceNumber: 'INV-78',
        amount: '100.00',
        currency: 'USD',
      });
      assert.equal(matched.status, 201, JSON.stringify(matched.body));
      assert.equal(matched.body.agreementId, 'CLM-2', 'the only rule and period with enough due');
      assert.equal(outcome(matched.body), 'approved 100.00 of 540.00 due (below_calculated)');
      const offset = await pay(matched.body.id);
      assert.match(offset.documentNumber, /^OF-2025-/);
      const unmatched = await call('fin', 'POST', '/deductions', {
        partner: 'D-9200',
        invoiceNumber: 'INV-79',
        amount: '5000.00',
        currency: 'USD',
      });
      assert.deepEqual(
        [unmatched.body.status, unmatched.body.reasonCode, unmatched.body.agreementId],
        ['disputed', 'unmatched_deduction', null],
      );
      const repeat = await call('fin', 'POST', '/deductions', {
        partner: 'D-9200',
        invoiceNumber: 'INV-79',
        amount: '5000.00',
        currency: 'USD',
      });
      assert.deepEqual([repeat.status, repeat.body.details[0].field], [409, 'invoiceNumber']);
      assert.equal(
        (
          await call('delta', 'POST', '/deductions', {
            partner: 'D-9200',
            invoiceNumber: 'X',
            amount: '1',
            currency: 'USD',
          })
        ).status,
        403,
      );
    });

    test('claims as a CSV file: good rows submitted, every bad row reported by line', async () => {
      const csv = [
        'agreement,rule,period_start,reference,claimed',
        'CLM-2,volume,2025-01-01,C-10,150.00',
        'CLM-2,volume,2025-02-30,C-11,10.00',
        'CLM-2,volume,2025-01-01,C-12,-5',
      ].join('\n');
      const answer = await call('delta', 'POST', '/claims/files', { csv });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.deepEqual(
        answer.body.submitted.map((c: { reference: string; status: string }) => `${c.reference} ${c.status}`),
        ['C-10 approved'],
      );
      assert.deepEqual(
        answer.body.problems.map((p: { line: number; field: string }) => `${p.line} ${p.field}`),
        ['3 periodStart', '4 claimed'],
      );
    });

    test('each partner sees its own claims; finance sets the tolerance', async () => {
      assert.equal((await call('d1002', 'GET', `/claims/${ids.c1}`)).status, 404);
      assert.equal((await call('d1002', 'GET', '/claims')).body.total, 0);
      assert.equal(
        (
          await call('d1002', 'POST', '/claims', {
            agreement: 'CLM-1',
            periodStart: '2025-01-01',
            reference: 'Z',
            claimed: '1',
          })
        ).status,
        404,
      );
      const own = (await call('delta', 'GET', '/claims?limit=100')).body;
      assert.ok(own.items.every((c: { partnerId: string }) => c.partnerId === 'D-9200'));
      const set = await call('fin', 'PUT', '/claim-settings', {
        toleranceAbsolute: '2.50',
        tolerancePercent: '1',
      });
      assert.equal(set.status, 200);
      assert.equal(
        (await call('delta', 'PUT', '/claim-settings', { toleranceAbsolute: '0', tolerancePercent: '0' }))
          .status,
        403,
      );
      const bad = await call('fin', 'PUT', '/claim-settings', {
        toleranceAbsolute: '-1',
        tolerancePercent: 'x',
      });
      assert.deepEqual(
        [bad.status, bad.body.details.map((d: { field: string }) => d.field)],
        [422, ['toleranceAbsolute', 'tolerancePercent']],
      );
    });

    test('evidence attached to a claim: kept, listed, downloaded as sent; another partner sees none of it', async () => {
      const attach = async (user: string, text: string, name = 'proof.txt') => {
        const form = new FormData();
        form.append('file', new Blob([text], { type: 'text/plain' }), name);
        const response = await fetch(`${server.origin}/api/v1/claims/${ids.c3}/attachments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.tokens[user]}` },
          body: form,
        });
        return {
          status: response.status,
          body: (await response.json()) as { id: string; sha256: string; size: number; code?: string },
        };
      };
      const attached = await attach('delta', 'invoice 5521, credited in full on 2025-03-02');
      assert.equal(attached.status, 201);
      assert.equal(attached.body.size, 44);
      const listed = (await call('delta', 'GET', `/claims/${ids.c3}/attachments`)).body.items;
      assert.deepEqual(
        listed.map((a: { fileName: string; uploadedBy: string }) => `${a.fileName} by ${a.uploadedBy}`),
        ['proof.txt by delta'],
      );
      const download = await fetch(
        `${server.origin}/api/v1/claims/${ids.c3}/attachments/${attached.body.id}`,
        {
          headers: { authorization: `Bearer ${server.tokens.fin}` },
        },
      );
      assert.equal(await download.text(), 'invoice 5521, credited in full on 2025-03-02');
      assert.equal((await attach('d1002', 'not mine')).status, 404);
      assert.equal((await call('d1002', 'GET', `/claims/${ids.c3}/attachments`)).status, 404);
      const large = await attach('delta', 'x'.repeat(10 * 1024 * 1024 + 1), 'large.bin');
      assert.deepEqual([large.status, large.body.code], [413, 'body_too_large']);
      assert.equal(
        (await call('delta', 'GET', `/claims/${ids.c3}/attachments`)).body.items.length,
        1,
        'nothing of it kept',
      );
    });
  });
}
