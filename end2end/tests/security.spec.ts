import { test, expect } from '@playwright/test';
import { jsEnabled, open, register } from './helpers';

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
