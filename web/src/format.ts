// Figures come from the server as exact decimal text and are only formatted here,
// by the reader's locale and the currency: the browser never computes money.
const formatters = new Map<string, Intl.NumberFormat>();

export function money(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined || amount === '') return '';
  let format = formatters.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    formatters.set(currency, format);
  }
  // Intl formats a decimal string exactly (no conversion to a binary number).
  return format.format(amount as unknown as number);
}

const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 12 });

export function quantity(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  return plain.format(value as unknown as number);
}

export function rate(value: string, payout: string, currency: string): string {
  if (payout === 'percent') return `${quantity(value)}%`;
  if (payout === 'per_unit') return `${money(value, currency)} per unit`;
  return money(value, currency);
}

export function date(value: string | null | undefined): string {
  if (!value) return '';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(`${value.slice(0, 10)}T00:00:00Z`),
  );
}
