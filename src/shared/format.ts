// Human-readable numbers for explanations and tables. Display only: figures
// that are stored or exported use Decimal.toString / toFixedScale.
import type { Decimal } from './decimal.ts';

function group(whole: string): string {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1234567.5` → `1,234,567.50`; integers keep no fraction (`60,000`). */
export function formatDecimal(value: Decimal): string {
  const plain = value.toPlainString();
  const negative = plain.startsWith('-');
  const [whole = '0', fraction] = (negative ? plain.slice(1) : plain).split('.');
  const shownFraction = fraction === undefined ? '' : `.${fraction.padEnd(2, '0')}`;
  return `${negative ? '−' : ''}${group(whole)}${shownFraction}`;
}

/** Money at the currency's scale with thousands separators: `1,600.00`. */
export function formatMoney(value: Decimal, minorUnits: number): string {
  const text = value.roundHalfAwayFromZero(minorUnits).toString();
  const negative = text.startsWith('-');
  const [whole = '0', fraction] = (negative ? text.slice(1) : text).split('.');
  return `${negative ? '−' : ''}${group(whole)}${fraction === undefined ? '' : `.${fraction}`}`;
}
