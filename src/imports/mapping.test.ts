// Proves that column mappings compute exact canonical values (expressions with the usual precedence, dates, templates, constants, joins, null markers, number formats), refuse an invalid mapping naming the JSON path at fault, and turn every per-row mapping failure into a problem naming the line and the field.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Decimal } from '../shared/decimal.ts';
import { DomainError } from '../shared/errors.ts';
import { openCsvSource } from './csv-source.ts';
import {
  compileDateFormat,
  compileExpression,
  compileTemplate,
  EXPRESSION_DEPTH_MAX,
  loadMapping,
  type Mapping,
  parseMapping,
} from './mapping.ts';
import type { SourceItem } from './source.types.ts';

const d = (text: string) => Decimal.parse(text);

function evaluate(expression: string, operands: Record<string, string> = {}): string {
  const compiled = compileExpression(expression);
  return compiled.evaluate(compiled.columns.map((c) => d(operands[c] ?? 'missing'))).toPlainString();
}

function invalid(expected: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.code, 'invalid_mapping');
    assert.match(error.message, expected);
    return true;
  };
}

describe('compileExpression', () => {
  test('multiplication binds tighter than addition and subtraction; both associate to the left', () => {
    assert.equal(evaluate('1 + 2 * 3'), '7');
    assert.equal(evaluate('2 * 3 + 1'), '7');
    assert.equal(evaluate('10 - 3 - 2'), '5');
    assert.equal(evaluate('10 - 2 * 3 + 4'), '8');
  });

  test('parentheses override precedence, nested too', () => {
    assert.equal(evaluate('(1 + 2) * 3'), '9');
    assert.equal(evaluate('2 * (3 - (4 - 5))'), '8');
    assert.equal(evaluate('((((7))))'), '7');
  });

  test('negative numbers: unary minus and plus, the Unicode minus sign, negative results', () => {
    assert.equal(evaluate('-2 * -3'), '6');
    assert.equal(evaluate('-(1 + 2)'), '-3');
    assert.equal(evaluate('2 - -3'), '5');
    assert.equal(evaluate('--2'), '2');
    assert.equal(evaluate('+2'), '2');
    assert.equal(evaluate('1 \u2212 3'), '-2');
    assert.equal(evaluate('-x', { x: '-1.50' }), '1.5');
  });

  test('arithmetic is exact decimal: no binary floating point error', () => {
    assert.equal(evaluate('0.1 + 0.2'), '0.3');
    assert.equal(evaluate('1.1 * 1.1'), '1.21');
    assert.equal(evaluate('a * b * (1 - c)', { a: '14.00', b: '12', c: '0.15' }), '142.8');
    assert.equal(
      evaluate('99999999999999999999 * 10 + 0.000000000001'),
      '999999999999999999990.000000000001',
    );
  });

  test('column references: bare names, alias.column, backticks for any name; each listed once', () => {
    const compiled = compileExpression('`Unit Price` * qty + order.freight * qty - `Unit Price`');
    assert.deepEqual(compiled.columns, ['Unit Price', 'qty', 'order.freight']);
    assert.equal(compiled.evaluate([d('2.50'), d('4'), d('0.25')]).toPlainString(), '8.5');
    assert.deepEqual(compileExpression('Menge * Stückpreis').columns, ['Menge', 'Stückpreis']);
  });

  test('bad syntax is an invalid_mapping error that names the expression and the position', () => {
    const cases: [string, RegExp][] = [
      ['1 +', /expression "1 \+": expected a number, a column or "\(" but found the end at position 4/],
      ['(1 + 2', /expression "\(1 \+ 2": expected "\)" but found the end/],
      ['1 2', /expression "1 2": unexpected the number 2 at position 3/],
      ['a / b', /expression "a \/ b": division is not supported/],
      ['2x', /expression "2x": unexpected "x" after the number 2/],
      ['1. + 2', /a digit must follow the decimal point/],
      ['`Unit Price * 2', /the backtick is never closed/],
      ['a $ b', /unexpected "\$" at position 3/],
      ['* 3', /expected a number, a column or "\(" but found "\*" at position 1/],
      ['', /is empty/],
      [`${'('.repeat(EXPRESSION_DEPTH_MAX + 1)}1${')'.repeat(EXPRESSION_DEPTH_MAX + 1)}`, /nested more than/],
    ];
    for (const [expression, expected] of cases) {
      assert.throws(() => compileExpression(expression), invalid(expected), expression);
    }
  });
});

