// `rebates demo`: a small, realistic data set — a tool manufacturer selling
// through distributors and two buying groups over 2024 and 2025 — with one
// agreement of every kind, loaded through the normal import path and settled.
// The data is generated deterministically, so every run shows the same figures.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importAgreements } from '../agreements/agreements.service.ts';
import { readTemplate, saveTemplate, type TemplateInput } from '../agreements/templates.ts';
import { commandLineActor } from '../audit/audit.service.ts';
import { printImportSummary } from '../imports/import.format.ts';
import { importFile } from '../imports/import.service.ts';
import { explainAgreement } from '../settlements/explain.ts';
import { formatSettlement } from '../settlements/settlement.format.ts';
import { settle } from '../settlements/settlement.service.ts';
import { csvField } from '../shared/csv-text.ts';
import { addDays } from '../shared/dates.ts';
import type { Store } from '../store/database.ts';

const PARTNERS: [id: string, name: string, group: string, region: string][] = [
  ['D-1001', 'Midwest Industrial Supply', '', 'NA'],
  ['D-1002', 'Coastal Tool & Fastener', '', 'NA'],
  ['D-1003', 'Northern Trade Distributors', '', 'EU'],
  ['D-1004', 'Summit Builders Depot', 'G-PBA', 'NA'],
  ['D-1005', 'Riverside Contractor Supply', 'G-PBA', 'NA'],
  ['D-1006', 'Keystone Hardware', 'G-PBA', 'NA'],
  ['D-1007', 'Valley Hardware Co-op Store', 'G-ACE', 'NA'],
  ['D-1008', 'Harbor Hardware', 'G-ACE', 'NA'],
  ['D-1009', 'Prairie Farm & Home', 'G-ACE', 'NA'],
  ['D-1010', 'Alpine Pro Tools', '', 'EU'],
];

// sku, name, category, brand, list price in cents
const PRODUCTS: [string, string, string, string, number][] = [
  ['PT-100', 'Cordless drill 18V', 'power-tools', 'Apex', 14900],
  ['PT-110', 'Impact driver 18V', 'power-tools', 'Apex', 17900],
  ['PT-120', 'Circular saw 7-1/4"', 'power-tools', 'Forge', 12900],
  ['PT-130', 'Angle grinder 4-1/2"', 'power-tools', 'Forge', 8900],
  ['PT-140', 'Reciprocating saw', 'power-tools', 'Apex', 15900],
  ['HT-200', 'Claw hammer 16oz', 'hand-tools', 'Forge', 2400],
  ['HT-210', 'Screwdriver set 12pc', 'hand-tools', 'Apex', 3900],
  ['HT-220', 'Adjustable wrench 10"', 'hand-tools', 'Forge', 2900],
  ['HT-230', 'Tape measure 25ft', 'hand-tools', 'Apex', 1900],
  ['FS-300', 'Wood screws #8 box 500', 'fasteners', 'Forge', 1850],
  ['FS-310', 'Anchors assorted 200', 'fasteners', 'Forge', 2250],
  ['FS-320', 'Structural bolts box 50', 'fasteners', 'Apex', 4100],
  ['SF-400', 'Safety glasses', 'safety', 'Apex', 990],
  ['SF-410', 'Work gloves pair', 'safety', 'Forge', 1450],
  ['SF-420', 'Ear defenders', 'safety', 'Apex', 2650],
  ['SF-430', 'Hard hat', 'safety', 'Forge', 3200],
  ['SF-440', 'Hi-vis vest', 'safety', 'Apex', 1200],
  ['AC-500', 'Drill bit set 29pc', 'accessories', 'Apex', 4900],
  ['AC-510', 'Saw blade 24T', 'accessories', 'Forge', 2100],
  ['AC-520', 'Battery 18V 5Ah', 'accessories', 'Apex', 9900],
];

