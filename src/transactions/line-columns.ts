// The stored transaction lines as typed columns: per line its partner, product,
// day and currency as small numbers, and its quantity and amount as exact
// integers of 1/10,000. The embedded store keeps such a copy in the process
// (kept-lines.ts) so that a full recalculation sums arrays instead of running
// the aggregate statement, where every step per line runs in WebAssembly on one
// thread (decision 0019). No query builder here: the checking workers
// (imports/parallel-check.ts) build columns for the pieces they check.

import { dayNumber } from '../shared/dates.ts';
import { fromCopyText } from '../store/copy-text.ts';

/** Decimals a quantity or amount may have to be kept: values are integers of 10^-LINE_VALUE_SCALE. */
export const LINE_VALUE_SCALE = 4;
/**
 * Sums of a column stay exact while the sum of its values' magnitudes stays below
 * this: every partial sum is then an integer a double holds exactly (2^53), with a
 * margin for the rounding of the magnitude's own running sum.
 */
export const LINE_MAGNITUDE_MAX = 2 ** 52;
/** Lines per chunk of the kept columns: appending never copies what is kept. */
export const LINE_CHUNK_LINES = 1 << 16;
/** Currencies a copy can tell apart (one byte a line); a copy with more is not exact. */
const CURRENCIES_MAX = 256;

/** The columns of the transactions table, in the order an import holds a line's values (lineFromColumns). */
const COLUMN = { date: 1, partner: 2, sku: 3, quantity: 4, amount: 5, currency: 6 } as const;

let scaleRead = 0;
/**
 * A decimal's value in integers of 10^-LINE_VALUE_SCALE, its own scale left in
 * `scaleRead`; NaN when it has more decimals or is beyond a double's exact integers.
 */
function scaledValue(text: string): number {
  // Digit by digit: every step is an integer below 2^53 while the result is,
  // so the value is exact whenever it is a safe integer.
  let value = 0;
  let places = -1;
  const negative = text.charCodeAt(0) === 45;
  for (let i = negative ? 1 : 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (places !== -1) return Number.NaN;
      places = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
    if (places !== -1) places += 1;
  }
  if (places === -1) places = 0;
  if (places > LINE_VALUE_SCALE) return Number.NaN;
  value *= 10 ** (LINE_VALUE_SCALE - places);
  scaleRead = places;
  if (!Number.isSafeInteger(value)) return Number.NaN;
  return negative ? -value : value;
}