describe('compileDateFormat', () => {
  test('reads the tokens and literal separators and writes ISO dates', () => {
    assert.equal(compileDateFormat('yyyy-MM-dd HH:mm:ss.SSS')('1996-07-04 00:00:00.000'), '1996-07-04');
    assert.equal(compileDateFormat('d/M/yyyy')('4/7/1996'), '1996-07-04');
    assert.equal(compileDateFormat('dd.MM.yyyy')('31.12.2025'), '2025-12-31');
    assert.equal(compileDateFormat('yyyyMMdd')('20250102'), '2025-01-02');
    assert.equal(compileDateFormat("yyyy-MM-dd'T'HH:mm:ss")('2025-01-02T23:59:59'), '2025-01-02');
    assert.equal(compileDateFormat('M/d/yyyy')('12/31/2024'), '2024-12-31');
  });

  test('refuses impossible dates and times, and text that does not match the whole format', () => {
    const iso = compileDateFormat('yyyy-MM-dd');
    assert.equal(iso('1996-02-29'), '1996-02-29');
    assert.equal(iso('1997-02-29'), undefined);
    assert.equal(iso('2025-04-31'), undefined);
    assert.equal(iso('2025-13-01'), undefined);
    assert.equal(iso('2025-00-10'), undefined);
    assert.equal(iso('2025-1-10'), undefined);
    assert.equal(iso('1996-07-04 00:00:00.000'), undefined);
    assert.equal(compileDateFormat('yyyy-MM-dd HH:mm')('2025-01-01 24:00'), undefined);
    assert.equal(compileDateFormat('yyyy-MM-dd HH:mm')('2025-01-01 10:60'), undefined);
  });

  test('refuses a format with an unknown letter, a repeated or missing part', () => {
    assert.throws(() => compileDateFormat('YYYY-MM-DD'), invalid(/unknown letter "Y"/));
    assert.throws(() => compileDateFormat('yyyy-MM'), invalid(/needs a year \(yyyy\), a month/));
    assert.throws(() => compileDateFormat('yyyy-MM-dd-d'), invalid(/the day appears twice/));
    assert.throws(() => compileDateFormat("yyyy-MM-dd'T"), invalid(/a quote is never closed/));
  });
});

describe('compileTemplate', () => {
  test('splits literal text and placeholders; doubled braces are literal', () => {
    assert.deepEqual(compileTemplate('{orderID}-{order.line no}{{x}}'), [
      { type: 'column', column: 'orderID' },
      { type: 'text', text: '-' },
      { type: 'column', column: 'order.line no' },
      { type: 'text', text: '{x}' },
    ]);
  });

  test('refuses unbalanced braces, empty placeholders and templates without a placeholder', () => {
    assert.throws(() => compileTemplate('{a'), invalid(/is never closed/));
    assert.throws(() => compileTemplate('a}'), invalid(/has no "\{"/));
    assert.throws(() => compileTemplate('{}-x'), invalid(/bad placeholder/));
    assert.throws(() => compileTemplate('constant'), invalid(/no \{column\} placeholder/));
  });
});

const validTransactions = {
  kind: 'transactions',
  fields: {
    id: 'id',
    date: 'date',
    partner: 'partner',
    sku: 'sku',
    quantity: 'quantity',
    amount: 'amount',
    currency: { value: 'USD' },
  },
};

