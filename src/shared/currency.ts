// Currencies are ISO 4217 codes; their minor unit comes from the runtime's
// Intl data (USD 2, JPY 0, BHD 3) rather than a table kept by hand.
const KNOWN = new Set(Intl.supportedValuesOf('currency'));
const MINOR_UNITS = new Map<string, number>();

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && KNOWN.has(code);
}

/** Decimal places of the currency's minor unit. */
export function minorUnitsOf(code: string): number {
  let digits = MINOR_UNITS.get(code);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
      .maximumFractionDigits as number;
    MINOR_UNITS.set(code, digits);
  }
  return digits;
}