/** The text of a sum of scaled values at `scale` decimals (every value summed had at most as many). */
export function scaledText(value: number, scale: number): string {
  // A multiple of the divisor, so the quotient is exact.
  const units = value / 10 ** (LINE_VALUE_SCALE - scale);
  if (scale === 0) return String(units === 0 ? 0 : units);
  const digits = String(Math.abs(units)).padStart(scale + 1, '0');
  return `${units < 0 ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** A number of lines' columns. */
export interface LineChunk {
  length: number;
  partner: Int32Array;
  product: Int32Array;
  day: Int32Array;
  currency: Uint8Array;
  /** The quantity's scale times 16 plus the amount's. */
  scales: Uint8Array;
  quantity: Float64Array;
  amount: Float64Array;
}

/** What numbers of lines stand for, and whether their values sum exactly. */
export interface LineNames {
  partners: string[];
  products: string[];
  currencies: string[];
  /** False when a value had more than LINE_VALUE_SCALE decimals, was too large, or a currency too many. */
  exact: boolean;
  quantityMagnitude: number;
  amountMagnitude: number;
}

/** Lines as columns, their partners, products and currencies numbered by the lists that come with them. */
export interface LineColumnsPart extends LineChunk, LineNames {}

function numbered(list: string[], numbers: Map<string, number>, name: string): number {
  let n = numbers.get(name);
  if (n === undefined) {
    n = list.length;
    list.push(name);
    numbers.set(name, n);
  }
  return n;
}

/** Builds the columns of lines given one by one as their stored values. */
export class LineColumnsBuilder {
  private part: LineColumnsPart;
  private readonly partnerNumbers = new Map<string, number>();
  private readonly productNumbers = new Map<string, number>();
  private readonly currencyNumbers = new Map<string, number>();

  constructor(capacity = 1024) {
    this.part = {
      length: 0,
      partners: [],
      products: [],
      currencies: [],
      partner: new Int32Array(capacity),
      product: new Int32Array(capacity),
      day: new Int32Array(capacity),
      currency: new Uint8Array(capacity),
      scales: new Uint8Array(capacity),
      quantity: new Float64Array(capacity),
      amount: new Float64Array(capacity),
      exact: true,
      quantityMagnitude: 0,
      amountMagnitude: 0,
    };
  }

  get length(): number {
    return this.part.length;
  }

  /** Adds a line given as the transactions table's column values (see lineFromColumns). */
  addColumns(columns: readonly (string | null)[]): void {
    this.add(
      columns[COLUMN.partner]!,
      columns[COLUMN.sku]!,
      columns[COLUMN.date]!,
      columns[COLUMN.quantity]!,
      columns[COLUMN.amount]!,
      columns[COLUMN.currency]!,
    );
  }

  add(partner: string, sku: string, date: string, quantity: string, amount: string, currency: string): void {
    this.addOnDay(partner, sku, dayNumber(date), quantity, amount, currency);
  }

  /**
   * Adds the lines of a `COPY (SELECT partner_id, sku, day number, quantity,
   * amount, currency …) TO` in its text format: whole rows, each ending in a newline.
   */
  addCopyText(text: string): void {
    const fields: string[] = [];
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      fields.length = 0;
      let from = start;
      for (let f = 0; f < 5; f++) {
        const tab = text.indexOf('\t', from);
        fields.push(fromCopyText(text.slice(from, tab)));
        from = tab + 1;
      }
      fields.push(fromCopyText(text.slice(from, end)));
      this.addOnDay(fields[0]!, fields[1]!, Number(fields[2]), fields[3]!, fields[4]!, fields[5]!);
      start = end + 1;
    }
  }

  private addOnDay(
    partner: string,
    sku: string,
    day: number,
    quantity: string,
    amount: string,
    currency: string,
  ): void {
    const p = this.part;
    if (p.length === p.partner.length) this.grow();
    const i = p.length++;
    p.partner[i] = numbered(p.partners, this.partnerNumbers, partner);
    p.product[i] = numbered(p.products, this.productNumbers, sku);
    p.day[i] = day;
    const c = numbered(p.currencies, this.currencyNumbers, currency);
    if (c >= CURRENCIES_MAX) p.exact = false;
    p.currency[i] = c;
    const q = scaledValue(quantity);
    const quantityScale = scaleRead;
    const a = scaledValue(amount);
    if (Number.isNaN(q) || Number.isNaN(a)) {
      p.exact = false;
      return;
    }
    p.scales[i] = (quantityScale << 4) | scaleRead;
    p.quantity[i] = q;
    p.amount[i] = a;
    p.quantityMagnitude += Math.abs(q);
    p.amountMagnitude += Math.abs(a);
  }

  private grow() {
    const p = this.part;
    const size = p.partner.length * 2;
    const larger = <T extends Int32Array | Uint8Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    p.partner = larger(p.partner);
    p.product = larger(p.product);
    p.day = larger(p.day);
    p.currency = larger(p.currency);
    p.scales = larger(p.scales);
    p.quantity = larger(p.quantity);
    p.amount = larger(p.amount);
  }

  /** The columns built, trimmed to the lines added. */
  finish(): LineColumnsPart {
    const p = this.part;
    const n = p.length;
    return {
      ...p,
      partner: p.partner.slice(0, n),
      product: p.product.slice(0, n),
      day: p.day.slice(0, n),
      currency: p.currency.slice(0, n),
      scales: p.scales.slice(0, n),
      quantity: p.quantity.slice(0, n),
      amount: p.amount.slice(0, n),
    };
  }
}

function newChunk(): LineChunk {
  return {
    length: 0,
    partner: new Int32Array(LINE_CHUNK_LINES),
    product: new Int32Array(LINE_CHUNK_LINES),
    day: new Int32Array(LINE_CHUNK_LINES),
    currency: new Uint8Array(LINE_CHUNK_LINES),
    scales: new Uint8Array(LINE_CHUNK_LINES),
    quantity: new Float64Array(LINE_CHUNK_LINES),
    amount: new Float64Array(LINE_CHUNK_LINES),
  };
}

/** Where a copy of the lines stood: its lines and names, and what they sum to. */
export interface LinesMark {
  length: number;
  partners: number;
  products: number;
  currencies: number;
  exact: boolean;
  quantityMagnitude: number;
  amountMagnitude: number;
}

/** Every stored line as columns, at one revision of the lines (kept-lines.ts). */
export class LineColumns {
  readonly partners: string[] = [];
  readonly products: string[] = [];
  readonly currencies: string[] = [];
  readonly partnerNumbers = new Map<string, number>();
  readonly productNumbers = new Map<string, number>();
  private readonly currencyNumbers = new Map<string, number>();
  readonly chunks: LineChunk[] = [];
  length = 0;
  /** Whether every line's values are held exactly and every sum of them is exact. */
  exact = true;
  private quantityMagnitude = 0;
  private amountMagnitude = 0;

  constructor(public revision: number) {}

  /** Whether sums over these columns are exact: otherwise the store sums the lines itself. */
  get summable(): boolean {
    return (
      this.exact && this.quantityMagnitude < LINE_MAGNITUDE_MAX && this.amountMagnitude < LINE_MAGNITUDE_MAX
    );
  }

  mark(): LinesMark {
    return {
      length: this.length,
      partners: this.partners.length,
      products: this.products.length,
      currencies: this.currencies.length,
      exact: this.exact,
      quantityMagnitude: this.quantityMagnitude,
      amountMagnitude: this.amountMagnitude,
    };
  }

  /** Back to where `mark` was taken: the lines and names added since are gone. */
  truncate(mark: LinesMark): void {
    const forget = (list: string[], numbers: Map<string, number>, keep: number) => {
      for (const name of list.splice(keep)) numbers.delete(name);
    };
    forget(this.partners, this.partnerNumbers, mark.partners);
    forget(this.products, this.productNumbers, mark.products);
    forget(this.currencies, this.currencyNumbers, mark.currencies);
    this.chunks.length = Math.ceil(mark.length / LINE_CHUNK_LINES);
    const last = this.chunks.at(-1);
    if (last) last.length = mark.length - (this.chunks.length - 1) * LINE_CHUNK_LINES;
    this.length = mark.length;
    this.exact = mark.exact;
    this.quantityMagnitude = mark.quantityMagnitude;
    this.amountMagnitude = mark.amountMagnitude;
  }

  /**
   * The names and lines added since `mark`, numbered as the copy numbers them,
   * with what the whole copy sums to: what a record of the copy's file holds.
   */
  since(mark: LinesMark): { names: LineNames; length: number; columns: LineChunk[] } {
    const columns: LineChunk[] = [];
    for (let c = Math.floor(mark.length / LINE_CHUNK_LINES); c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      const from = Math.max(mark.length - c * LINE_CHUNK_LINES, 0);
      if (from >= chunk.length) continue;
      const piece = <T extends Int32Array | Uint8Array | Float64Array>(a: T) =>
        a.subarray(from, chunk.length) as T;
      columns.push({
        length: chunk.length - from,
        partner: piece(chunk.partner),
        product: piece(chunk.product),
        day: piece(chunk.day),
        currency: piece(chunk.currency),
        scales: piece(chunk.scales),
        quantity: piece(chunk.quantity),
        amount: piece(chunk.amount),
      });
    }
    return {
      names: {
        partners: this.partners.slice(mark.partners),
        products: this.products.slice(mark.products),
        currencies: this.currencies.slice(mark.currencies),
        exact: this.exact,
        quantityMagnitude: this.quantityMagnitude,
        amountMagnitude: this.amountMagnitude,
      },
      length: this.length - mark.length,
      columns,
    };
  }

  /**
   * Adds what `since` gave, as read back from the copy's file: names added to the
   * lists, lines already numbered by them, and what the whole copy then sums to.
   */
  restore(names: LineNames, lines: LineChunk): void {
    for (const name of names.partners) numbered(this.partners, this.partnerNumbers, name);
    for (const name of names.products) numbered(this.products, this.productNumbers, name);
    for (const name of names.currencies) numbered(this.currencies, this.currencyNumbers, name);
    this.add(lines, undefined);
    this.exact = names.exact;
    this.quantityMagnitude = names.quantityMagnitude;
    this.amountMagnitude = names.amountMagnitude;
  }

  /** Adds lines numbered by the part's own lists. */
  append(part: LineColumnsPart): void {
    if (!part.exact) this.exact = false;
    this.quantityMagnitude += part.quantityMagnitude;
    this.amountMagnitude += part.amountMagnitude;
    const renumber = (names: string[], list: string[], numbers: Map<string, number>) =>
      Int32Array.from(names, (name) => numbered(list, numbers, name));
    this.add(part, {
      partner: renumber(part.partners, this.partners, this.partnerNumbers),
      product: renumber(part.products, this.products, this.productNumbers),
      currency: renumber(part.currencies, this.currencies, this.currencyNumbers),
    });
    if (this.currencies.length > CURRENCIES_MAX) this.exact = false;
  }

  /** Copies lines into the chunks, their numbers through `renumber` when given. */
  private add(
    lines: LineChunk,
    renumber: { partner: Int32Array; product: Int32Array; currency: Int32Array } | undefined,
  ) {
    let from = 0;
    while (from < lines.length) {
      let chunk = this.chunks.at(-1);
      if (chunk === undefined || chunk.length === LINE_CHUNK_LINES) {
        chunk = newChunk();
        this.chunks.push(chunk);
      }
      const count = Math.min(lines.length - from, LINE_CHUNK_LINES - chunk.length);
      const at = chunk.length;
      const to = from + count;
      if (renumber) {
        for (let k = 0; k < count; k++) {
          chunk.partner[at + k] = renumber.partner[lines.partner[from + k]!]!;
          chunk.product[at + k] = renumber.product[lines.product[from + k]!]!;
          chunk.currency[at + k] = renumber.currency[lines.currency[from + k]!]!;
        }
      } else {
        chunk.partner.set(lines.partner.subarray(from, to), at);
        chunk.product.set(lines.product.subarray(from, to), at);
        chunk.currency.set(lines.currency.subarray(from, to), at);
      }
      chunk.day.set(lines.day.subarray(from, to), at);
      chunk.scales.set(lines.scales.subarray(from, to), at);
      chunk.quantity.set(lines.quantity.subarray(from, to), at);
      chunk.amount.set(lines.amount.subarray(from, to), at);
      chunk.length += count;
      from = to;
    }
    this.length += lines.length;
  }
}
