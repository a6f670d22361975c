import { test, expect } from '@playwright/test';
import { jsEnabled, open, register, sellThroughForm } from './helpers';

// The pages run under a strict Content-Security-Policy (scripts only with the
// response's nonce). Hydration must still work, with no violation reported.
test('pages hydrate under the Content-Security-Policy without a single violation', async ({ page }, info) => {
  test.skip(!jsEnabled(info), 'needs JavaScript');
  await page.addInitScript(() => {
    (window as any).__violations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as any).__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));

  await register(page, info);
  for (const url of ['/cars', '/sell', '/my-listings', '/login']) {
    const response = await page.goto(url);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self' 'nonce-");
    await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
    expect(await page.evaluate(() => (window as any).__violations)).toEqual([]);
  }
  // Following a link after the islands hydrate still works (a plain page load now).
  await open(page, '/cars', info);
  await page.getByRole('link', { name: 'Sell your car' }).first().click();
  await expect(page).toHaveURL(/\/sell$/);
  expect(errors).toEqual([]);
});

// A description is text wherever it is shown, also inside the edit form's <textarea>
// (a raw-text element the renderer does not escape by itself).
test('markup in a description stays text in the edit form', async ({ page }, info) => {
  await register(page, info);
  const description = 'Good car.</textarea><h2>Injected heading</h2><textarea>';
  const id = await sellThroughForm(page, info, {
    make: 'Volvo', model: 'V70', year: '2012', price: '5500', mileage: '190000', description,
  }, false);
  await open(page, `/cars/${id}/edit`, info);
  await expect(page.getByLabel('Description')).toHaveValue(description);
  await expect(page.getByRole('heading', { name: 'Injected heading' })).toHaveCount(0);
  await expect(page.locator('textarea')).toHaveCount(1);
});

// Leptos carries a form's error back in the URL when JavaScript is off; a link with a
// made-up error must not put words on our page.
test('an error message written into a link is not shown on the log-in page', async ({ page }, info) => {
  const forged = Buffer.from(JSON.stringify({ Unauthorized: 'Your account is suspended. Call +1 555 0100.' }))
    .toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  await open(page, `/login?__path=%2Frpc%2Fauth%2Flogin&__err=${encodeURIComponent(forged)}`, info);
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await expect(page.getByText('suspended')).toHaveCount(0);
  // A real failed log-in still says what went wrong.
  await page.getByLabel('Username').fill('nobody-here');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByText("That username and password don't match an account.")).toBeVisible();
});
