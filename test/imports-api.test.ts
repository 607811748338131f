// Files uploaded over HTTP, on both stores: the same import as the command line
// (every bad row reported by line and field, all or nothing unless skipInvalid,
// idempotent), the uploader's role checked, an Idempotency-Key honoured on the
// upload's content, and the import history readable.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import writeXlsxFile from 'write-excel-file/node';
import { type Answer, demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const HEADER = 'id,date,partner,sku,quantity,amount,currency';
const good = [
  'UP-1,2025-03-03,D-1002,PT-100,2,298.00,USD',
  'UP-2,2025-03-04,D-1002,HT-200,10,240.00,USD',
  'UP-3,2025-03-05,D-1001,PT-110,1,179.00,USD',
];
const bad = 'UP-4,2025-02-30,D-1002,PT-100,1,149.00,USD';
const csv = (...rows: string[]) => `${HEADER}\n${rows.join('\n')}\n`;

for (const target of storeTargets()) {
  describe(`file uploads (${target.name})`, () => {
    const server = demoServer(target, {
      fin: { role: 'finance' },
      carla: { role: 'commercial' },
      sam: { role: 'sales' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
    });
    const { tokens } = server;
    const upload = async (
      user: string,
      parts: Record<string, string>,
      file?: { name: string; text: string },
      key?: string,
    ): Promise<Answer> => {
      const form = new FormData();
      for (const [name, value] of Object.entries(parts)) form.append(name, value);
      if (file) form.append('file', new Blob([file.text], { type: 'text/csv' }), file.name);
      const response = await fetch(`${server.origin}/api/v1/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[user]}`, ...(key ? { 'idempotency-key': key } : {}) },
        body: form,
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
    };
    const stored = async () =>
      (await server.store.db.selectFrom('transactions').select('id').where('id', 'like', 'UP-%').execute())
        .length;

    test('a file with a bad row imports nothing and names the line and field', async () => {
      const answer = await upload(
        'fin',
        { kind: 'transactions' },
        { name: 'march.csv', text: csv(...good, bad) },
      );
      assert.equal(answer.status, 422);
      assert.equal(answer.body.code, 'invalid_file');
      assert.deepEqual(
        answer.body.details.map((d: { field: string }) => d.field),
        ['line 5.date'],
      );
      assert.equal(await stored(), 0);
    });

    test('skipInvalid keeps the good rows; the same file again adds nothing', async () => {
      const first = await upload(
        'fin',
        { kind: 'transactions', skipInvalid: 'true' },
        { name: 'march.csv', text: csv(...good, bad) },
      );
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.fileName, 'march.csv');
      assert.deepEqual([first.body.read, first.body.imported, first.body.rejected], [4, 3, 1]);
      assert.equal(first.body.problems[0].line, 5);
      assert.equal(await stored(), 3);
      const again = await upload(
        'fin',
        { kind: 'transactions', skipInvalid: 'true' },
        { name: 'march.csv', text: csv(...good, bad) },
      );
      assert.deepEqual([again.body.imported, again.body.duplicates], [0, 3]);
      assert.equal(await stored(), 3);
    });

    test('roles: finance imports lines, the commercial team master data, others nothing', async () => {
      const lines = { name: 'april.csv', text: csv('UP-9,2025-04-01,D-1002,PT-100,1,149.00,USD') };
      assert.equal((await upload('sam', { kind: 'transactions' }, lines)).status, 403);
      assert.equal(
        (await upload('d1002', { kind: 'products' }, lines)).status,
        403,
        'a partner sends sales, not products',
      );
      assert.equal((await upload('carla', { kind: 'transactions' }, lines)).status, 403);
      assert.equal(await stored(), 3, 'nothing was recorded by the refused uploads');
      const products = await upload(
        'carla',
        { kind: 'products' },
        { name: 'products.csv', text: 'sku,name,category\nUP-P1,Uploaded product,hand-tools\n' },
      );
      assert.equal(products.status, 201, JSON.stringify(products.body));
      assert.equal(products.body.imported, 1);
    });

    test('bad requests: no kind, no file, a mapping that is not JSON, not multipart', async () => {
      const noKind = await upload('fin', {}, { name: 'x.csv', text: csv(...good) });
      assert.equal(noKind.status, 400);
      assert.equal(noKind.body.details[0].field, 'kind');
      const noFile = await upload('fin', { kind: 'transactions' });
      assert.equal(noFile.body.details[0].field, 'file');
      const badMapping = await upload(
        'fin',
        { kind: 'transactions', mapping: '{not json' },
        { name: 'x.csv', text: csv(...good) },
      );
      assert.equal(badMapping.status, 400);
      assert.equal(badMapping.body.details[0].field, 'mapping');
      const json = await fetch(`${server.origin}/api/v1/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.fin}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(json.status, 415);
    });

    test('an Idempotency-Key replays the same upload and refuses another under it', async () => {
      const file = { name: 'may.csv', text: csv('UP-20,2025-05-02,D-1002,PT-100,1,149.00,USD') };
      const first = await upload('fin', { kind: 'transactions' }, file, 'may-upload');
      assert.equal(first.status, 201);
      const replay = await upload('fin', { kind: 'transactions' }, file, 'may-upload');
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replay.body, first.body);
      const other = await upload(
        'fin',
        { kind: 'transactions' },
        { name: 'may.csv', text: csv('UP-21,2025-05-03,D-1002,PT-100,1,149.00,USD') },
        'may-upload',
      );
      assert.equal(other.status, 409);
      assert.equal(other.body.code, 'idempotency_key_reused');
      assert.equal(await stored(), 4);
    });

    test('the import history, newest first; internal only', async () => {
      const call = async (user: string, path: string) => {
        const response = await fetch(`${server.origin}/api/v1${path}`, {
          headers: { authorization: `Bearer ${tokens[user]}` },
        });
        // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
        return { status: response.status, body: (await response.json()) as any };
      };
      const history = await call('sam', '/imports?kind=transactions&limit=2');
      assert.equal(history.status, 200);
      assert.deepEqual(
        history.body.items.map((i: { fileName: string; imported: number }) => `${i.fileName} ${i.imported}`),
        ['may.csv 1', 'march.csv 0'],
      );
      const one = await call('sam', `/imports/${history.body.items[0].id}`);
      assert.equal(one.body.fileName, 'may.csv');
      assert.equal((await call('sam', '/imports/999999')).status, 404);
      assert.equal((await call('d1002', '/imports')).status, 403);
    });

    test("a partner's sales report: its own lines only, kept apart by their ids", async () => {
      const report = {
        name: 'coastal-sales.csv',
        text: csv('SR-1,2025-06-02,D-1002,PT-100,3,447.00,USD', 'SR-2,2025-06-03,D-1001,PT-100,1,149.00,USD'),
      };
      const refused = await upload('d1002', { kind: 'transactions' }, report);
      assert.equal(refused.status, 422);
      assert.deepEqual(
        refused.body.details.map((d: { field: string; code: string }) => `${d.field} ${d.code}`),
        ['line 3.partner unknown_partner'],
        "another partner's line is refused as unknown",
      );
      const kept = await upload('d1002', { kind: 'transactions', skipInvalid: 'true' }, report);
      assert.deepEqual([kept.status, kept.body.imported, kept.body.rejected], [201, 1, 1]);
      const stored = await server.store.db
        .selectFrom('transactions')
        .select(['id', 'partner_id'])
        .where('id', 'like', '%SR-%')
        .execute();
      assert.deepEqual(stored, [{ id: 'D-1002:SR-1', partner_id: 'D-1002' }]);
    });

    test('a spreadsheet (.xlsx) imports as its first sheet: dates as days, numbers as the file keeps them', async () => {
      const sheet = await writeXlsxFile([
        ['id', 'date', 'partner', 'sku', 'quantity', 'amount', 'currency'].map((value) => ({ value })),
        [
          { value: 'XL-1' },
          { value: new Date(Date.UTC(2025, 2, 3)), type: Date, format: 'yyyy-mm-dd' },
          { value: 'D-1002' },
          { value: 'PT-100' },
          { value: 3, type: Number },
          { value: 447.5, type: Number },
          { value: 'USD' },
        ],
      ] as never).toBuffer();
      const form = new FormData();
      form.append('kind', 'transactions');
      form.append('file', new Blob([new Uint8Array(sheet)]), 'march.xlsx');
      const response = await fetch(`${server.origin}/api/v1/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.tokens.fin}` },
        body: form,
      });
      const body = (await response.json()) as { imported: number; fileName: string };
      assert.equal(response.status, 201, JSON.stringify(body));
      assert.deepEqual([body.imported, body.fileName], [1, 'march.xlsx']);
      const line = await server.store.db
        .selectFrom('transactions')
        .select(['line_date', 'quantity', 'amount'])
        .where('id', '=', 'XL-1')
        .executeTakeFirstOrThrow();
      assert.deepEqual([line.line_date, line.quantity, line.amount], ['2025-03-03', '3', '447.5']);
      const broken = new FormData();
      broken.append('kind', 'transactions');
      broken.append('file', new Blob(['not a spreadsheet']), 'broken.xlsx');
      const refused = await fetch(`${server.origin}/api/v1/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.tokens.fin}` },
        body: broken,
      });
      assert.equal(refused.status, 422);
      assert.equal(((await refused.json()) as { code: string }).code, 'invalid_spreadsheet');
    });
  });
}
