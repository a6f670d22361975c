import { test, expect } from '@playwright/test';
import { open, register, sellDirect, sellThroughForm, uniqueWord } from './helpers';

// Screenshots of the three main pages at desktop and phone widths, for people to look at.
const sizes = { desktop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } };

test('screenshots of the marketplace, a details page and the sell form', async ({ page }, info) => {
  test.skip(info.project.name !== 'js', 'screenshots once, with JavaScript on');
  await register(page, info);
  const make = uniqueWord('Shot');
  for (const [model, year, price] of [['Coupe', '2019', '18990'], ['Wagon', '2016', '12500'], ['Roadster', '2021', '27900']]) {
    await sellDirect(page, { make, model, year, price, mileage: '42000' });
  }
  const id = await sellThroughForm(page, info, { make: 'Subaru', model: 'Outback', year: '2020', price: '24500', mileage: '38000', description: 'Roof rails, winter tyres, one owner.' });
  for (const [name, size] of Object.entries(sizes)) {
    await page.setViewportSize(size);
    await open(page, '/cars', info);
    await expect(page.locator('.car-grid')).toBeVisible();
    await page.screenshot({ path: info.outputPath(`marketplace-${name}.png`), fullPage: false });
    await open(page, `/cars/${id}`, info);
    await page.screenshot({ path: info.outputPath(`details-${name}.png`), fullPage: true });
    await open(page, '/sell', info);
    await page.screenshot({ path: info.outputPath(`sell-${name}.png`), fullPage: true });
    // Nothing wider than the viewport.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} has no horizontal scroll`).toBeLessThanOrEqual(0);
  }
});