/** A small integer-only PRNG (xorshift32): the demo needs the same data on every run. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

function cents(value: number): string {
  const negative = value < 0;
  const abs = Math.abs(value);
  return `${negative ? '-' : ''}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function demoFiles(): Record<string, string> {
  const next = random(20250101);
  const partners = ['id,name,group,region', ...PARTNERS.map((p) => p.map(csvField).join(','))].join('\n');
  const products = [
    'sku,name,category,list_price,brand',
    ...PRODUCTS.map(([sku, name, category, brand, price]) =>
      [sku, name, category, cents(price), brand].map(csvField).join(','),
    ),
  ].join('\n');
  const lines = ['id,date,partner,sku,quantity,amount,currency'];
  let n = 0;
  // Partner size (orders per week) and 2025 growth in percent points over 2024.
  const size = [9, 6, 4, 3, 3, 2, 2, 2, 1, 3];
  const growth = [12, -8, 25, 18, 4, 30, 10, -5, 40, 0];
  for (let day = 0; day < 731; day++) {
    const date = addDays('2024-01-01', day);
    const in2025 = date >= '2025-01-01';
    PARTNERS.forEach(([partner], p) => {
      const weekly = size[p]! * (in2025 ? 100 + growth[p]! : 100);
      if (next(700) >= weekly) return;
      const [sku, , , , price] = PRODUCTS[next(PRODUCTS.length)]!;
      let quantity = 1 + next(24);
      if (next(40) === 0) quantity = -(1 + next(4)); // a return
      const discountPercent = next(4) * 5;
      const unit = Math.trunc((price * (100 - discountPercent)) / 100);
      n += 1;
      lines.push(
        [
          `INV-${String(n).padStart(6, '0')}`,
          date,
          partner,
          sku,
          String(quantity),
          cents(unit * quantity),
          'USD',
        ].join(','),
      );
    });
  }
  const agreements = [
    {
      id: 'DEMO-01-VOLUME',
      name: 'Midwest Industrial quarterly volume rebate',
      partner: 'D-1001',
      period: { start: '2025-01-01', end: '2025-12-31' },
      calendar: 'quarterly',
      rules: [
        {
          id: 'volume',
          type: 'volume',
          basis: 'amount',
          method: 'retroactive',
          payout: 'percent',
          tiers: [
            { from: '0', rate: '1.00' },
            { from: '40000', rate: '2.00' },
            { from: '80000', rate: '3.00' },
          ],
          cap: '2500.00',
        },
      ],
    },
    {
      id: 'DEMO-02-INCREMENTAL',
      name: 'Coastal power tools stepped rebate',
      partner: 'D-1002',
      period: { start: '2025-01-01', end: '2025-12-31' },
      rules: [
        {
          id: 'power-tools',
          method: 'incremental',
          tiers: [
            { from: '0', rate: '1.50' },
            { from: '50000', rate: '3.00' },
            { from: '120000', rate: '4.50' },
          ],
          scope: { categories: ['power-tools'], exclude: { skus: ['PT-130'] } },
        },
      ],
    },
    {
      id: 'DEMO-03-ROLLING',
      name: 'Northern Trade units rolling rebate',
      partner: 'D-1003',
      period: { start: '2025-01-01', end: '2025-12-31' },
      rules: [
        {
          id: 'units',
          basis: 'quantity',
          method: 'rolling',
          payout: 'per_unit',
          tiers: [
            { from: '0', rate: '0.25' },
            { from: '800', rate: '0.50' },
            { from: '1500', rate: '0.75' },
          ],
        },
      ],
    },
    {
      id: 'DEMO-04-GROWTH',
      name: 'Pro Builders Alliance growth program',
      group: 'G-PBA',
      beneficiary: 'D-1004',
      period: { start: '2025-01-01', end: '2025-12-31' },
      calendar: 'quarterly',
      rules: [
        {
          id: 'growth',
          type: 'growth',
          apply: 'banded',
          baseline: 'same_period_last_year',
          tiers: [
            { from: '0', rate: '2.00' },
            { from: '10', rate: '5.00' },
            { from: '25', rate: '8.00' },
          ],
        },
      ],
    },
    {
      id: 'DEMO-05-MIX',
      name: 'Harbor Hardware safety mix bonus',
      partner: 'D-1008',
      period: { start: '2025-01-01', end: '2025-12-31' },
      rules: [
        {
          id: 'mix',
          type: 'mix',
          tiers: [{ from: '0', rate: '2.50' }],
          mix: { categories: ['safety'], minShare: '20', minProducts: 4 },
        },
      ],
    },
    {
      id: 'DEMO-06-TARGET',
      name: 'Alpine Pro Tools annual target bonus',
      partner: 'D-1010',
      period: { start: '2025-01-01', end: '2025-12-31' },
      rules: [
        {
          id: 'target',
          type: 'target',
          tiers: [
            { from: '60000', rate: '1500.00' },
            { from: '90000', rate: '1000.00' },
          ],
          method: 'total',
          minimumPayout: '500.00',
        },
      ],
    },
    {
      id: 'DEMO-07-GROUP-BRAND',
      name: 'ACE co-op Apex brand monthly rebate',
      group: 'G-ACE',
      beneficiary: 'D-1007',
      period: { start: '2025-01-01', end: '2025-06-30' },
      calendar: 'monthly',
      rules: [
        {
          id: 'apex',
          method: 'total',
          tiers: [
            { from: '0', rate: '0.50' },
            { from: '5000', rate: '0.75' },
          ],
          scope: { attributes: { brand: ['Apex'] } },
          minimumVolume: '1000',
          minimumPayout: '25.00',
        },
      ],
    },
  ];
  return {
    'partners.csv': `${partners}\n`,
    'products.csv': `${products}\n`,
    'transactions.csv': `${lines.join('\n')}\n`,
    'agreements.json': `${JSON.stringify(agreements, null, 2)}\n`,
  };
}

/** Templates for the kinds of deal the demo's commercial team writes most. */
const DEMO_TEMPLATES: Record<string, TemplateInput> = {
  'QUARTERLY-VOLUME': {
    name: 'Quarterly volume tiers',
    description: 'Percent of net sales, retroactive to the first dollar, settled every quarter',
    calendar: 'quarterly',
    currency: 'USD',
    rules: [
      {
        id: 'volume',
        type: 'volume',
        basis: 'amount',
        method: 'retroactive',
        payout: 'percent',
        tiers: [
          { from: '0', rate: '1' },
          { from: '50000', rate: '2' },
          { from: '100000', rate: '3' },
        ],
      },
    ],
  },
  'ANNUAL-GROWTH': {
    name: 'Annual growth over last year',
    description: 'Percent of the growth over the same period last year, paid once a year',
    calendar: 'yearly',
    currency: 'USD',
    rules: [
      {
        id: 'growth',
        type: 'growth',
        basis: 'amount',
        payout: 'percent',
        apply: 'increment',
        baseline: 'same_period_last_year',
        tiers: [
          { from: '0', rate: '5' },
          { from: '10', rate: '8' },
        ],
      },
    ],
  },
};

