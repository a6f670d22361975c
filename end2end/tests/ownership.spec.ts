import { test, expect } from '@playwright/test';
import { logOut, open, register, sellDirect, sellThroughForm, uniqueWord } from './helpers';

test('an anonymous visitor browses, but Sell sends them to log in and back', async ({ page }, info) => {
  const seller = await register(page, info);
  const make = uniqueWord('An');
  const id = await sellDirect(page, { make, model: 'Visible', year: '2017', price: '11000', mileage: '70000' });
  await logOut(page);

  await open(page, `/cars?q=${make}`, info);
  await page.getByRole('link', { name: `2017 ${make} Visible` }).click();
  await expect(page).toHaveURL(new RegExp(`/cars/${id}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`2017 ${make} Visible`);
  await expect(page.getByRole('button', { name: 'Delete listing' })).toHaveCount(0);

  await page.getByRole('link', { name: 'Sell Your Car' }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fsell$/);
  await page.getByLabel('Username').fill(seller);
  await page.getByLabel('Password').fill('correct-horse-battery');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/sell$/);
  await expect(page.getByRole('heading', { name: 'Sell Your Car' })).toBeVisible();
});

test("another user sees no owner actions and is refused when trying anyway", async ({ page }, info) => {
  await register(page, info);
  const make = uniqueWord('Ot');
  const id = await sellDirect(page, { make, model: 'Mine', year: '2016', price: '9000', mileage: '80000' });
  await logOut(page);
  await register(page, info);

  await open(page, `/cars/${id}`, info);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`2016 ${make} Mine`);
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete listing' })).toHaveCount(0);

  const edit = await page.goto(`/cars/${id}/edit`);
  expect(edit?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();

  const del = await page.request.post('/rpc/cars/delete', { form: { id: String(id) } });
  expect(del.status()).toBe(403);
  const status = await page.request.post('/rpc/cars/set_status', { form: { id: String(id), status: 'sold' } });
  expect(status.status()).toBe(403);
  const update = await page.request.post(`/cars/${id}/edit`, {
    multipart: { make, model: 'Stolen', year: '2016', price: '1', mileage: '1', condition: 'used', description: '', image_url: '' },
    maxRedirects: 0,
  });
  expect(update.status()).toBe(403);

  await open(page, `/cars/${id}`, info);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`2016 ${make} Mine`);
});

test('the owner edits, marks sold, and deletes with a confirmation step', async ({ page }, info) => {
  await register(page, info);
  const model = uniqueWord('Own');
  const id = await sellThroughForm(page, info, { make: 'Volvo', model, year: '2018', price: '21000', mileage: '65000' }, false);

  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Price')).toHaveValue('21000');
  await page.getByLabel('Price').fill('19750');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page).toHaveURL(new RegExp(`/cars/${id}$`));
  await expect(page.locator('.details-price')).toHaveText('$19,750');

  await page.getByRole('button', { name: 'Mark as sold' }).click();
  await expect(page.getByRole('row', { name: /Status/ })).toContainText('Sold');
  await open(page, `/cars?q=${model}`, info);
  await expect(page.getByRole('heading', { name: '0 cars' })).toBeVisible();

  await open(page, `/cars/${id}`, info);
  await page.getByRole('button', { name: 'Delete listing' }).click();
  await expect(page.getByRole('heading', { name: 'Delete this listing?' })).toBeVisible();
  await page.getByRole('button', { name: 'Yes, delete listing' }).click();
  await expect(page).toHaveURL(/\/my-listings$/);
  await expect(page.getByRole('link', { name: new RegExp(model) })).toHaveCount(0);

  const gone = await page.goto(`/cars/${id}`);
  expect(gone?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
