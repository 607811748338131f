// Exact decimal arithmetic on bigint: a value is `units / 10^scale`.
// Money, quantities and rates never pass through binary floating point. Sums and
// products are exact by construction (a product's scale is the sum of the
// factors' scales), so the only place precision can change is an explicit
// `round` with its mode named at the call site.
import assert from 'node:assert/strict';

/** Longest decimal string accepted from a user (digits, sign and point). */
export const DECIMAL_TEXT_LENGTH_MAX = 40;
/** The finest scale any input may carry; products may exceed it internally. */
export const DECIMAL_INPUT_SCALE_MAX = 12;

const MINUS = 45;
const PLUS = 43;
const POINT = 46;
const isDigit = (code: number) => code >= 48 && code <= 57;
// Text that is already what toString prints: no plus sign, no leading zeros, no negative zero.
const CANONICAL_PATTERN = /^(?:-(?!0(?:\.0*)?$))?(?:0|[1-9]\d*)(?:\.\d{1,12})?$/;
const POWERS: bigint[] = [];
function pow10(n: number): bigint {
  assert.ok(Number.isInteger(n) && n >= 0, 'pow10 needs a non-negative integer');
  let p = POWERS[n];
  if (p === undefined) {
    p = 10n ** BigInt(n);
    POWERS[n] = p;
  }
  return p;
}

export class Decimal {
  static readonly ZERO = new Decimal(0n, 0);
  static readonly ONE = new Decimal(1n, 0);
  static readonly HUNDRED = new Decimal(100n, 0);

  private constructor(
    readonly units: bigint,
    readonly scale: number,
  ) {}

  static of(units: bigint, scale = 0): Decimal {
    assert.ok(Number.isInteger(scale) && scale >= 0, 'scale must be a non-negative integer');
    return new Decimal(units, scale);
  }

  static fromInteger(n: number | bigint): Decimal {
    if (typeof n === 'number') assert.ok(Number.isSafeInteger(n), 'integer expected');
    return new Decimal(BigInt(n), 0);
  }

  /**
   * Parses a plain decimal string such as `-12.50` (an optional sign, digits, and
   * optionally a point and digits); returns undefined when it is not one.
   * Scanned by hand rather than by a regular expression: stored amounts are
   * parsed by the hundred thousand, and the match arrays were a tenth of the
   * garbage of a real-time batch.
   */
  static tryParse(text: string): Decimal | undefined {
    const length = text.length;
    if (length === 0 || length > DECIMAL_TEXT_LENGTH_MAX) return undefined;
    const first = text.charCodeAt(0);
    const signed = first === MINUS || first === PLUS;
    let i = signed ? 1 : 0;
    const wholeStart = i;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    const wholeEnd = i;
    if (wholeEnd === wholeStart) return undefined;
    let units: bigint;
    let scale = 0;
    if (i === length) {
      units = BigInt(signed ? text.slice(wholeStart) : text);
    } else {
      if (text.charCodeAt(i) !== POINT) return undefined;
      i++;
      const fractionStart = i;
      while (i < length && isDigit(text.charCodeAt(i))) i++;
      if (i !== length || i === fractionStart) return undefined;
      scale = length - fractionStart;
      if (scale > DECIMAL_INPUT_SCALE_MAX) return undefined;
      units = BigInt(text.slice(wholeStart, wholeEnd) + text.slice(fractionStart));
    }
    return new Decimal(first === MINUS ? -units : units, scale);
  }

  /**
   * `tryParse(text)?.toString()` without building the value: imports check
   * every amount of every line, and nearly all are written canonically already.
   */
  static canonicalText(text: string): string | undefined {
    if (text.length <= DECIMAL_TEXT_LENGTH_MAX && CANONICAL_PATTERN.test(text)) return text;
    return Decimal.tryParse(text)?.toString();
  }

  /** `parse(text).significantScale()` for text as `canonicalText` returns it. */
  static significantScaleOfText(canonical: string): number {
    const point = canonical.indexOf('.');
    if (point === -1) return 0;
    let end = canonical.length;
    while (end > point + 1 && canonical.charCodeAt(end - 1) === 48) end -= 1;
    return end - point - 1;
  }

  static parse(text: string): Decimal {
    const d = Decimal.tryParse(text);
    if (d === undefined) throw new RangeError(`not a decimal number: "${text}"`);
    return d;
  }

  /** The units of this value at a scale at least its own: 1.5 at scale 3 is 1500. */
  unitsAt(scale: number): bigint {
    assert.ok(scale >= this.scale, 'rescale may only add digits');
    return this.units * pow10(scale - this.scale);
  }

