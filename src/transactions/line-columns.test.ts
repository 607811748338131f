// The columns of lines hold each value exactly or say they cannot: a line's day is
// the calendar's, a quantity or amount read into integers of 1/10,000 and written
// back at its scale is the same decimal, and a value with more decimals or beyond
// a double's exact integers makes the columns inexact rather than rounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LINE_VALUE_SCALE, LineColumns, LineColumnsBuilder, scaledText } from './line-columns.ts';

/** A decimal with up to `places` decimals, as an import keeps it (sign, digits, point). */
const decimalText = (places: number) =>
  fc
    .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: places }))
    .map(([negative, digits, scale]) => {
      const text = digits.toString().padStart(scale + 1, '0');
      const value = scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
      return negative && digits !== 0n ? `-${value}` : value;
    });

test('a value kept and written back at its own scale is the same decimal, or the columns are inexact', () => {
  fc.assert(
    fc.property(decimalText(LINE_VALUE_SCALE), decimalText(LINE_VALUE_SCALE), (quantity, amount) => {
      const builder = new LineColumnsBuilder(1);
      builder.add('P1', 'S1', '2025-03-01', quantity, amount, 'USD');
      const part = builder.finish();
      const exact = (text: string) => {
        const places = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
        const digits = BigInt(text.replace('-', '').replace('.', ''));
        return digits * 10n ** BigInt(LINE_VALUE_SCALE - places) < 2n ** 53n;
      };
      assert.equal(part.exact, exact(quantity) && exact(amount));
      if (!part.exact) return;
      assert.equal(scaledText(part.quantity[0]!, part.scales[0]! >> 4), quantity);
      assert.equal(scaledText(part.amount[0]!, part.scales[0]! & 15), amount);
    }),
  );
});

test('more decimals than the columns keep, or another form of number, make them inexact', () => {
  for (const amount of ['1.00001', '1e3', '+5', '0x10', '1.2.3']) {
    const builder = new LineColumnsBuilder();
    builder.add('P1', 'S1', '2025-03-01', '1', amount, 'USD');
    assert.equal(builder.finish().exact, false, amount);
  }
});

test('sums are summable only while the magnitudes of all values stay below 2^52', () => {
  const lines = new LineColumns(0);
  const builder = new LineColumnsBuilder();
  // 450,000,000,000.0000 is 4.5e15 in integers of 1/10,000: two of them pass 2^52.
  builder.add('P1', 'S1', '2025-03-01', '1', '450000000000', 'USD');
  lines.append(builder.finish());
  assert.equal(lines.summable, true);
  const more = new LineColumnsBuilder();
  more.add('P2', 'S1', '2025-03-02', '1', '-450000000000', 'USD');
  lines.append(more.finish());
  assert.equal(lines.summable, false, 'a negative amount counts by its magnitude');
});

test('lines appended in parts keep their partners, products and currencies across chunks', () => {
  const lines = new LineColumns(0);
  const count = 70_000;
  for (const offset of [0, count]) {
    const builder = new LineColumnsBuilder();
    for (let i = 0; i < count; i++)
      builder.add(
        `P${(i + offset) % 7}`,
        `S${i % 11}`,
        '2025-01-01',
        '1',
        `${i % 3}.5`,
        i % 2 ? 'EUR' : 'USD',
      );
    lines.append(builder.finish());
  }
  assert.equal(lines.length, 2 * count);
  assert.equal(lines.chunks.length, 3);
  let line = 0;
  for (const chunk of lines.chunks)
    for (let k = 0; k < chunk.length; k++, line++) {
      const i = line % count;
      assert.equal(lines.partners[chunk.partner[k]!], `P${line % 7}`);
      assert.equal(lines.products[chunk.product[k]!], `S${i % 11}`);
      assert.equal(lines.currencies[chunk.currency[k]!], i % 2 ? 'EUR' : 'USD');
      assert.equal(scaledText(chunk.amount[k]!, 1), `${i % 3}.5`);
    }
});

test('a copy truncated to a mark is the copy it was, names and sums included', () => {
  const add = (lines: LineColumns, from: number, count: number, amount: string) => {
    const builder = new LineColumnsBuilder();
    for (let i = from; i < from + count; i++)
      builder.add(`P${i}`, `S${i % 5}`, '2025-01-01', '1', amount, 'USD');
    lines.append(builder.finish());
  };
  const lines = new LineColumns(0);
  add(lines, 0, 70_000, '1.5');
  const mark = lines.mark();
  const before = lines.since(new LineColumns(0).mark());
  const copy = (record: typeof before) =>
    JSON.stringify({
      ...record,
      columns: record.columns.map((c) => ({ ...c, partner: [...c.partner], amount: [...c.amount] })),
    });
  const expected = copy(before);
  add(lines, 70_000, 10_000, '1.00001');
  add(lines, 80_000, 70_000, '2');
  assert.equal(lines.summable, false);
  lines.truncate(mark);
  assert.deepEqual(lines.mark(), mark);
  assert.equal(lines.summable, true);
  assert.equal(lines.partnerNumbers.has('P70000'), false);
  assert.equal(copy(lines.since(new LineColumns(0).mark())), expected);
  add(lines, 70_000, 10, '3');
  assert.equal(lines.partners[lines.chunks[1]!.partner[70_000 - 65_536 + 9]!], 'P70009');
});
