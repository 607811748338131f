// Checks of single text fields from imported rows. Each returns the clean
// value or pushes a problem that names the field, and never throws.
import { isCurrency, minorUnitsOf } from './currency.ts';
import { isIsoDate } from './dates.ts';
import { Decimal } from './decimal.ts';
import type { Problem } from './errors.ts';
import { IDENTIFIER_LENGTH_MAX, TEXT_LENGTH_MAX } from './limits.ts';

// Control characters (other than tab) in an id are almost always a broken export.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export class FieldChecker {
  readonly problems: Problem[] = [];

  constructor(private readonly values: Record<string, string>) {}

  private fail(field: string, code: string, message: string): undefined {
    this.problems.push({ field, code, message });
    return undefined;
  }

  // Hot path: these run for every field of every imported line, so they take
  // plain arguments (no option objects are spread or allocated per call).
  private bounded(field: string, required: boolean, max: number): string | undefined {
    const value = this.values[field] ?? '';
    if (value === '') return required ? this.fail(field, 'missing_value', `${field} is required`) : undefined;
    if (value.length > max)
      return this.fail(field, 'value_too_long', `${field} is longer than ${max} characters`);
    return value;
  }

  text(field: string, options: { required: boolean; max?: number }): string | undefined {
    return this.bounded(field, options.required, options.max ?? TEXT_LENGTH_MAX);
  }

  identifier(field: string, options: { required: boolean }): string | undefined {
    const value = this.bounded(field, options.required, IDENTIFIER_LENGTH_MAX);
    if (value !== undefined && CONTROL_CHARACTERS.test(value)) {
      return this.fail(field, 'bad_identifier', `${field} contains control characters`);
    }
    return value;
  }

  /** The value's canonical text (as Decimal prints it), or undefined. */
  decimal(field: string, options: { required: boolean; minimum?: Decimal }): string | undefined {
    const text = this.values[field] ?? '';
    if (text === '')
      return options.required ? this.fail(field, 'missing_value', `${field} is required`) : undefined;
    const value = Decimal.canonicalText(text);
    const code = `bad_${field}`;
    if (value === undefined) return this.fail(field, code, `${field} "${text}" is not a decimal number`);
    if (options.minimum !== undefined && Decimal.parse(value).lt(options.minimum)) {
      return this.fail(field, code, `${field} ${text} is below ${options.minimum.toString()}`);
    }
    return value;
  }

  money(field: string, currency: string | undefined, options: { required: boolean }): string | undefined {
    const value = this.decimal(field, options);
    if (
      value !== undefined &&
      currency !== undefined &&
      Decimal.significantScaleOfText(value) > minorUnitsOf(currency)
    ) {
      return this.fail(
        field,
        'amount_has_too_many_decimals',
        `${field} ${value} has more decimals than ${currency} allows (${minorUnitsOf(currency)})`,
      );
    }
    return value;
  }

  date(field: string): string | undefined {
    const value = this.values[field] ?? '';
    if (value === '') return this.fail(field, 'missing_value', `${field} is required`);
    if (!isIsoDate(value))
      return this.fail(field, 'bad_date', `${field} "${value}" is not a date YYYY-MM-DD`);
    return value;
  }

  currency(field: string): string | undefined {
    const value = this.values[field] ?? '';
    if (value === '') return this.fail(field, 'missing_value', `${field} is required`);
    if (!isCurrency(value))
      return this.fail(field, 'bad_currency', `${field} "${value}" is not an ISO 4217 currency code`);
    return value;
  }

  /** Fields named `attributes.<name>`, as an object. */
  attributes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.values)) {
      if (key.startsWith('attributes.') && value !== '') out[key.slice('attributes.'.length)] = value;
    }
    return out;
  }

  reference(
    field: string,
    value: string | undefined,
    known: ReadonlySet<string>,
    code: string,
    what: string,
  ) {
    if (value !== undefined && !known.has(value)) {
      this.fail(field, code, `${what} "${value}" is not in the store`);
    }
  }
}
