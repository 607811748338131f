// Deterministic generator of a synthetic rebate workload in the benchmark format
// (partners.csv, products.csv, transactions.csv, agreements.json; see
// docs/workload-format.md), so the engine can be measured and checked against the
// DuckDB reference settlement.
//
// Design:
// - Randomness: sfc32, seeded through splitmix32 from the seed and a stream label.
//   Every file draws from its own stream ("partners", "products", "lines",
//   "agreements"), so a change in one part never shifts the draws of another.
// - Skew: partners and products get Zipf weights 1/rank^s over a shuffled rank
//   order (popular ids are scattered, not the lowest ids) and are sampled in O(1)
//   through Walker/Vose alias tables; days are sampled the same way with weekday
//   and month seasonality. Each partner has its own 2024→2025 growth ratio
//   (-30 % … +60 %), so growth agreements land on different tiers.
// - Money is integer cents throughout: list prices are whole cents, a line's unit
//   price is list × (10000 − discount bp) / 10000 rounded half up in integer
//   arithmetic, amount = unit × quantity, and cents are printed by integer
//   division. Running sums stay far below 2^53 (10M lines ≈ 10^12 cents).
// - transactions.csv is streamed in fixed batches of lines; a write that fills
//   the stream's buffer waits for 'drain', so memory stays bounded at any size.
// - While streaming, the generator keeps per-partner, per-quarter totals of
//   amount and quantity (8 quarters × partners). Agreement thresholds are sized
//   from those realised totals times the scope's expected share (from the
//   product weights), so most agreements reach a tier and some reach several,
//   while a minority is deliberately out of reach. Floating point is used only
//   to pick those sizes; every threshold, rate and cap written is produced from
//   integers ("nice" 2-significant-digit numbers, rates in hundredths, caps in cents).
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

export interface GenerateOptions {
  out: string;
  lines: number;
  seed: number;
  partners?: number;
  products?: number;
  agreements?: number;
  onProgress?: (linesWritten: number, linesTotal: number) => void;
}

export interface GenerateSummary {
  lines: number;
  partners: number;
  groups: number;
  products: number;
  categories: number;
  agreements: number;
  files: string[];
}

export const WORKLOAD_FILES = [
  'partners.csv',
  'products.csv',
  'transactions.csv',
  'agreements.json',
] as const;
export const PARTNERS_HEADER = 'id,name,group,region';
export const PRODUCTS_HEADER = 'sku,name,category,list_price';
export const TRANSACTIONS_HEADER = 'id,date,partner,sku,quantity,amount,currency';

const PROGRESS_EVERY = 100_000;
const BATCH_LINES = 10_000;
const RETURN_SHARE = 0.03;
const GROUP_SHARE = 0.65;

// ---------------------------------------------------------------------------
// Random numbers

function hashLabel(label: string): number {
  let h = 0x811c9dc5; // FNV-1a, 32-bit
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 32-bit state words. */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: string) {
    const wide = BigInt(seed);
    let state = (Number(BigInt.asUintN(32, wide)) ^ hashLabel(stream)) | 0;
    const high = Number(BigInt.asUintN(32, wide >> 32n));
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = splitmix();
    this.b = splitmix() ^ high;
    this.c = splitmix();
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  between(lo: number, hi: number): number {
    return lo + this.float() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}

/** Walker/Vose alias table: O(1) sampling from a fixed discrete distribution. */
class AliasTable {
  private readonly keep: Float64Array;
  private readonly alias: Int32Array;
  readonly size: number;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new Error('alias table needs at least one weight');
    this.size = n;
    this.keep = new Float64Array(n);
    this.alias = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / total;
      if (scaled[i]! < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!;
      const l = large[nl - 1]!;
      this.keep[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l]! < 1) {
        nl--;
        small[ns++] = l;
      }
    }
    while (nl > 0) this.keep[large[--nl]!] = 1;
    while (ns > 0) this.keep[small[--ns]!] = 1;
  }

  sample(rng: Random): number {
    const column = Math.floor(rng.float() * this.size);
    return rng.float() < this.keep[column]! ? column : this.alias[column]!;
  }
}

