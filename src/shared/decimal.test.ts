// Proves that Decimal parses and prints exactly, adds and multiplies without binary floating-point error, rounds half away from zero, and rejects malformed text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DECIMAL_INPUT_SCALE_MAX, DECIMAL_TEXT_LENGTH_MAX, Decimal } from './decimal.ts';

const d = (text: string) => Decimal.parse(text);

describe('Decimal.parse and toString', () => {
  test('round trips canonical text at its own scale', () => {
    for (const text of [
      '0',
      '1',
      '-1',
      '0.10',
      '-0.50',
      '12.345',
      '1000000.00',
      '0.000000000001',
      '-123456789012345678901234567.89',
    ]) {
      assert.equal(d(text).toString(), text);
    }
  });

  test('keeps the scale written (trailing zeros are kept, not normalised)', () => {
    const v = d('1.500');
    assert.equal(v.scale, 3);
    assert.equal(v.units, 1500n);
    assert.equal(v.toString(), '1.500');
    assert.equal(v.toPlainString(), '1.5');
  });

  test('accepts a leading plus and leading zeros, and prints the canonical form', () => {
    assert.equal(d('+2.50').toString(), '2.50');
    assert.equal(d('007').toString(), '7');
    assert.equal(d('-0').toString(), '0');
    assert.equal(d('-0.00').toString(), '0.00');
  });

  test('values between -1 and 1 print a leading zero', () => {
    assert.equal(Decimal.of(5n, 3).toString(), '0.005');
    assert.equal(Decimal.of(-5n, 3).toString(), '-0.005');
    assert.equal(Decimal.of(-50n, 2).toString(), '-0.50');
  });

  test('accepts the finest input scale and the longest text', () => {
    const finest = `0.${'1'.repeat(DECIMAL_INPUT_SCALE_MAX)}`;
    assert.equal(d(finest).scale, DECIMAL_INPUT_SCALE_MAX);
    const longest = '9'.repeat(DECIMAL_TEXT_LENGTH_MAX);
    assert.equal(d(longest).toString(), longest);
  });

  test('rejects text that is not a plain decimal', () => {
    for (const text of [
      '',
      '1e5',
      '1E5',
      '1,000',
      '1,5',
      '.5',
      '5.',
      '-',
      '+',
      ' 1',
      '1 ',
      '--1',
      '0x10',
      'NaN',
      'Infinity',
      '1.2.3',
      '１２', // full-width digits
      `0.${'1'.repeat(DECIMAL_INPUT_SCALE_MAX + 1)}`, // too many places
      '9'.repeat(DECIMAL_TEXT_LENGTH_MAX + 1), // too long
    ]) {
      assert.equal(Decimal.tryParse(text), undefined, `tryParse should reject ${JSON.stringify(text)}`);
      assert.throws(() => Decimal.parse(text), RangeError, `parse should throw on ${JSON.stringify(text)}`);
    }
  });

  test('toFixedScale pads, and refuses to drop significant digits', () => {
    assert.equal(d('2.5').toFixedScale(2), '2.50');
    assert.equal(d('2.500').toFixedScale(2), '2.50');
    assert.equal(d('-3').toFixedScale(3), '-3.000');
    assert.throws(() => d('2.505').toFixedScale(2));
  });

  test('toJSON is the canonical text', () => {
    assert.equal(JSON.stringify({ v: d('-0.50') }), '{"v":"-0.50"}');
  });
});