describe('parseMapping', () => {
  test('fills in the defaults of the csv settings and normalizes field sources', () => {
    const mapping = parseMapping(validTransactions, 'm.json');
    assert.equal(mapping.kind, 'transactions');
    assert.deepEqual(mapping.csv, {
      delimiter: ',',
      quote: '"',
      nullValues: [],
      extraFields: 'error',
      relaxQuotes: false,
      encoding: 'utf-8',
      skipLines: 0,
      decimalSeparator: '.',
      groupSeparator: '',
    });
    assert.deepEqual(mapping.fields.id, { type: 'column', column: 'id', fromEnd: false });
    assert.deepEqual(mapping.fields.currency, { type: 'value', value: 'USD' });
  });

  test('a join inherits the main csv settings except extraFields', () => {
    const mapping = parseMapping({
      ...validTransactions,
      csv: { delimiter: ';', nullValues: ['NULL'], extraFields: 'ignore' },
      joins: [{ name: 'o', file: 'o.csv', key: 'k', on: 'id', csv: { delimiter: '|' } }],
    });
    assert.equal(mapping.joins[0]?.csv.delimiter, '|');
    assert.deepEqual(mapping.joins[0]?.csv.nullValues, ['NULL']);
    assert.equal(mapping.joins[0]?.csv.extraFields, 'error');
  });

  test('every fault is named by its JSON path', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...validTransactions, kind: 'invoices' }, /kind: must be one of partners, products, transactions/],
      [
        { ...validTransactions, fields: { ...validTransactions.fields, discount: 'd' } },
        /fields\.discount: is not a transactions field/,
      ],
      [
        { kind: 'transactions', fields: { id: 'id' } },
        /fields\.date: is required for transactions; .*fields\.currency: is required/,
      ],
      [
        { ...validTransactions, fields: { ...validTransactions.fields, amount: { column: 'a', round: 2 } } },
        /fields\.amount\.round: is only allowed with "expression"/,
      ],
      [
        {
          ...validTransactions,
          fields: { ...validTransactions.fields, amount: { column: 'a', value: '1' } },
        },
        /fields\.amount: has "column" and "value"; give exactly one/,
      ],
      [
        { ...validTransactions, fields: { ...validTransactions.fields, amount: { expression: 'a / 2' } } },
        /fields\.amount: expression "a \/ 2": division/,
      ],
      [
        { ...validTransactions, fields: { ...validTransactions.fields, amount: 5 } },
        /fields\.amount: must be a column name or an object/,
      ],
      [
        {
          ...validTransactions,
          fields: { ...validTransactions.fields, date: { column: 'd', format: 'DD/MM' } },
        },
        /fields\.date: date format "DD\/MM": unknown letter "D"/,
      ],
      [{ ...validTransactions, csv: { delimiter: ';;' } }, /csv\.delimiter: must be exactly one character/],
      [{ ...validTransactions, csv: { extraField: 'ignore' } }, /csv: Unrecognized key: "extraField"/],
      [{ ...validTransactions, joins: [{ name: 'o', file: 'o.csv', key: 'k' }] }, /joins\[0\]\.on: /],
      [
        {
          ...validTransactions,
          joins: [
            { name: 'o', file: 'a.csv', key: 'k', on: 'id' },
            { name: 'o', file: 'b.csv', key: 'k', on: 'id' },
          ],
        },
        /joins\[1\]\.name: "o" is used twice/,
      ],
      [{ ...validTransactions, attributes: { colour: 'c' } }, /attributes: transactions have no attributes/],
      ['not an object', /\(top level\): /],
    ];
    for (const [input, expected] of cases) {
      assert.throws(() => parseMapping(input, 'm.json'), invalid(expected), JSON.stringify(input));
    }
  });

  test('loadMapping names the file for bad JSON and a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mapping-test-'));
    writeFileSync(join(dir, 'bad.json'), '{ "kind": ');
    await assert.rejects(
      loadMapping(join(dir, 'bad.json')),
      invalid(/bad\.json: invalid mapping: \(file\): is not valid JSON/),
    );
    await assert.rejects(loadMapping(join(dir, 'absent.json')), { code: 'file_not_readable' });
  });

  test('the Northwind mappings load', async () => {
    for (const kind of ['partners', 'products', 'transactions']) {
      const mapping = await loadMapping(
        new URL(`../../mappings/northwind/${kind}.json`, import.meta.url).pathname,
      );
      assert.equal(mapping.kind, kind);
    }
  });
});

