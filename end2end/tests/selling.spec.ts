import { test, expect } from '@playwright/test';
import { jsEnabled, NOT_AN_IMAGE, open, register, sellThroughForm, uniqueWord } from './helpers';

test('a seller lists a car with a photo and finds it on its page, in the marketplace and in My listings', async ({ page }, info) => {
  const seller = await register(page, info);
  const model = uniqueWord('Model');
  const id = await sellThroughForm(page, info, {
    make: 'Toyota',
    model,
    year: '2019',
    price: '15999.50',
    mileage: '84000',
    description: 'One owner.\nFull service history.',
  });

  const title = `2019 Toyota ${model}`;
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(page.locator('.details-price')).toHaveText('$15,999.50');
  await expect(page.getByRole('cell', { name: '84,000 km' })).toBeVisible();
  await expect(page.locator('.seller')).toHaveText(seller);
  // The gallery's one photo, named by the car and its place.
  const photo = page.getByRole('img', { name: `${title}, photo 1 of 1` });
  await expect(photo).toBeVisible();
  const src = await photo.getAttribute('src');
  expect(src).toMatch(/^\/media\/[0-9a-f]+\.jpg$/); // re-encoded: no EXIF survives
  const media = await page.request.get(src!);
  expect(media.status()).toBe(200);
  expect(media.headers()['content-type']).toBe('image/jpeg');

  await open(page, `/cars?q=${model}`, info);
  await expect(page.getByRole('link', { name: title })).toHaveAttribute('href', `/cars/${id}`);

  await open(page, '/my-listings', info);
  await expect(page.getByRole('link', { name: title })).toBeVisible();
});

test('the sell form shows field errors and keeps what was typed', async ({ page }, info) => {
  await register(page, info);
  await open(page, '/sell', info);
  await page.getByLabel('Make').fill('Honda');
  await page.getByLabel('Model').fill('Civic');
  await page.getByLabel('Year').fill('1700');
  await page.getByLabel('Price').fill('cheap');
  await page.getByLabel('Mileage (km)').fill('12000');
  await page.getByLabel('Description').fill('Kept my words');
  await page.getByLabel('Image URL').fill('javascript:alert(1)');
  const posts: string[] = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  await page.getByRole('button', { name: 'List my car' }).click();

  await expect(page.locator('#car-year-error')).toContainText('Enter a year between 1886');
  await expect(page.locator('#car-price-error')).toContainText('Enter a price in dollars');
  await expect(page.locator('#car-image_url-error')).toContainText('Enter a full web address starting with http:// or https://.');
  await expect(page.getByLabel('Make')).toHaveValue('Honda');
  await expect(page.getByLabel('Description')).toHaveValue('Kept my words');
  await expect(page).toHaveURL(/\/sell$/);
  // With JavaScript the form's island checks the same rules in the browser: nothing is sent.
  // Without it, the server does and sends the form back.
  expect(posts.length, `POSTs: ${posts.join(', ')}`).toBe(jsEnabled(info) ? 0 : 1);
});

test('a file that is not an image is refused by the server', async ({ page }, info) => {
  await register(page, info);
  await open(page, '/sell', info);
  await page.getByLabel('Make').fill('Mazda');
  await page.getByLabel('Model').fill(uniqueWord('M'));
  await page.getByLabel('Year').fill('2015');
  await page.getByLabel('Price').fill('9000');
  await page.getByLabel('Mileage (km)').fill('120000');
  await page.getByLabel('Photo').setInputFiles(NOT_AN_IMAGE);
  await page.getByRole('button', { name: 'List my car' }).click();
  await expect(page.locator('#car-photo-error')).toContainText(
    'not-an-image.png: this file type is not supported — use JPEG, PNG or WebP',
  );
  await expect(page.getByLabel('Make')).toHaveValue('Mazda');
  await expect(page).toHaveURL(/\/sell$/);
});