describe('Decimal arithmetic is exact', () => {
  test('0.1 + 0.2 = 0.3 exactly', () => {
    const sum = d('0.1').add(d('0.2'));
    assert.equal(sum.toString(), '0.3');
    assert.ok(sum.eq(d('0.3')));
    assert.ok(sum.eq(d('0.30000')));
  });

  test('add aligns scales', () => {
    assert.equal(d('1.5').add(d('2.25')).toString(), '3.75');
    assert.equal(d('100').add(d('0.001')).toString(), '100.001');
    assert.equal(d('-1.10').add(d('1.1')).toString(), '0.00');
  });

  test('sub', () => {
    assert.equal(d('0.3').sub(d('0.1')).toString(), '0.2');
    assert.equal(d('1').sub(d('1.01')).toString(), '-0.01');
    assert.equal(d('-5').sub(d('-7.5')).toString(), '2.5');
  });

  test('mul adds the scales of its factors', () => {
    // 1.1 × 1.1 = 1.21 (float gives 1.2100000000000002)
    assert.equal(d('1.1').mul(d('1.1')).toString(), '1.21');
    // 0.07 × 100 = 7.00 (float gives 7.000000000000001)
    assert.equal(d('0.07').mul(d('100')).toString(), '7.00');
    // 19.99 × 3 = 59.97
    assert.equal(d('19.99').mul(d('3')).toString(), '59.97');
    // -2.5 × 0.4 = -1.00
    assert.equal(d('-2.5').mul(d('0.4')).toString(), '-1.00');
  });

  test('sums far beyond 2^53 stay exact', () => {
    const big = d('9007199254740993.01'); // 2^53 + 1, not representable as a double
    assert.equal(big.add(d('0.01')).toString(), '9007199254740993.02');
    assert.equal(big.mul(d('2')).toString(), '18014398509481986.02');
  });

  test('a million additions of 0.01 make exactly 10000.00', () => {
    let total = Decimal.ZERO;
    const cent = d('0.01');
    for (let i = 0; i < 1_000_000; i++) total = total.add(cent);
    assert.equal(total.toString(), '10000.00');
  });

  test('shift divides by a power of ten exactly (a percent)', () => {
    // 4% of 40,000 = 40,000 × 4 / 100 = 1,600
    assert.ok(d('40000').mul(d('4')).shift(2).eq(d('1600')));
    assert.equal(d('2.5').shift(2).toString(), '0.025');
  });

  test('Decimal.sum, min, max, neg, sign, isZero, isInteger', () => {
    assert.equal(Decimal.sum([d('0.1'), d('0.2'), d('-0.05')]).toString(), '0.25');
    assert.equal(Decimal.sum([]).toString(), '0');
    assert.equal(Decimal.min(d('1.5'), d('1.49')).toString(), '1.49');
    assert.equal(Decimal.max(d('-1'), d('-1.01')).toString(), '-1');
    assert.equal(d('2.5').neg().toString(), '-2.5');
    assert.equal(d('-0.001').sign(), -1);
    assert.equal(d('0.000').sign(), 0);
    assert.equal(d('0.001').sign(), 1);
    assert.ok(d('0.00').isZero());
    assert.ok(d('3.000').isInteger());
    assert.ok(!d('3.001').isInteger());
    assert.equal(d('1.2300').significantScale(), 2);
  });
});

describe('Decimal.mulRatio', () => {
  test('multiplies by a fraction and rounds half away from zero at the scale asked', () => {
    const cases: Array<[string, bigint, bigint, number, string]> = [
      ['100.00', 90n, 30n, 2, '300.00'], // a month of a quarter, projected: exact
      ['10.00', 1n, 3n, 2, '3.33'],
      ['20.00', 1n, 3n, 2, '6.67'],
      ['-20.00', 1n, 3n, 2, '-6.67'],
      ['0.05', 1n, 2n, 2, '0.03'], // 0.025: a tie goes away from zero
      ['-0.05', 1n, 2n, 2, '-0.03'],
      ['7', 92n, 10n, 0, '64'], // 64.4
      ['1.5', 1n, 4n, 4, '0.3750'],
    ];
    for (const [value, n, d, scale, expected] of cases)
      assert.equal(Decimal.parse(value).mulRatio(n, d, scale).toString(), expected, `${value} × ${n}/${d}`);
  });

  test('agrees with exact rational arithmetic on random values', () => {
    for (let i = 0; i < 2_000; i++) {
      const units = BigInt(Math.floor(Math.random() * 2_000_001) - 1_000_000);
      const n = BigInt(1 + Math.floor(Math.random() * 400));
      const d = BigInt(1 + Math.floor(Math.random() * 400));
      const result = Decimal.of(units, 2).mulRatio(n, d, 2);
      // |result − exact| ≤ half a cent, exactly: |result·d − units·n| × 2 ≤ d (in cents).
      const error = result.units * d - units * n;
      assert.ok((error < 0n ? -error : error) * 2n <= d, `${units}c × ${n}/${d} = ${result}`);
    }
  });
});

describe('Decimal.roundHalfAwayFromZero', () => {
  const cases: Array<[string, number, string]> = [
    ['2.345', 2, '2.35'],
    ['-2.345', 2, '-2.35'],
    ['2.3449', 2, '2.34'],
    ['-2.3449', 2, '-2.34'],
    ['2.335', 2, '2.34'], // a tie rounds away from zero, not to even
    ['2.325', 2, '2.33'],
    ['0.005', 2, '0.01'],
    ['-0.005', 2, '-0.01'],
    ['0.0049999', 2, '0.00'],
    ['-0.0049999', 2, '0.00'],
    ['2.5', 0, '3'],
    ['-2.5', 0, '-3'],
    ['3.5', 0, '4'],
    ['2.4999', 0, '2'],
    ['-0.4', 0, '0'],
    ['1.23456', 3, '1.235'],
    ['-1.23449', 3, '-1.234'],
    ['1.0005', 3, '1.001'],
    ['999.995', 2, '1000.00'],
    ['-999.995', 2, '-1000.00'],
    ['12.3', 2, '12.30'], // adding places is exact
    ['7', 3, '7.000'],
    ['12.34', 2, '12.34'],
  ];
  for (const [input, scale, expected] of cases) {
    test(`${input} to ${scale} places is ${expected}`, () => {
      const rounded = d(input).roundHalfAwayFromZero(scale);
      assert.equal(rounded.toString(), expected);
      assert.equal(rounded.scale, scale);
    });
  }
});

