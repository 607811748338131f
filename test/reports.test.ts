// Finance reports and partner statements over HTTP, on both stores, with figures
// checked by hand: Echo Supply sells 54,000.00 in the first quarter at 2%, so it
// earns 1,080.00; the March posting accrues all of it; 140.00 is paid on account;
// so the ledger holds 940.00 of liability, and Echo's balance is 940.00. Each
// report comes as JSON, CSV and XLSX (the statement also as PDF) with the same figures.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { PDFDocument } from 'pdf-lib';
import { demoServer, partnerWithFirstQuarter } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const today = new Date().toISOString().slice(0, 10);

for (const target of storeTargets()) {
  describe(`reports and statements (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      cole: { role: 'commercial' },
      fin: { role: 'finance' },
      fiona: { role: 'finance' },
      aud: { role: 'auditor' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
    });
    const { call } = server;
    const download = async (user: string, path: string) => {
      const response = await fetch(`${server.origin}/api/v1${path}`, {
        headers: { authorization: `Bearer ${server.tokens[user]}` },
      });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        bytes: new Uint8Array(await response.arrayBuffer()),
      };
    };

    before(async () => {
      await partnerWithFirstQuarter(
        server,
        { id: 'D-9300', name: 'Echo Supply', user: 'echo' },
        { 'REP-1': '2' },
      );
      assert.equal((await call('fin', 'POST', '/accrual-postings', { period: '2025-03' })).status, 201);
      const interim = await call('fin', 'POST', '/settlements', {
        agreement: 'REP-1',
        rule: 'volume',
        periodStart: '2025-01-01',
        kind: 'interim',
        amount: '140.00',
      });
      await call('fiona', 'POST', `/settlements/${interim.body.id}/transitions`, { action: 'approve' });
      await call('fin', 'POST', `/settlements/${interim.body.id}/transitions`, { action: 'post' });
      const claim = await call('echo', 'POST', '/claims', {
        agreement: 'REP-1',
        periodStart: '2025-01-01',
        reference: 'E-C1',
        claimed: '1000.00',
      });
      assert.equal(claim.body.status, 'partially_approved', '940.00 due');
    });

    test('accrual liability: accrued less paid, and what is earned but not posted', async () => {
      const report = (await call('aud', 'GET', `/reports/accrual-liability?asOf=${today}&groupBy=agreement`))
        .body;
      const row = report.rows.find((r: { agreement: string }) => r.agreement === 'REP-1');
      assert.deepEqual(
        [row.earned, row.accrued, row.paid, row.liability, row.unposted],
        ['1080.00', '1080.00', '140.00', '940.00', '0.00'],
      );
      const byPartner = (await call('fin', 'GET', `/reports/accrual-liability?asOf=${today}&groupBy=partner`))
        .body;
      assert.equal(
        byPartner.rows.find((r: { partner: string }) => r.partner === 'D-9300').liability,
        '940.00',
      );
      assert.equal((await call('carla', 'GET', '/reports/accrual-liability')).status, 403);
    });

    test('the same figures as CSV and as XLSX', async () => {
      const csv = await download('fin', `/reports/accrual-liability?asOf=${today}&format=csv`);
      const text = new TextDecoder().decode(csv.bytes);
      assert.equal(text.split('\n')[0], 'agreement,partner,currency,earned,accrued,paid,liability,unposted');
      assert.ok(text.includes('REP-1,D-9300,USD,1080.00,1080.00,140.00,940.00,0.00'));
      const xlsx = await download('fin', `/reports/accrual-liability?asOf=${today}&format=xlsx`);
      assert.equal(xlsx.type, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      const files = unzipSync(xlsx.bytes);
      const sheet = strFromU8(files['xl/worksheets/sheet1.xml']!);
      assert.match(sheet, /<v>940<\/v>/, 'the liability as a number cell');
      const strings = strFromU8(files['xl/sharedStrings.xml'] ?? new Uint8Array());
      assert.match(sheet + strings, /REP-1/);
    });

    test('payouts and claims aging', async () => {
      const payouts = (await call('fin', 'GET', `/reports/payouts?from=${today}&to=${today}`)).body;
      const paid = payouts.rows.filter((r: { agreement: string }) => r.agreement === 'REP-1');
      assert.deepEqual(
        paid.map((r: { kind: string; amount: string }) => `${r.kind} ${r.amount}`),
        ['interim 140.00'],
      );
      const aging = (await call('fin', 'GET', `/reports/claims-aging?asOf=${today}`)).body;
      const open = aging.rows.find((r: { partner: string }) => r.partner === 'D-9300');
      assert.deepEqual(
        [open.status, open.age_days, open.bucket, open.approved],
        ['partially_approved', '0', '0-30', '940.00'],
      );
    });

    test("a partner's statement: earned, accrued, claimed, paid and balance; its own only", async () => {
      const statement = (await call('echo', 'GET', `/partners/D-9300/statement?from=2025-01-01&to=${today}`))
        .body;
      const [row, total] = statement.rows;
      assert.deepEqual(
        [row.agreement, row.earned, row.accrued, row.claimed, row.paid, row.balance],
        ['REP-1', '1080.00', '1080.00', '1000.00', '140.00', '940.00'],
      );
      assert.deepEqual([total.agreement, total.balance], ['Total', '940.00']);
      assert.equal(
        (await call('d1002', 'GET', `/partners/D-9300/statement?from=2025-01-01&to=${today}`)).status,
        404,
      );
      const pdf = await download('echo', `/partners/D-9300/statement?from=2025-01-01&to=${today}&format=pdf`);
      assert.equal(pdf.status, 200, new TextDecoder().decode(pdf.bytes));
      assert.equal(pdf.type, 'application/pdf');
      const document = await PDFDocument.load(pdf.bytes);
      assert.equal(document.getTitle(), `Statement D-9300 2025-01-01 to ${today}`);
      assert.equal(document.getSubject(), `Echo Supply (D-9300), as of ${today}`);
      const csv = new TextDecoder().decode(
        (await download('echo', `/partners/D-9300/statement?from=2025-01-01&to=${today}&format=csv`)).bytes,
      );
      assert.match(
        csv,
        /^agreement,name,rule,period_start,period_end,currency,earned,accrued,claimed,paid,balance\n/,
      );
    });
  });
}