  add(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.unitsAt(scale) + other.unitsAt(scale), scale);
  }

  sub(other: Decimal): Decimal {
    return this.add(other.neg());
  }

  mul(other: Decimal): Decimal {
    return new Decimal(this.units * other.units, this.scale + other.scale);
  }

  /** Divides by 10^n exactly (a percent is `shift(2)`). */
  shift(n: number): Decimal {
    return new Decimal(this.units, this.scale + n);
  }

  neg(): Decimal {
    return new Decimal(-this.units, this.scale);
  }

  cmp(other: Decimal): -1 | 0 | 1 {
    const scale = Math.max(this.scale, other.scale);
    const a = this.unitsAt(scale);
    const b = other.unitsAt(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  lt(other: Decimal): boolean {
    return this.cmp(other) < 0;
  }
  lte(other: Decimal): boolean {
    return this.cmp(other) <= 0;
  }
  gt(other: Decimal): boolean {
    return this.cmp(other) > 0;
  }
  gte(other: Decimal): boolean {
    return this.cmp(other) >= 0;
  }
  eq(other: Decimal): boolean {
    return this.cmp(other) === 0;
  }

  sign(): -1 | 0 | 1 {
    return this.units < 0n ? -1 : this.units > 0n ? 1 : 0;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  isInteger(): boolean {
    return this.units % pow10(this.scale) === 0n;
  }

  /** Decimal places actually used, ignoring trailing zeros. */
  significantScale(): number {
    let scale = this.scale;
    let units = this.units;
    while (scale > 0 && units % 10n === 0n) {
      units /= 10n;
      scale -= 1;
    }
    return scale;
  }

  static min(a: Decimal, b: Decimal): Decimal {
    return a.cmp(b) <= 0 ? a : b;
  }

  static max(a: Decimal, b: Decimal): Decimal {
    return a.cmp(b) >= 0 ? a : b;
  }

  static sum(values: Iterable<Decimal>): Decimal {
    let total = Decimal.ZERO;
    for (const v of values) total = total.add(v);
    return total;
  }

  /**
   * Rounds half away from zero to `scale` places: the rule fixed for
   * money (2.345 → 2.35, −2.345 → −2.35). Adding digits is exact.
   */
  roundHalfAwayFromZero(scale: number): Decimal {
    if (scale >= this.scale) return new Decimal(this.unitsAt(scale), scale);
    const divisor = pow10(this.scale - scale);
    const magnitude = this.units < 0n ? -this.units : this.units;
    const quotient = magnitude / divisor;
    const remainder = magnitude % divisor;
    const rounded = remainder * 2n >= divisor ? quotient + 1n : quotient;
    return new Decimal(this.units < 0n ? -rounded : rounded, scale);
  }

  /**
   * This × numerator / denominator, rounded half away from zero to `scale`
   * places: the one division the calculation makes (a run-rate projection),
   * with its rounding named here.
   */
  mulRatio(numerator: bigint, denominator: bigint, scale: number): Decimal {
    assert.ok(denominator > 0n, 'the denominator must be positive');
    const exact = this.units * numerator * pow10(scale);
    const divisor = denominator * pow10(this.scale);
    const magnitude = exact < 0n ? -exact : exact;
    const quotient = magnitude / divisor;
    const rounded = (magnitude % divisor) * 2n >= divisor ? quotient + 1n : quotient;
    return new Decimal(exact < 0n ? -rounded : rounded, scale);
  }

  /** The canonical text at the value's own scale, e.g. `-0.50`. */
  toString(): string {
    const negative = this.units < 0n;
    const digits = (negative ? -this.units : this.units).toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = this.scale > 0 ? `.${digits.slice(digits.length - this.scale)}` : '';
    return `${negative ? '-' : ''}${whole}${fraction}`;
  }

  /** Text with exactly `scale` places; refuses to drop significant digits. */
  toFixedScale(scale: number): string {
    assert.ok(this.significantScale() <= scale, `value ${this.toString()} has more than ${scale} places`);
    if (scale >= this.scale) return new Decimal(this.unitsAt(scale), scale).toString();
    return new Decimal(this.units / pow10(this.scale - scale), scale).toString();
  }

  /** Shortest text that keeps the value: trailing zeros dropped. */
  toPlainString(): string {
    return this.toFixedScale(this.significantScale());
  }

  toJSON(): string {
    return this.toString();
  }
}