describe('mapped sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapped-source-test-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  write(
    'orders.csv',
    'orderID,customer,orderDate,note\n1,C1,2025-01-02 10:00:00.000,plain\n2,C2,NULL,a, b, c\n3,C3,2025-02-30 00:00:00.000,x\n',
  );

  const mapping = (fields: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Mapping =>
    parseMapping(
      {
        kind: 'transactions',
        csv: { nullValues: ['NULL'] },
        joins: [{ name: 'order', file: 'orders.csv', key: 'orderID', on: 'orderID', extraFields: 'ignore' }],
        fields: {
          id: { template: '{orderID}-{line}' },
          date: { column: 'order.orderDate', format: 'yyyy-MM-dd HH:mm:ss.SSS' },
          partner: 'order.customer',
          sku: 'sku',
          quantity: 'qty',
          amount: { expression: '`Unit Price` * qty * (1 - discount)', round: 2 },
          currency: { value: 'EUR' },
          ...fields,
        },
        ...extra,
      },
      'test mapping',
    );

  async function read(file: string, m: Mapping): Promise<SourceItem[]> {
    const source = await openCsvSource(file, { kind: 'transactions', mapping: m });
    const items: SourceItem[] = [];
    for await (const item of source.items()) items.push(item);
    return items;
  }

  test('computes every kind of field source', async () => {
    const file = write(
      'lines-1.csv',
      'orderID,line,sku,qty,Unit Price,discount\n1,1,S1,3,2.345,0\n1,2,S2,7,9.99,0.15\n',
    );
    const items = await read(file, mapping());
    assert.deepEqual(
      items.map((i) => (i.ok ? i.row.values : i.problem)),
      [
        {
          id: '1-1',
          date: '2025-01-02',
          partner: 'C1',
          sku: 'S1',
          quantity: '3',
          amount: '7.04', // 7.035 rounds half away from zero
          currency: 'EUR',
          document_type: '',
          invoice_number: '',
          ship_to: '',
          end_customer: '',
          unit_price: '',
          list_price: '',
          cost: '',
        },
        {
          id: '1-2',
          date: '2025-01-02',
          partner: 'C1',
          sku: 'S2',
          quantity: '7',
          amount: '59.44', // 9.99 × 7 × 0.85 = 59.4405
          currency: 'EUR',
          document_type: '',
          invoice_number: '',
          ship_to: '',
          end_customer: '',
          unit_price: '',
          list_price: '',
          cost: '',
        },
      ],
    );
  });

  test('rounds negative amounts half away from zero, and without round keeps the exact value', async () => {
    const file = write('lines-2.csv', 'orderID,line,sku,qty,Unit Price,discount\n1,1,S1,-3,2.345,0\n');
    const [rounded] = await read(file, mapping());
    assert.ok(rounded?.ok);
    assert.equal(rounded.row.values.amount, '-7.04');
    const [exact] = await read(
      file,
      mapping({ amount: { expression: '`Unit Price` * qty * (1 - discount)' } }),
    );
    assert.ok(exact?.ok);
    assert.equal(exact.row.values.amount, '-7.035');
  });

  test('each per-row failure is a problem naming the line and the canonical field', async () => {
    const file = write(
      'lines-3.csv',
      [
        'orderID,line,sku,qty,Unit Price,discount',
        '9,1,S1,1,1.00,0', // 2 no such order
        '2,1,S1,1,1.00,0', // 3 order date NULL -> '' (absent, not an error here)
        '3,1,S1,1,1.00,0', // 4 order date 2025-02-30
        '1,1,S1,x,1.00,0', // 5 qty not a number in the expression
        '1,,S1,1,1.00,0', // 6 template placeholder empty
        '1,1,S1,1,1.00', // 7 one field short
        '1,1,S1,1,1.00,0,surplus', // 8 one field too many (main file: extraFields error)
        '1,1,S1,1,0.00001,0.00001', // 9 ten decimal places, rounded to 2: fine
      ].join('\n'),
    );
    const items = await read(file, mapping());
    assert.deepEqual(
      items.map((i) =>
        i.ok ? [i.row.line, 'ok', i.row.values.date] : [i.problem.line, i.problem.code, i.problem.field],
      ),
      [
        [2, 'join_key_not_found', 'date'],
        [3, 'ok', ''],
        [4, 'bad_date', 'date'],
        [5, 'bad_number', 'amount'],
        [6, 'missing_value', 'id'],
        [7, 'wrong_field_count', undefined],
        [8, 'wrong_field_count', undefined],
        [9, 'ok', '2025-01-02'],
      ],
    );
    const messages = items.flatMap((i) => (i.ok ? [] : [i.problem.message]));
    assert.equal(messages[0], `orderID "9" matches no orderID in ${join(dir, 'orders.csv')} (join "order")`);
    assert.equal(
      messages[1],
      'order.orderDate "2025-02-30 00:00:00.000" is not a date in the format yyyy-MM-dd HH:mm:ss.SSS',
    );
    assert.equal(
      messages[2],
      'qty "x" is not a number, so `Unit Price` * qty * (1 - discount) cannot be computed',
    );
    assert.equal(messages[3], 'line is empty, so the template {orderID}-{line} cannot be filled');
    assert.match(
      messages[5] ?? '',
      /a mapping with csv\.extraFields "ignore" reads such records by position/,
    );
  });

  test('several problems in one row are all described in its one problem', async () => {
    const file = write('lines-4.csv', 'orderID,line,sku,qty,Unit Price,discount\n3,,S1,x,1.00,0\n');
    const [item] = await read(file, mapping());
    assert.ok(item !== undefined && !item.ok);
    assert.equal(item.problem.code, 'missing_value');
    assert.equal(item.problem.field, 'id');
    assert.match(item.problem.message, /\(also date: .* \[bad_date\]; amount: .* \[bad_number\]\)$/);
  });

  test('an expression result with more than 12 decimal places and no round is expression_failed', async () => {
    const file = write(
      'lines-5.csv',
      'orderID,line,sku,qty,Unit Price,discount\n1,1,S1,1.00001,1.00001,0.00001\n',
    );
    const [item] = await read(
      file,
      mapping({ amount: { expression: '`Unit Price` * qty * (1 - discount)' } }),
    );
    assert.ok(item !== undefined && !item.ok);
    assert.equal(item.problem.code, 'expression_failed');
    assert.equal(item.problem.field, 'amount');
  });

  test('columns the headers lack are missing_column errors naming the mapping path, before any row', async () => {
    const file = write('lines-6.csv', 'orderID,line,sku,qty,Unit Price\n1,1,S1,1,1.00\n');
    await assert.rejects(read(file, mapping({ partner: 'order.client' })), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'missing_column');
      assert.match(error.message, /orders\.csv has no column "client" \(used by fields\.partner\)/);
      assert.match(error.message, /lines-6\.csv has no column "discount" \(used by fields\.amount\)/);
      return true;
    });
  });

  test('a mapping for another kind is refused', async () => {
    const file = write('lines-7.csv', 'orderID\n1\n');
    await assert.rejects(
      openCsvSource(file, { kind: 'partners', mapping: mapping() }),
      invalid(/the mapping is for transactions, but partners are being imported/),
    );
  });

  test('null markers, number formats, fromEnd columns and chained joins', async () => {
    write('customers.csv', 'id;group\nC1;G1\n');
    write('orders-eu.csv', 'orderID;customer\n1;C1\n');
    const file = write(
      'lines-eu.csv',
      'Beleg;Artikel;Menge;Betrag;Bemerkung;Land\n1;S1;1.000;1.234,50;ok;DE\n1;S2;-2;-0,5;ein; zwei;AT\n1;S3;1;n/a;;CH\n',
    );
    const m = parseMapping({
      kind: 'transactions',
      csv: {
        delimiter: ';',
        nullValues: ['n/a'],
        extraFields: 'ignore',
        decimalSeparator: ',',
        groupSeparator: '.',
      },
      joins: [
        { name: 'order', file: 'orders-eu.csv', key: 'orderID', on: 'Beleg' },
        { name: 'customer', file: 'customers.csv', key: 'id', on: 'order.customer' },
      ],
      fields: {
        id: { template: '{Beleg}/{Artikel}' },
        date: { value: '2025-01-01' },
        partner: 'customer.id',
        sku: 'Artikel',
        quantity: 'Menge',
        amount: 'Betrag',
        unit_price: { expression: 'Betrag * 2', round: 2 },
        currency: { value: 'EUR' },
        ship_to: { column: 'Land', fromEnd: true },
        end_customer: 'customer.group',
      },
    });
    const items = await read(file, m);
    assert.deepEqual(
      items.map((i) =>
        i.ok
          ? [
              i.row.values.id,
              i.row.values.quantity,
              i.row.values.amount,
              i.row.values.unit_price,
              i.row.values.ship_to,
              i.row.values.end_customer,
            ]
          : [i.problem.line, i.problem.code, i.problem.field],
      ),
      [
        ['1/S1', '1000', '1234.50', '2469.00', 'DE', 'G1'],
        ['1/S2', '-2', '-0.5', '-1.00', 'AT', 'G1'],
        [4, 'bad_number', 'unit_price'],
      ],
    );
    const last = items[2];
    assert.ok(last !== undefined && !last.ok);
    assert.equal(last.problem.message, 'Betrag is empty, so Betrag * 2 cannot be computed');
  });

  test('a joined file with an unreadable line or a duplicated key is refused or reported', async () => {
    write('orders-bad.csv', 'orderID,customer\n1,C1\n2,C2,extra\n');
    const file = write('lines-8.csv', 'orderID,line,sku,qty,Unit Price,discount\n1,1,S1,1,1.00,0\n');
    const joinTo = (name: string, extraFields: string) =>
      mapping({}, { joins: [{ name: 'order', file: name, key: 'orderID', on: 'orderID', extraFields }] });
    await assert.rejects(read(file, joinTo('orders-bad.csv', 'error')), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'invalid_join_file');
      assert.equal(error.problems[0]?.line, 3);
      assert.equal(error.problems[0]?.code, 'wrong_field_count');
      return true;
    });
    write(
      'orders-dup.csv',
      'orderID,customer,orderDate\n1,C1,2025-01-01 00:00:00.000\n1,C9,2025-01-01 00:00:00.000\n',
    );
    const [item] = await read(file, joinTo('orders-dup.csv', 'error'));
    assert.ok(item !== undefined && !item.ok);
    assert.equal(item.problem.code, 'join_key_duplicated');
    assert.match(item.problem.message, /matches 2 rows of .*orders-dup\.csv \(lines 2, 3\)/);
  });
});
