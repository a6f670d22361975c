import { test, expect, type Page } from '@playwright/test';
import { cardTitles, open, register, sellDirect, uniqueWord } from './helpers';

/** Lists five cars of a make no one else uses, and returns the make. */
async function seedMake(page: Page) {
  const make = uniqueWord('Zz');
  const cars = [
    { model: 'Alpha', year: '2012', price: '8000', mileage: '150000' },
    { model: 'Bravo', year: '2018', price: '19500', mileage: '60000' },
    { model: 'Charlie', year: '2015', price: '12000', mileage: '90000' },
    { model: 'Delta', year: '2021', price: '31000', mileage: '15000' },
    { model: 'Echo', year: '2010', price: '5000', mileage: '210000' },
  ];
  const ids: Record<string, number> = {};
  for (const car of cars) {
    ids[car.model] = await sellDirect(page, { make, ...car, description: `${car.model} test car` });
  }
  return { make, ids };
}

async function setStatus(page: Page, id: number, status: string) {
  const response = await page.request.post('/rpc/cars/set_status', { form: { id: String(id), status } });
  expect(response.status()).toBe(200);
}

test('the marketplace shows available cars only, and filters and sorts them', async ({ page }, info) => {
  await register(page, info);
  const { make, ids } = await seedMake(page);
  await setStatus(page, ids.Charlie, 'pending');
  await setStatus(page, ids.Echo, 'sold');

  // Search by make: only the three available cars, newest listing first when asked
  // (a search on its own sorts by best match).
  await open(page, `/cars?q=${make}&sort=newest`, info);
  await expect(page.getByRole('heading', { name: '3 cars' })).toBeVisible();
  expect(await cardTitles(page)).toEqual([`2021 ${make} Delta`, `2018 ${make} Bravo`, `2012 ${make} Alpha`]);

  // Price filter through the form.
  await page.getByLabel('Min price').fill('9000');
  await page.getByLabel('Max price').fill('25000');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/min_price=9000/);
  await expect(page.getByRole('heading', { name: '1 car' })).toBeVisible();
  await expect(page.locator('.car-grid .car-title')).toHaveText([`2018 ${make} Bravo`]);

  // Year filter.
  await open(page, `/cars?q=${make}&min_year=2013`, info);
  expect(await cardTitles(page)).toEqual([`2021 ${make} Delta`, `2018 ${make} Bravo`]);

  // Each sort order.
  const orders: Record<string, string[]> = {
    price_asc: ['Alpha', 'Bravo', 'Delta'],
    price_desc: ['Delta', 'Bravo', 'Alpha'],
    year_asc: ['Alpha', 'Bravo', 'Delta'],
    year_desc: ['Delta', 'Bravo', 'Alpha'],
    newest: ['Delta', 'Bravo', 'Alpha'],
    oldest: ['Alpha', 'Bravo', 'Delta'],
  };
  for (const [sort, models] of Object.entries(orders)) {
    await open(page, `/cars?q=${make}`, info);
    await page.getByLabel('Sort by').selectOption(sort);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect(page).toHaveURL(new RegExp(`sort=${sort}`));
    await expect(page.locator('.car-grid .car-title'), sort).toHaveText(models.map((m) => `${make} ${m}`).map((t) => new RegExp(`${t}$`)));
  }

  // Nothing matches: say so and offer to clear.
  await open(page, `/cars?q=${make}&max_price=100`, info);
  await expect(page.getByRole('heading', { name: 'No cars match your filters' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Clear filters' }).first()).toBeVisible();
});

test('a pending car leaves the marketplace and a sold one too, but both stay in My listings', async ({ page }, info) => {
  await register(page, info);
  const make = uniqueWord('Yy');
  const id = await sellDirect(page, { make, model: 'Solo', year: '2016', price: '7000', mileage: '99000' });
  await open(page, `/cars?q=${make}`, info);
  await expect(page.getByRole('heading', { name: '1 car' })).toBeVisible();
  await setStatus(page, id, 'sold');
  await open(page, `/cars?q=${make}`, info);
  await expect(page.getByRole('heading', { name: '0 cars' })).toBeVisible();
  await open(page, '/my-listings', info);
  await expect(page.getByRole('link', { name: `2016 ${make} Solo` })).toContainText('Sold');
});

test('pages and the total count work', async ({ page }, info) => {
  await register(page, info);
  const make = uniqueWord('Pg');
  for (let i = 0; i < 26; i++) {
    await sellDirect(page, { make, model: `M${String(i).padStart(2, '0')}`, year: '2014', price: String(5000 + i), mileage: '1000' });
  }
  await open(page, `/cars?q=${make}&sort=price_asc`, info);
  await expect(page.getByRole('heading', { name: '26 cars' })).toBeVisible();
  expect((await cardTitles(page)).length).toBe(24);
  await page.getByRole('link', { name: 'Next' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.locator('.car-grid .car-title')).toHaveText([`2014 ${make} M24`, `2014 ${make} M25`]);
});

test('a buyer narrows the cars to automatic SUVs with the filter boxes, then removes one by its chip', async ({ page }, info) => {
  await register(page, info);
  const make = uniqueWord('Zz');
  for (const [model, body_type, transmission] of [
    ['Alpha', 'suv', 'automatic'],
    ['Bravo', 'suv', 'manual'],
    ['Charlie', 'hatchback', 'automatic'],
  ]) {
    const response = await page.request.post('/sell', {
      multipart: { make, model, year: '2020', price: '20000', mileage: '1000', body_type, transmission },
    });
    expect(response.ok()).toBeTruthy();
  }
  await open(page, `/cars?q=${make}`, info);
  await expect(page.getByRole('heading', { name: '3 cars' })).toBeVisible();

  const filters = page.getByRole('form', { name: 'Filter cars' });
  await filters.locator('summary', { hasText: /^Body type$/ }).click();
  await filters.getByRole('checkbox', { name: 'SUV', exact: true }).check();
  await filters.locator('summary', { hasText: /^Gearbox$/ }).click();
  await filters.getByRole('checkbox', { name: 'Automatic', exact: true }).check();
  await filters.getByRole('button', { name: 'Apply filters' }).click();

  await expect(page).toHaveURL(/body_type=suv/);
  await expect(page).toHaveURL(/transmission=automatic/);
  await expect(page.getByRole('heading', { name: '1 car' })).toBeVisible();
  expect(await cardTitles(page)).toEqual([`2020 ${make} Alpha`]);
  // The chosen boxes stay ticked, in groups that are open.
  await expect(filters.getByRole('checkbox', { name: 'SUV', exact: true })).toBeChecked();

  await page.getByRole('link', { name: 'Remove filter: SUV' }).click();
  await expect(page.getByRole('heading', { name: '2 cars' })).toBeVisible();
  expect((await cardTitles(page)).sort()).toEqual([`2020 ${make} Alpha`, `2020 ${make} Charlie`]);
});

test('a buyer looks for automatic SUVs within 50 km of a town and sees how far each is', async ({ page }, info) => {
  await register(page, info);
  const make = uniqueWord('Zz');
  for (const [model, body_type, town] of [
    ['Alpha', 'suv', 'Evanston, Illinois'],
    ['Bravo', 'suv', 'Milwaukee, Wisconsin'],
    ['Charlie', 'hatchback', 'Chicago, Illinois'],
    ['Delta', 'suv', 'Chicago, Illinois'],
  ]) {
    const response = await page.request.post('/sell', {
      multipart: { make, model, year: '2020', price: '20000', mileage: '1000', body_type, transmission: 'automatic', town },
    });
    expect(response.ok()).toBeTruthy();
  }
  await open(page, `/cars?q=${make}`, info);
  await expect(page.getByRole('heading', { name: '4 cars' })).toBeVisible();

  const filters = page.getByRole('form', { name: 'Filter cars' });
  await filters.locator('summary', { hasText: /^Body type$/ }).click();
  await filters.getByRole('checkbox', { name: 'SUV', exact: true }).check();
  await filters.locator('summary', { hasText: /^Gearbox$/ }).click();
  await filters.getByRole('checkbox', { name: 'Automatic', exact: true }).check();
  await filters.getByLabel('Near').fill('Chicago, Illinois');
  await filters.getByLabel('Within').selectOption({ label: '50 km' });
  await filters.getByLabel('Sort by').selectOption({ label: 'Distance: nearest first' });
  await filters.getByRole('button', { name: 'Apply filters' }).click();

  await expect(page).toHaveURL(/radius_km=50/);
  await expect(page.getByRole('heading', { name: '2 cars' })).toBeVisible();
  // Nearest first: the Chicago car, then the one in Evanston with its distance.
  expect(await cardTitles(page)).toEqual([`2020 ${make} Delta`, `2020 ${make} Alpha`]);
  const cards = page.locator('.car-grid .car-card');
  await expect(cards.nth(0)).toContainText('Chicago, Illinois');
  await expect(cards.nth(0)).toContainText('Less than 1 km away');
  await expect(cards.nth(1)).toContainText('Evanston, Illinois');
  await expect(cards.nth(1)).toContainText('22 km away');
  await expect(filters.getByLabel('Near')).toHaveValue('Chicago, Illinois');

  // Removing the distance search brings back the SUV in Milwaukee.
  await page.getByRole('link', { name: 'Remove filter: Within 50 km of Chicago, Illinois' }).click();
  await expect(page.getByRole('heading', { name: '3 cars' })).toBeVisible();
  await expect(page.locator('.car-grid')).toContainText('Milwaukee, Wisconsin');
});