export async function runDemo(store: Store, write: (text: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rebates-demo-'));
  try {
    for (const [name, text] of Object.entries(demoFiles())) writeFileSync(join(dir, name), text);
    write(
      `Demo data into the ${store.kind === 'pglite' ? `embedded store at ${store.location}` : store.location}\n\n`,
    );
    for (const kind of ['partners', 'products', 'transactions'] as const) {
      printImportSummary(await importFile(store, { kind, file: join(dir, `${kind}.csv`) }), write);
    }
    printImportSummary(await importAgreements(store, { file: join(dir, 'agreements.json') }), write);
    for (const [id, template] of Object.entries(DEMO_TEMPLATES)) {
      if (await readTemplate(store.db, id)) continue;
      await saveTemplate(store.db, id, template, { actor: commandLineActor() }, 'create');
      write(`Agreement template ${id}: ${template.name}\n`);
    }
    const ids = JSON.parse(demoFiles()['agreements.json']!).map((a: { id: string }) => a.id) as string[];
    const run = await settle(store.db, { agreementIds: ids });
    write(`\nSettlement of the demo agreements (every line of 2024 and 2025):\n\n`);
    write(formatSettlement(run.results, 'table', new Date().toISOString().slice(0, 10)));
    write('\nHow one figure was reached (rebates explain DEMO-02-INCREMENTAL):\n\n');
    write(await explainAgreement(store.db, 'DEMO-02-INCREMENTAL', new Date().toISOString().slice(0, 10)));
    write(
      '\nNext: rebates settle --format csv, rebates explain DEMO-04-GROWTH, rebates import --help.\n' +
        'Running the demo again adds nothing: every import is idempotent.\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
