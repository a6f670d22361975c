import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { jsEnabled, open, PHOTO, register, sellDirect, uniqueWord } from './helpers';

// Every page a buyer or seller visits, checked by axe-core against WCAG 2.1 A and AA
// (contrast, labels, names, landmarks, headings), with JavaScript on and off.
async function expectNoViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const summary = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`,
  );
  expect(summary, `${what}`).toEqual([]);
}

test('buyer and seller pages have no WCAG 2.1 AA violations', async ({ page }, info) => {
  // axe runs as a script in the page; the server-rendered HTML is the same with JavaScript off.
  test.skip(!jsEnabled(info), 'axe needs JavaScript');
  await open(page, '/cars', info);
  await expectNoViolations(page, 'marketplace (signed out)');
  await open(page, '/login', info);
  await expectNoViolations(page, 'log in');
  await open(page, '/register', info);
  await expectNoViolations(page, 'register');

  await register(page, info);
  const make = uniqueWord('Ax');
  const id = await sellDirect(page, { make, model: 'Check', year: '2019', price: '15999', mileage: '42000' });
  await open(page, `/cars/${id}`, info);
  await expectNoViolations(page, 'details (owner)');
  // With photos: the edit page's photo forms, and the details page's gallery.
  await open(page, `/cars/${id}/edit`, info);
  await page.getByLabel('Photos to add').setInputFiles([PHOTO, PHOTO, PHOTO]);
  await page.getByRole('button', { name: 'Add photos' }).click();
  await expect(page.getByRole('status')).toHaveText('3 photos added.');
  await expectNoViolations(page, 'edit page with photos');
  await open(page, `/cars/${id}`, info);
  await expectNoViolations(page, 'details with a gallery');
  await open(page, '/sell', info);
  await expectNoViolations(page, 'sell form');
  // Photos chosen with JavaScript: each in a list with its upload's state and buttons.
  await page.getByLabel('Photo').setInputFiles([PHOTO, PHOTO]);
  await expect(page.getByText('Uploaded', { exact: true })).toHaveCount(2);
  await expectNoViolations(page, 'sell form with photos uploaded');
  await open(page, '/my-listings', info);
  await expectNoViolations(page, 'my listings');
  await open(page, `/cars?q=${make}`, info);
  await expectNoViolations(page, 'search results');
  await open(page, '/cars?min_price=abc', info);
  await expectNoViolations(page, 'marketplace with a filter problem');

  // A form with errors: the messages must be announced and tied to their fields.
  await open(page, '/sell', info);
  await page.getByRole('button', { name: 'List my car' }).click();
  await expect(page.locator('[aria-invalid="true"]').first()).toBeVisible();
  await expectNoViolations(page, 'sell form with errors');
});

test('the API reference page is styled like the site (release builds hash the stylesheet name)', async ({ page }, info) => {
  // A static page (no islands to hydrate): opened directly.
  const docs = await page.goto('/api/docs/');
  expect(docs?.status()).toBe(200);
  const href = await page.locator('link[rel="stylesheet"]').getAttribute('href');
  expect(href).toBeTruthy();
  const css = await page.request.get(href!);
  expect(css.status(), `${href} answers`).toBe(200);
  expect(css.headers()['content-type']).toContain('text/css');
  const docsFont = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  await open(page, '/cars', info);
  const siteFont = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  expect(docsFont).toBe(siteFont);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
});