describe('Decimal.cmp', () => {
  test('compares across scales', () => {
    assert.equal(d('1.0').cmp(d('1')), 0);
    assert.equal(d('1.00').cmp(d('1.001')), -1);
    assert.equal(d('1.001').cmp(d('1.00')), 1);
    assert.equal(d('-1').cmp(d('-0.999')), -1);
    assert.equal(d('-0.999').cmp(d('-1')), 1);
    assert.equal(d('0').cmp(d('-0.00')), 0);
    assert.equal(d('100').cmp(d('99.999999999999')), 1);
  });

  test('lt, lte, gt, gte and eq agree with cmp', () => {
    const a = d('2.50');
    const b = d('2.5');
    const c = d('2.51');
    assert.ok(a.eq(b) && a.lte(b) && a.gte(b) && !a.lt(b) && !a.gt(b));
    assert.ok(a.lt(c) && a.lte(c) && !a.gt(c) && !a.gte(c) && !a.eq(c));
    assert.ok(c.gt(a) && c.gte(a));
  });

  test('sorting by cmp orders numerically, not as text', () => {
    const sorted = ['10', '9.99', '-1', '0.5', '-0.25', '100'].map(d).sort((x, y) => x.cmp(y));
    assert.deepEqual(
      sorted.map((x) => x.toString()),
      ['-1', '-0.25', '0.5', '9.99', '10', '100'],
    );
  });
});

describe('Decimal constructors', () => {
  test('of and fromInteger', () => {
    assert.equal(Decimal.of(12345n, 2).toString(), '123.45');
    assert.equal(Decimal.of(7n).toString(), '7');
    assert.equal(Decimal.fromInteger(42).toString(), '42');
    assert.equal(Decimal.fromInteger(-3n).toString(), '-3');
    assert.throws(() => Decimal.of(1n, -1));
    assert.throws(() => Decimal.of(1n, 1.5));
    assert.throws(() => Decimal.fromInteger(1.5));
    assert.throws(() => Decimal.fromInteger(2 ** 53));
  });
});

describe('Decimal.canonicalText', () => {
  // Decimal-looking text: signs, leading and trailing zeros, long fractions, stray characters.
  const decimalish = fc
    .tuple(
      fc.constantFrom('', '-', '+', '--'),
      fc.stringMatching(/^[0-9]{0,16}$/),
      fc.option(fc.stringMatching(/^[0-9]{0,14}$/)),
      fc.constantFrom('', '', '', ' ', 'x', '.'),
    )
    .map(
      ([sign, whole, fraction, tail]) => `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${tail}`,
    );

  test('is what parsing and printing give, for any text', () => {
    fc.assert(
      fc.property(fc.oneof(decimalish, fc.string()), (text) => {
        assert.equal(Decimal.canonicalText(text), Decimal.tryParse(text)?.toString());
      }),
      { numRuns: 5000 },
    );
    for (const text of [
      '-0',
      '-0.00',
      '+5',
      '007',
      '0.50',
      '-0.50',
      '1.',
      '.5',
      '1e3',
      `1.${'0'.repeat(13)}`,
    ]) {
      assert.equal(Decimal.canonicalText(text), Decimal.tryParse(text)?.toString(), text);
    }
  });

  test("its significant scale is the parsed value's", () => {
    fc.assert(
      fc.property(decimalish, (text) => {
        const canonical = Decimal.canonicalText(text);
        if (canonical === undefined) return;
        assert.equal(Decimal.significantScaleOfText(canonical), Decimal.parse(canonical).significantScale());
      }),
      { numRuns: 5000 },
    );
  });
});

describe('Decimal.tryParse', () => {
  // The grammar, as a regular expression: an optional sign, digits, optionally a point and digits.
  const GRAMMAR = /^([+-])?(\d+)(?:\.(\d+))?$/;
  function reference(text: string): string | undefined {
    if (text.length === 0 || text.length > DECIMAL_TEXT_LENGTH_MAX) return undefined;
    const m = GRAMMAR.exec(text);
    if (!m || (m[3] ?? '').length > DECIMAL_INPUT_SCALE_MAX) return undefined;
    const units = BigInt(m[2]! + (m[3] ?? ''));
    return `${m[1] === '-' ? -units : units}/${(m[3] ?? '').length}`;
  }

  test('accepts exactly the grammar, with the value and scale written', () => {
    const texty = fc.oneof(
      fc.stringMatching(/^[-+.0-9]{0,45}$/),
      fc.string(),
      fc.constantFrom('-', '+', '.', '1.', '.5', '+-1', '1.2.3', '٣', '1e5', ' 1', '1 '),
    );
    fc.assert(
      fc.property(texty, (text) => {
        const parsed = Decimal.tryParse(text);
        assert.equal(parsed === undefined ? undefined : `${parsed.units}/${parsed.scale}`, reference(text));
      }),
      { numRuns: 10_000 },
    );
  });
});