/** Zipf-like weights 1/(rank+1)^exponent, ranks shuffled so popularity is not tied to id order. */
function zipfWeights(n: number, exponent: number, rng: Random): Float64Array {
  const rank = rng.permutation(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 1 / (rank[i]! + 1) ** exponent;
  return w;
}

// ---------------------------------------------------------------------------
// Text helpers (integers in, text out)

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Integer cents → `-12.34`. */
function centsText(cents: number): string {
  const negative = cents < 0;
  const abs = negative ? -cents : cents;
  const whole = Math.floor(abs / 100);
  const frac = abs - whole * 100;
  return `${negative ? '-' : ''}${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

/** A positive size rounded to 2 significant digits, as an integer ≥ 1. */
function nice(x: number): number {
  if (!(x >= 1)) return 1;
  if (x < 100) return Math.round(x);
  const step = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Math.round(x / step) * step;
}

// ---------------------------------------------------------------------------
// Calendar: 2024 (baseline, 366 days) and 2025 (365 days)

interface Calendar {
  dates: string[]; // ISO date per day index 0..730
  quarter: Uint8Array; // 0..3 for 2024, 4..7 for 2025
  year2024: AliasTable; // day offsets 0..365
  year2025: AliasTable; // day offsets 0..364 (add DAYS_2024)
}

const DAYS_2024 = 366;
const MONTH_SEASON = [0.9, 0.95, 1.05, 1, 1, 1.05, 0.88, 0.92, 1.05, 1.05, 1.1, 1.25];

function buildCalendar(): Calendar {
  const dates: string[] = [];
  const quarter = new Uint8Array(731);
  const w2024: number[] = [];
  const w2025: number[] = [];
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < 731; i++) {
    const d = new Date(start + i * 86_400_000);
    dates.push(d.toISOString().slice(0, 10));
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    const weekday = d.getUTCDay();
    quarter[i] = (year - 2024) * 4 + Math.floor(month / 3);
    const weight = (weekday === 0 ? 0.15 : weekday === 6 ? 0.3 : 1) * MONTH_SEASON[month]!;
    (year === 2024 ? w2024 : w2025).push(weight);
  }
  return { dates, quarter, year2024: new AliasTable(w2024), year2025: new AliasTable(w2025) };
}

// ---------------------------------------------------------------------------
// Master data

interface Partner {
  id: string;
  group: number; // -1 when the partner is in no buying group
  discountBp: number; // standing discount off list price, basis points
  share2025: number; // probability that one of its lines falls in 2025
}

interface Product {
  sku: string;
  category: number;
  priceCents: number;
}

const REGIONS = ['NA', 'NA', 'EU', 'EU', 'APAC', 'LATAM', 'MEA'] as const;
const NAME_HEADS = [
  'Northwind',
  'Bluepeak',
  'Harbor',
  'Summit',
  'Ironwood',
  'Cedar',
  'Atlas',
  'Meridian',
  'Granite',
  'Lakeside',
  'Pioneer',
  'Redfield',
];
const NAME_TAILS = [
  'Supply',
  'Distribution',
  'Wholesale',
  'Trading',
  'Industrial',
  'Partners',
  'Logistics',
  'Outfitters',
];
const PRODUCT_WORDS = [
  'Bracket',
  'Valve',
  'Cable',
  'Sensor',
  'Panel',
  'Pump',
  'Filter',
  'Fitting',
  'Switch',
  'Adapter',
  'Bearing',
  'Gasket',
];
const PRODUCT_GRADES = ['Basic', 'Standard', 'Pro', 'Heavy Duty', 'Compact', 'Premium'];

function widthFor(count: number, minimum: number): number {
  return Math.max(minimum, String(Math.max(0, count - 1)).length);
}

function makePartners(count: number, groups: number, rng: Random): { partners: Partner[]; csv: string } {
  const width = widthFor(count, 5);
  const groupWidth = widthFor(groups, 3);
  // Every group gets at least one member: the first `groups` partners of a shuffled order.
  const order = rng.permutation(count);
  const forced = new Int32Array(count).fill(-1);
  for (let g = 0; g < groups && g < count; g++) forced[order[g]!] = g;
  const partners: Partner[] = [];
  const rows = [PARTNERS_HEADER];
  for (let i = 0; i < count; i++) {
    const group = forced[i] !== -1 ? forced[i]! : rng.chance(GROUP_SHARE) ? rng.int(0, groups - 1) : -1;
    // Growth ratio 2025/2024 between 0.7 and 1.6; share of lines in 2025 = r / (1 + r).
    const ratio = rng.between(0.7, 1.6);
    const partner: Partner = {
      id: `PTR${pad(i, width)}`,
      group,
      discountBp: rng.int(0, 24) * 50,
      share2025: ratio / (1 + ratio),
    };
    partners.push(partner);
    const name = `${rng.pick(NAME_HEADS)} ${rng.pick(NAME_TAILS)} ${i + 1}`;
    rows.push(`${partner.id},${name},${group < 0 ? '' : groupId(group, groupWidth)},${rng.pick(REGIONS)}`);
  }
  return { partners, csv: `${rows.join('\n')}\n` };
}

const groupId = (g: number, width: number): string => `GRP${pad(g, width)}`;
const categoryId = (c: number): string => `CAT${pad(c, 3)}`;

function makeProducts(count: number, categories: number, rng: Random): { products: Product[]; csv: string } {
  const width = widthFor(count, 6);
  const order = rng.permutation(count);
  const forced = new Int32Array(count).fill(-1);
  for (let c = 0; c < categories && c < count; c++) forced[order[c]!] = c;
  const endings = [0, 49, 95, 99, 99];
  const products: Product[] = [];
  const rows = [PRODUCTS_HEADER];
  for (let i = 0; i < count; i++) {
    const category = forced[i] !== -1 ? forced[i]! : rng.int(0, categories - 1);
    // Log-uniform list price from about $1 to $1,500: whole dollars plus a price ending, in cents.
    const dollars = Math.floor(Math.exp(rng.between(0, Math.log(1500))));
    const priceCents = dollars * 100 + rng.pick(endings);
    const product: Product = { sku: `SKU${pad(i, width)}`, category, priceCents };
    products.push(product);
    const name = `${rng.pick(PRODUCT_GRADES)} ${rng.pick(PRODUCT_WORDS)} ${rng.int(1, 99) * 5}`;
    rows.push(`${product.sku},${name},${categoryId(category)},${centsText(priceCents)}`);
  }
  return { products, csv: `${rows.join('\n')}\n` };
}

// ---------------------------------------------------------------------------
// Transactions

/** Per partner and quarter (0..7): realised amount in cents and quantity. */
interface Volumes {
  amountCents: Float64Array;
  quantity: Float64Array;
}

function drawQuantity(rng: Random): number {
  const r = rng.float();
  if (r < 0.8) return rng.int(1, 12);
  if (r < 0.97) return rng.int(1, 10) * 10;
  return rng.int(5, 25) * 10;
}

async function writeTransactions(
  path: string,
  lines: number,
  partners: Partner[],
  products: Product[],
  partnerTable: AliasTable,
  productTable: AliasTable,
  calendar: Calendar,
  rng: Random,
  onProgress: GenerateOptions['onProgress'],
): Promise<Volumes> {
  const volumes: Volumes = {
    amountCents: new Float64Array(partners.length * 8),
    quantity: new Float64Array(partners.length * 8),
  };
  const idWidth = Math.max(10, String(lines).length);
  const stream = createWriteStream(path, { highWaterMark: 1 << 20 });
  let failure: unknown;
  stream.on('error', (error) => {
    failure = error;
  });
  let reported = 0;
  try {
    let pending = `${TRANSACTIONS_HEADER}\n`;
    let written = 0;
    while (written < lines) {
      const end = Math.min(lines, written + BATCH_LINES);
      for (let i = written; i < end; i++) {
        const p = partnerTable.sample(rng);
        const partner = partners[p]!;
        const day = rng.chance(partner.share2025)
          ? DAYS_2024 + calendar.year2025.sample(rng)
          : calendar.year2024.sample(rng);
        const s = productTable.sample(rng);
        const product = products[s]!;
        const quantity = rng.chance(RETURN_SHARE) ? -rng.int(1, 8) : drawQuantity(rng);
        // Unit price: list less the partner's discount and a per-line deal of up to 5 %, in
        // basis points, rounded half up; all integers.
        const factorBp = 10_000 - partner.discountBp - rng.int(0, 10) * 50;
        const unitCents = Math.max(1, Math.floor((product.priceCents * factorBp + 5_000) / 10_000));
        const cents = unitCents * quantity;
        const slot = p * 8 + calendar.quarter[day]!;
        volumes.amountCents[slot] = volumes.amountCents[slot]! + cents;
        volumes.quantity[slot] = volumes.quantity[slot]! + quantity;
        pending += `TX${pad(i, idWidth)},${calendar.dates[day]},${partner.id},${product.sku},${quantity},${centsText(cents)},USD\n`;
      }
      written = end;
      if (failure !== undefined) throw failure;
      if (!stream.write(pending)) await once(stream, 'drain');
      pending = '';
      if (onProgress && written - reported >= PROGRESS_EVERY) {
        reported = written;
        onProgress(written, lines);
      }
    }
    if (pending !== '') stream.write(pending);
    stream.end();
    await finished(stream);
  } catch (error) {
    stream.destroy();
    throw error;
  }
  if (onProgress && (reported !== lines || lines === 0)) onProgress(lines, lines);
  return volumes;
}

// ---------------------------------------------------------------------------
// Agreements

type Scope = { categories?: string[]; skus?: string[] };

/** A drawn scope and its expected share of all amount and quantity. */
interface ScopeDraw {
  scope: Scope;
  amount: number;
  quantity: number;
}

interface Tier {
  from: string;
  rate: string;
}

interface Agreement {
  id: string;
  partner?: string;
  group?: string;
  type: 'volume' | 'growth' | 'mix';
  period: { start: string; end: string };
  baseline?: { start: string; end: string };
  scope: Scope;
  basis: 'amount' | 'quantity';
  method: 'retroactive' | 'incremental';
  payout: 'percent' | 'per_unit';
  apply?: 'total' | 'increment';
  mix?: { categories: string[]; minShare: string };
  tiers: Tier[];
  cap?: string;
}

const QUARTER_BOUNDS = [
  ['01-01', '03-31'],
  ['04-01', '06-30'],
  ['07-01', '09-30'],
  ['10-01', '12-31'],
] as const;

/** Hundredths (integer) → `1.25`. */
const hundredthsText = (n: number): string => centsText(n);

class AgreementBuilder {
  private readonly groupMembers: number[][];
  private readonly productAmountShare: Float64Array;
  private readonly productQuantityShare: Float64Array;
  private readonly categoryAmountShare: Float64Array;
  private readonly categoryQuantityShare: Float64Array;
  private readonly groupsWithMembers: number[];
  private readonly categoryTable: AliasTable;
  private readonly groupWidth: number;

  constructor(
    private readonly rng: Random,
    private readonly partners: Partner[],
    private readonly products: Product[],
    productWeights: Float64Array,
    private readonly partnerTable: AliasTable,
    private readonly productTable: AliasTable,
    private readonly volumes: Volumes,
    groups: number,
    private readonly categories: number,
  ) {
    this.groupWidth = widthFor(groups, 3);
    this.groupMembers = Array.from({ length: groups }, () => []);
    partners.forEach((p, i) => {
      if (p.group >= 0) this.groupMembers[p.group]!.push(i);
    });
    let amountTotal = 0;
    let weightTotal = 0;
    for (let j = 0; j < products.length; j++) {
      amountTotal += productWeights[j]! * products[j]!.priceCents;
      weightTotal += productWeights[j]!;
    }
    this.productAmountShare = new Float64Array(products.length);
    this.productQuantityShare = new Float64Array(products.length);
    const categoryAmount = new Float64Array(categories);
    const categoryQuantity = new Float64Array(categories);
    for (let j = 0; j < products.length; j++) {
      const a = (productWeights[j]! * products[j]!.priceCents) / amountTotal;
      const q = productWeights[j]! / weightTotal;
      const c = products[j]!.category;
      this.productAmountShare[j] = a;
      this.productQuantityShare[j] = q;
      categoryAmount[c] = categoryAmount[c]! + a;
      categoryQuantity[c] = categoryQuantity[c]! + q;
    }
    this.categoryAmountShare = categoryAmount;
    this.categoryQuantityShare = categoryQuantity;
    this.groupsWithMembers = this.groupMembers.flatMap((m, g) => (m.length > 0 ? [g] : []));
    this.categoryTable = new AliasTable(Array.from(categoryAmount, (v) => v + 1e-9));
  }

  build(index: number, width: number): Agreement {
    const rng = this.rng;
    let members: readonly number[];
    let who: { partner: string } | { group: string };
    if (this.groupsWithMembers.length > 0 && rng.chance(0.18)) {
      const g = rng.pick(this.groupsWithMembers);
      members = this.groupMembers[g]!;
      who = { group: groupId(g, this.groupWidth) };
    } else {
      // Half the partner agreements go to big partners, half to anyone.
      const p = rng.chance(0.5) ? this.partnerTable.sample(rng) : rng.int(0, this.partners.length - 1);
      members = [p];
      who = { partner: this.partners[p]!.id };
    }
    const annual = rng.chance(0.4);
    const q = rng.int(0, 3);
    const [startMd, endMd] = annual ? ['01-01', '12-31'] : QUARTER_BOUNDS[q]!;
    const quarters = annual ? [0, 1, 2, 3] : [q];
    const period = { start: `2025-${startMd}`, end: `2025-${endMd}` };
    const sum = (field: Float64Array, yearOffset: number): number => {
      let total = 0;
      for (const m of members) for (const qq of quarters) total += field[m * 8 + yearOffset + qq]!;
      return total;
    };
    const amount2025 = sum(this.volumes.amountCents, 4) / 100; // dollars, sizing only
    const quantity2025 = sum(this.volumes.quantity, 4);
    const amount2024 = sum(this.volumes.amountCents, 0) / 100;

    const id = `RB25-${pad(index, width)}`;
    const kind = rng.float();
    let agreement: Agreement;
    let estimate: number; // expected rebate in dollars, for sizing the cap
    if (kind < 0.55) {
      const share = this.drawScope();
      const scope = share.scope;
      const basis = rng.chance(0.65) ? 'amount' : 'quantity';
      const method = rng.chance(0.55) ? 'retroactive' : 'incremental';
      const payout =
        method === 'incremental'
          ? basis === 'amount'
            ? 'percent'
            : 'per_unit'
          : rng.chance(0.75)
            ? 'percent'
            : 'per_unit';
      const expectedAmount = amount2025 * share.amount;
      const expectedQuantity = quantity2025 * share.quantity;
      const measure = basis === 'amount' ? expectedAmount : expectedQuantity;
      const froms = this.volumeThresholds(measure, method === 'incremental');
      const rates = this.rates(froms.length, payout);
      agreement = {
        id,
        ...who,
        type: 'volume',
        period,
        scope,
        basis,
        method,
        payout,
        tiers: froms.map((f, i) => ({ from: String(f), rate: hundredthsText(rates[i]!) })),
      };
      estimate = estimateVolume(froms, rates, measure, expectedAmount, expectedQuantity, method, payout);
    } else if (kind < 0.8) {
      const share = this.drawScope();
      const scope = share.scope;
      const apply = rng.chance(0.55) ? 'total' : 'increment';
      const ladder = rng.pick([
        [0, 5, 15],
        [0, 5, 15],
        [0, 10, 20],
        [2, 8, 15],
        [5, 15, 30],
        [0, 3, 10],
      ]);
      const froms = ladder.slice(0, rng.int(1, 3));
      const rates = this.rates(froms.length, 'percent');
      agreement = {
        id,
        ...who,
        type: 'growth',
        period,
        baseline: { start: `2024-${startMd}`, end: `2024-${endMd}` },
        scope,
        basis: 'amount',
        method: 'retroactive',
        payout: 'percent',
        apply,
        tiers: froms.map((f, i) => ({ from: String(f), rate: hundredthsText(rates[i]!) })),
      };
      const a = amount2025 * share.amount;
      const b = amount2024 * share.amount;
      let reached = -1;
      froms.forEach((f, i) => {
        if (b > 0 && (a - b) * 100 >= f * b) reached = i;
      });
      estimate = reached < 0 ? 0 : ((apply === 'total' ? a : a - b) * rates[reached]!) / 10_000;
    } else {
      const mixCategory = this.categoryTable.sample(rng);
      let share: ScopeDraw = { scope: {}, amount: 1, quantity: 1 };
      if (rng.chance(0.3) && this.categories > 1) {
        const set = new Set([mixCategory]);
        for (let k = rng.int(1, 3); k > 0; k--) set.add(rng.int(0, this.categories - 1));
        share = this.categoryScope(set);
      }
      const scope = share.scope;
      const mixShare = share.amount > 0 ? (this.categoryAmountShare[mixCategory]! / share.amount) * 100 : 0;
      const minShare = Math.min(95, Math.max(1, Math.round(mixShare * rng.between(0.45, 1.35))));
      const expectedAmount = amount2025 * share.amount;
      const froms = rng.chance(0.7) ? [0] : [0, nice(expectedAmount * rng.between(0.4, 1.2))];
      const rates = this.rates(froms.length, 'percent');
      agreement = {
        id,
        ...who,
        type: 'mix',
        period,
        scope,
        basis: 'amount',
        method: 'retroactive',
        payout: 'percent',
        mix: { categories: [categoryId(mixCategory)], minShare: String(minShare) },
        tiers: froms.map((f, i) => ({ from: String(f), rate: hundredthsText(rates[i]!) })),
      };
      const reached = froms.filter((f) => f <= expectedAmount).length - 1;
      estimate = reached < 0 ? 0 : (expectedAmount * rates[reached]!) / 10_000;
    }
    if (rng.chance(0.2)) {
      const dollars = estimate > 1 ? nice(estimate * rng.between(0.6, 2.5)) : nice(rng.between(50, 5_000));
      agreement.cap = centsText(dollars * 100 + rng.pick([0, 0, 0, 50]));
    }
    return agreement;
  }

  private drawScope(): ScopeDraw {
    const rng = this.rng;
    const r = rng.float();
    if (r < 0.4) return { scope: {}, amount: 1, quantity: 1 };
    if (r < 0.75) {
      const set = new Set<number>();
      for (let k = rng.int(1, Math.min(4, this.categories)); k > 0; k--) {
        set.add(rng.int(0, this.categories - 1));
      }
      return this.categoryScope(set);
    }
    // A SKU list: mostly popular products, some long-tail ones.
    const set = new Set<number>();
    for (let k = rng.int(1, 25); k > 0; k--) {
      set.add(rng.chance(0.75) ? this.productTable.sample(rng) : rng.int(0, this.products.length - 1));
    }
    const chosen = [...set].sort((x, y) => x - y);
    let amount = 0;
    let quantity = 0;
    for (const j of chosen) {
      amount += this.productAmountShare[j]!;
      quantity += this.productQuantityShare[j]!;
    }
    return { scope: { skus: chosen.map((j) => this.products[j]!.sku) }, amount, quantity };
  }

  private categoryScope(set: Set<number>): ScopeDraw {
    const chosen = [...set].sort((x, y) => x - y);
    let amount = 0;
    let quantity = 0;
    for (const c of chosen) {
      amount += this.categoryAmountShare[c]!;
      quantity += this.categoryQuantityShare[c]!;
    }
    return { scope: { categories: chosen.map(categoryId) }, amount, quantity };
  }

  /** Ascending integer thresholds around the expected measure. */
  private volumeThresholds(expected: number, incremental: boolean): number[] {
    const rng = this.rng;
    const count = rng.pick([1, 2, 2, 3, 3, 4]);
    const froms: number[] = [];
    const r = rng.float();
    if (r < (incremental ? 0.55 : 0.35)) froms.push(0);
    else if (r < 0.88) froms.push(nice(expected * rng.between(0.15, 0.8)));
    else froms.push(nice(expected * rng.between(1.2, 2))); // a stretch target, usually missed
    while (froms.length < count) {
      const previous = froms[froms.length - 1]!;
      const base = previous === 0 ? expected * rng.between(0.2, 0.7) : previous * rng.between(1.4, 2.5);
      froms.push(Math.max(previous + 1, nice(base)));
    }
    return froms;
  }

  /** Ascending rates in hundredths: percent 0.50–3.00 then +0.25…1.25; per unit 0.05–0.50 then +0.05…0.25. */
  private rates(count: number, payout: 'percent' | 'per_unit'): number[] {
    const rng = this.rng;
    const out: number[] = [];
    let rate = payout === 'percent' ? rng.int(2, 12) * 25 : rng.int(1, 10) * 5;
    for (let i = 0; i < count; i++) {
      out.push(rate);
      rate += payout === 'percent' ? rng.int(1, 5) * 25 : rng.int(1, 5) * 5;
    }
    return out;
  }
}

/** Expected rebate in dollars of a volume agreement, for sizing its cap. */
function estimateVolume(
  froms: number[],
  rates: number[],
  measure: number,
  amount: number,
  quantity: number,
  method: 'retroactive' | 'incremental',
  payout: 'percent' | 'per_unit',
): number {
  const scale = payout === 'percent' ? 10_000 : 100;
  if (method === 'incremental') {
    let total = 0;
    froms.forEach((f, i) => {
      if (measure >= f)
        total += ((Math.min(measure, froms[i + 1] ?? Number.POSITIVE_INFINITY) - f) * rates[i]!) / scale;
    });
    return total;
  }
  const reached = froms.filter((f) => f <= measure).length - 1;
  if (reached < 0) return 0;
  return ((payout === 'percent' ? amount : quantity) * rates[reached]!) / scale;
}

// ---------------------------------------------------------------------------
// Entry point

function checkCount(name: string, value: number, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new RangeError(`${name} must be an integer ≥ ${minimum}, got ${value}`);
  }
  return value;
}

export async function generateWorkload(options: GenerateOptions): Promise<GenerateSummary> {
  const lines = checkCount('lines', options.lines, 0);
  if (!Number.isSafeInteger(options.seed))
    throw new RangeError(`seed must be a safe integer, got ${options.seed}`);
  const partnerCount = checkCount('partners', options.partners ?? Math.max(20, Math.round(lines / 1000)), 1);
  const productCount = checkCount('products', options.products ?? Math.max(50, Math.round(lines / 500)), 1);
  const agreementCount = checkCount('agreements', options.agreements ?? partnerCount * 2, 0);
  const groupCount = Math.min(partnerCount, Math.max(2, Math.round(partnerCount / 200)));
  const categoryCount = Math.min(productCount, Math.max(4, Math.min(100, Math.round(productCount / 150))));

  await mkdir(options.out, { recursive: true });
  const files = WORKLOAD_FILES.map((name) => join(options.out, name));
  const [partnersPath, productsPath, transactionsPath, agreementsPath] = files as [
    string,
    string,
    string,
    string,
  ];

  const partnerRng = new Random(options.seed, 'partners');
  const { partners, csv: partnersCsv } = makePartners(partnerCount, groupCount, partnerRng);
  const partnerTable = new AliasTable(zipfWeights(partnerCount, 0.85, partnerRng));
  await writeFile(partnersPath, partnersCsv);

  const productRng = new Random(options.seed, 'products');
  const { products, csv: productsCsv } = makeProducts(productCount, categoryCount, productRng);
  const productWeights = zipfWeights(productCount, 1.05, productRng);
  const productTable = new AliasTable(productWeights);
  await writeFile(productsPath, productsCsv);

  const volumes = await writeTransactions(
    transactionsPath,
    lines,
    partners,
    products,
    partnerTable,
    productTable,
    buildCalendar(),
    new Random(options.seed, 'lines'),
    options.onProgress,
  );

  const builder = new AgreementBuilder(
    new Random(options.seed, 'agreements'),
    partners,
    products,
    productWeights,
    partnerTable,
    productTable,
    volumes,
    groupCount,
    categoryCount,
  );
  const idWidth = widthFor(agreementCount, 5);
  const agreements: Agreement[] = [];
  for (let i = 0; i < agreementCount; i++) agreements.push(builder.build(i, idWidth));
  await writeFile(agreementsPath, `${JSON.stringify(agreements, null, 2)}\n`);

  return {
    lines,
    partners: partnerCount,
    groups: groupCount,
    products: productCount,
    categories: categoryCount,
    agreements: agreementCount,
    files,
  };
}
