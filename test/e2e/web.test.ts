// The web app in a real browser (Debian's Chromium, driven by Playwright), on
// the embedded store with the demo data: every role signs in and sees its own
// pages; the commercial team designs an agreement from a template with a live
// preview and cannot approve its own; finance imports a file with a bad row and
// sees the accruals move, prepares, approves (another user) and posts a
// settlement and downloads the credit memo; a partner sees only its own data and
// submits a claim. Screenshots of the main pages go to docs/screenshots.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { runDemo } from '../../src/demo/demo.service.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { listen, TEST_PASSWORD, usersWithTokens } from '../support/http.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
const present = existsSync(CHROMIUM);
if (!present)
  console.error(
    '\n*** NOTICE: no Chromium at /usr/bin/chromium: the browser tests are SKIPPED.      ***\n' +
      '*** Install it with `apt-get install -y chromium` to run them (CI does).          ***\n',
  );

describe('the web app in Chromium', { skip: present ? false : 'no Chromium at /usr/bin/chromium' }, () => {
  let store: Store;
  let app: FastifyInstance;
  let origin: string;
  let browser: Browser;

  before(async () => {
    const build = spawnSync('npm', ['run', 'build:web'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    store = await openStore({});
    await runDemo(store, () => undefined);
    await usersWithTokens(store, {
      ada: { role: 'admin' },
      carla: { role: 'commercial' },
      cole: { role: 'commercial' },
      sam: { role: 'sales' },
      fin: { role: 'finance' },
      fiona: { role: 'finance' },
      aud: { role: 'auditor' },
      coastal: { role: 'partner', partnerId: 'D-1002' },
    });
    ({ app, origin } = await listen(store));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
  });

  /** A fresh browser context signed in as the user. */
  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'en-US',
      acceptDownloads: true,
    });
    const page = await context.newPage();
    await page.goto(origin);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }
  const nav = (page: Page, name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  /** Runs axe-core on the page and returns its serious and critical accessibility violations. */
  const accessibilityProblems = async (page: Page) => {
    await page.addScriptTag({ path: join(ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
    const violations = await page.evaluate(async () => {
      // biome-ignore lint/suspicious/noExplicitAny: axe is injected into the page above
      const result = await (globalThis as any).axe.run((globalThis as any).document, {
        resultTypes: ['violations'],
      });
      return result.violations.map((v: { id: string; impact: string; nodes: { target: string[] }[] }) => ({
        id: v.id,
        impact: v.impact,
        where: v.nodes.map((n) => n.target.join(' ')).slice(0, 3),
      }));
    });
    return (violations as { id: string; impact: string; where: string[] }[]).filter((v) =>
      ['serious', 'critical'].includes(v.impact),
    );
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  test('every role signs in and sees the pages it may use; a wrong password is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(origin);
    await page.getByLabel('Username').fill('fin');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await context.close();

    const expected: Record<string, string[]> = {
      ada: [
        'Dashboard',
        'Agreements',
        'Templates',
        'Partners',
        'Products',
        'Lines',
        'Imports',
        'Ledger',
        'Settlements',
        'Claims',
        'Audit',
      ],
      carla: [
        'Dashboard',
        'Agreements',
        'Templates',
        'Partners',
        'Products',
        'Lines',
        'Imports',
        'Settlements',
        'Claims',
      ],
      sam: ['Dashboard', 'Agreements', 'Templates', 'Partners', 'Products', 'Lines', 'Settlements', 'Claims'],
      fin: [
        'Dashboard',
        'Agreements',
        'Templates',
        'Partners',
        'Products',
        'Lines',
        'Imports',
        'Ledger',
        'Settlements',
        'Claims',
      ],
      aud: [
        'Dashboard',
        'Agreements',
        'Templates',
        'Partners',
        'Products',
        'Lines',
        'Ledger',
        'Settlements',
        'Claims',
        'Audit',
      ],
      coastal: ['My agreements'],
    };
    for (const [user, links] of Object.entries(expected)) {
      const signedIn = await signIn(user);
      const nav = signedIn.getByRole('navigation', { name: 'Main' });
      assert.deepEqual(await nav.getByRole('link').allTextContents(), links, user);
      if (user === 'sam') {
        await nav.getByRole('link', { name: 'Partners', exact: true }).click();
        await signedIn.getByRole('link', { name: 'D-1004', exact: true }).click();
        await signedIn.getByText('Member of buying group G-PBA, with D-1005, D-1006.').waitFor();
      }
      if (user === 'ada') {
        await signedIn.getByTestId('accrued-USD').waitFor();
        await shot(signedIn, 'dashboard');
      }
      await signedIn.context().close();
    }
  });

  test('the commercial team designs from a template with a live preview, and cannot approve its own', async () => {
    const carla = await signIn('carla');
    await nav(carla, 'Agreements');
    await carla.getByRole('link', { name: 'New agreement' }).click();
    await carla.getByLabel('Template').selectOption({ label: 'Quarterly volume tiers' });
    await carla.getByLabel('Id').fill('WEB-1');
    await carla.getByLabel('Name').fill('Coastal Tool 2025, designed in the browser');
    await carla.getByLabel('Partner').fill('D-1002');
    await carla.getByLabel('Tier 3 rate').fill('4');
    const total = carla.getByTestId('preview-total');
    await total.waitFor();
    assert.match((await total.textContent()) ?? '', /^\$[\d,]+\.\d\d$/);
    await carla.getByRole('figure').filter({ hasText: 'Payout curve' }).waitFor();
    await shot(carla, 'designer');
    await carla.getByRole('button', { name: 'Save and submit for approval' }).click();
    await carla.getByRole('heading', { name: /WEB-1/ }).waitFor();
    await carla.getByRole('button', { name: 'Approve', exact: true }).click();
    await carla.getByRole('alert').filter({ hasText: 'may not approve it' }).waitFor();
    await carla.context().close();

    const cole = await signIn('cole');
    await cole.goto(`${origin}/agreements/WEB-1`);
    await cole.getByRole('button', { name: 'Approve', exact: true }).click();
    await cole.getByRole('status').filter({ hasText: 'The agreement is approved.' }).waitFor();
    await cole.getByRole('button', { name: 'Activate' }).click();
    await cole.getByRole('status').filter({ hasText: 'The agreement is active.' }).waitFor();
    await cole
      .getByText('Sell', { exact: false })
      .first()
      .waitFor({ timeout: 1 })
      .catch(() => undefined);
    await shot(cole, 'agreement');
    await cole.context().close();
  });

  test('an active agreement is amended from a date and approved by another user', async () => {
    const carla = await signIn('carla');
    await carla.goto(`${origin}/agreements/WEB-1`);
    const form = carla.getByRole('form', { name: 'Amend' });
    await form.getByLabel('In force from').fill('2025-07-01');
    await form.getByLabel('Tier 1 new rate').fill('1.5');
    await form.getByLabel('Why').fill('launch support for the second half');
    await form.getByRole('button', { name: 'Submit amendment' }).click();
    await carla.getByRole('status').filter({ hasText: 'Version 2 is submitted' }).waitFor();
    await carla.getByRole('button', { name: 'Approve version 2' }).click();
    await carla.getByRole('alert').filter({ hasText: 'may not approve it' }).waitFor();
    await carla.context().close();

    const cole = await signIn('cole');
    await cole.goto(`${origin}/agreements/WEB-1`);
    await cole.getByRole('button', { name: 'Approve version 2' }).click();
    await cole.getByRole('status').filter({ hasText: 'Version 2 is approved.' }).waitFor();
    // The third quarter is now paid on version 2's tiers.
    await cole.getByRole('row').filter({ hasText: 'Jul 1, 2025' }).filter({ hasText: 'v2' }).waitFor();
    await cole.context().close();
  });

  test('finance imports a file with a bad row, sees it in place, and sees the accruals move', async () => {
    const fin = await signIn('fin');
    await fin.goto(`${origin}/agreements/WEB-1`);
    const q1 = fin.getByRole('row').filter({ hasText: 'Jan 1, 2025' }).first();
    await q1.waitFor();
    const before = await q1.textContent();
    const csv = [
      'id,date,partner,sku,quantity,amount,currency',
      'WEB-L1,2025-02-14,D-1002,PT-100,10,1490.00,USD',
      'WEB-L2,2025-02-30,D-1002,PT-100,1,149.00,USD',
    ].join('\n');
    const file = join(tmpdir(), `web-lines-${process.pid}.csv`);
    writeFileSync(file, `${csv}\n`);
    await nav(fin, 'Imports');
    await fin.getByLabel('CSV or XLSX file').setInputFiles(file);
    await fin.getByRole('region', { name: 'First rows' }).getByText('WEB-L2').waitFor();
    await fin.getByRole('button', { name: 'Upload' }).click();
    await fin.getByRole('alert').filter({ hasText: 'nothing was imported' }).waitFor();
    assert.match((await fin.getByRole('alert').textContent()) ?? '', /line 3\.date/);
    await fin.getByLabel('Keep the good rows when some are bad').check();
    await fin.getByRole('button', { name: 'Upload' }).click();
    await fin.getByRole('status').filter({ hasText: '1 imported' }).waitFor();
    assert.match((await fin.getByRole('status').textContent()) ?? '', /1 rejected of 2 rows/);
    await shot(fin, 'imports');

    // Another system's layout: its columns are chosen for each field, and the currency is given.
    const erp = ['Line,Day,Customer,Item,Qty,Net', 'ERP-7,2025-02-15,D-1002,PT-100,2,298.00'].join('\n');
    const erpFile = join(tmpdir(), `web-erp-${process.pid}.csv`);
    writeFileSync(erpFile, `${erp}\n`);
    await fin.getByLabel('CSV or XLSX file').setInputFiles(erpFile);
    const columns = fin.getByRole('region', { name: 'Column mapping' });
    for (const [field, column] of [
      ['id', 'Line'],
      ['date', 'Day'],
      ['partner', 'Customer'],
      ['sku', 'Item'],
      ['quantity', 'Qty'],
      ['amount', 'Net'],
    ])
      await columns.getByLabel(`Source of ${field}`, { exact: true }).selectOption(`column:${column}`);
    await columns.getByLabel('Source of currency', { exact: true }).selectOption('value');
    await columns.getByLabel('Value of currency').fill('USD');
    await fin.getByRole('button', { name: 'Upload' }).click();
    await fin.getByRole('status').filter({ hasText: 'web-erp' }).waitFor();
    assert.match((await fin.getByRole('status').textContent()) ?? '', /1 imported/);
    await fin.goto(`${origin}/agreements/WEB-1`);
    await q1.waitFor();
    assert.notEqual(await q1.textContent(), before, 'the first quarter moved with the new line');
    // The position's lines are a link to the lines themselves: the same count, listed.
    const link = q1.getByRole('link', { name: /\d+ lines/ });
    const count = (await link.textContent())!;
    await link.click();
    await fin.getByRole('heading', { name: 'Transaction lines' }).waitFor();
    await fin.getByText(count, { exact: true }).waitFor();
    await fin.context().close();
  });

  test('finance previews and posts a month of accruals; prepares, another approves, and posts a settlement; the credit memo downloads', async () => {
    const fin = await signIn('fin');
    await nav(fin, 'Ledger');
    await fin.getByLabel('Month').fill('2025-03');
    await fin.getByRole('button', { name: 'Preview (dry run)' }).click();
    await fin
      .getByRole('status', { name: 'Posting' })
      .filter({ hasText: 'Dry run, nothing written for 2025-03' })
      .waitFor();
    await fin.getByRole('button', { name: 'Post', exact: true }).click();
    await fin
      .getByRole('status', { name: 'Posting' })
      .filter({ hasText: /Posting \d+ for 2025-03/ })
      .waitFor();
    await fin.getByRole('cell', { name: '2025-03', exact: true }).waitFor();
    await shot(fin, 'ledger');
    await nav(fin, 'Settlements');
    const form = fin.getByRole('form', { name: 'Prepare a settlement' });
    await form.getByLabel('Agreement').fill('WEB-1');
    await form.getByLabel('Rule').fill('volume');
    await form.getByLabel('Period start').fill('2025-01-01');
    await form.getByRole('button', { name: 'Prepare' }).click();
    await fin.getByRole('status').or(fin.getByRole('alert')).first().waitFor();
    assert.match(
      (await fin.getByRole('status').or(fin.getByRole('alert')).first().textContent()) ?? '',
      /prepared/,
    );
    const row = fin.getByRole('row').filter({ hasText: 'WEB-1' });
    assert.equal(
      await row.getByRole('button', { name: 'Approve', exact: true }).isDisabled(),
      true,
      'not the preparer',
    );
    await fin.context().close();

    const fiona = await signIn('fiona');
    await nav(fiona, 'Settlements');
    await fiona
      .getByRole('row')
      .filter({ hasText: 'WEB-1' })
      .getByRole('button', { name: 'Approve', exact: true })
      .click();
    await fiona.getByRole('status').filter({ hasText: 'is approved' }).waitFor();
    await fiona.getByRole('row').filter({ hasText: 'WEB-1' }).getByRole('button', { name: 'Post' }).click();
    await fiona.getByRole('status').filter({ hasText: 'is posted: CM-2025-' }).waitFor();
    await shot(fiona, 'settlements');
    const [download] = await Promise.all([
      fiona.waitForEvent('download'),
      fiona.getByRole('link', { name: /CM-2025-\d+ \(PDF\)/ }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^CM-2025-\d{6}\.pdf$/);
    const path = await download.path();
    assert.equal(readFileSync(path).subarray(0, 5).toString(), '%PDF-');
    await fiona.context().close();
  });

  test('a partner sees only its own agreements, submits a claim and disputes it; finance resolves it', async () => {
    const coastal = await signIn('coastal');
    await coastal.getByRole('heading', { name: 'My agreements' }).waitFor();
    await coastal.getByRole('region', { name: 'Agreement WEB-1' }).waitFor();
    const text = (await coastal.locator('main').textContent()) ?? '';
    for (const other of ['DEMO-01-VOLUME', 'DEMO-04-GROWTH', 'DEMO-07-GROUP-BRAND'])
      assert.ok(!text.includes(other), `another partner's ${other} is not shown`);
    await shot(coastal, 'portal');
    const form = coastal.getByRole('form', { name: 'Submit a claim' });
    await form.getByLabel('Agreement').selectOption('DEMO-02-INCREMENTAL');
    await form.getByLabel('Period start').fill('2025-01-01');
    await form.getByLabel('Your reference').fill('COASTAL-CLAIM-1');
    await form.getByLabel('Amount').fill('5000.00');
    await form.getByRole('button', { name: 'Submit claim' }).click();
    await coastal.getByText(/Claim \d+ is partially approved/).waitFor();
    const id = /Claim (\d+)/.exec(
      (await coastal.getByText(/Claim \d+ is partially approved/).textContent()) ?? '',
    )![1]!;
    await coastal.getByRole('button', { name: id, exact: true }).click();
    const thread = coastal.getByRole('region', { name: `Claim ${id}` });
    await thread.getByLabel('Comment').fill('Our December credit notes are missing from your figures.');
    await thread.getByRole('button', { name: 'Dispute with this comment' }).click();
    await thread.getByText('(disputed, missing lines)').waitFor();
    await thread.getByText('Our December credit notes are missing').waitFor();
    const evidence = join(tmpdir(), `credit-notes-${process.pid}.txt`);
    writeFileSync(evidence, 'credit notes CN-88, CN-91\n');
    await thread.getByLabel('Evidence file').setInputFiles(evidence);
    await thread.getByRole('button', { name: 'Attach' }).click();
    await thread.getByRole('link', { name: /credit-notes-\d+\.txt/ }).waitFor();

    const report = join(tmpdir(), `coastal-report-${process.pid}.csv`);
    writeFileSync(
      report,
      'id,date,partner,sku,quantity,amount,currency\nCR-1,2025-11-03,D-1002,PT-100,2,298.00,USD\nCR-2,2025-11-03,D-1001,PT-100,1,149.00,USD\n',
    );
    const sales = coastal.getByRole('form', { name: 'Send a sales report' });
    await sales.getByLabel(/CSV file/).setInputFiles(report);
    await sales.getByRole('button', { name: 'Send' }).click();
    await coastal.getByRole('status').filter({ hasText: '1 lines recorded' }).waitFor();
    assert.match(
      (await coastal.getByRole('status').filter({ hasText: '1 lines recorded' }).textContent()) ?? '',
      /1 refused/,
    );
    await coastal.context().close();

    const fin = await signIn('fin');
    await nav(fin, 'Claims');
    const row = fin.getByRole('row').filter({ hasText: 'COASTAL-CLAIM-1' });
    await row.getByRole('button', { name: 'Uphold' }).click();
    await fin
      .getByRole('status')
      .filter({ hasText: `Claim ${id} is partially approved` })
      .waitFor();
    await shot(fin, 'claims');
    await fin.context().close();
  });

  test('the main pages have no serious accessibility problems (axe-core)', async () => {
    const pages: [string, string[]][] = [
      [
        'ada',
        [
          '/',
          '/agreements',
          '/agreements/WEB-1',
          '/agreements/new',
          '/templates',
          '/partners',
          '/partners/D-1004',
          '/products',
          '/lines',
          '/transactions',
          '/ledger',
          '/settlements',
          '/claims',
          '/audit',
        ],
      ],
      ['coastal', ['/']],
    ];
    const found: string[] = [];
    for (const [user, paths] of pages) {
      const page = await signIn(user);
      for (const path of paths) {
        await page.goto(`${origin}${path}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        await page.waitForLoadState('networkidle');
        for (const v of await accessibilityProblems(page))
          found.push(`${user} ${path}: ${v.id} (${v.impact}) at ${v.where.join(', ')}`);
      }
      await page.context().close();
    }
    assert.deepEqual(found, []);
  });
});
