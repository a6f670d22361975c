import { test, expect } from '@playwright/test';
import { fillSellForm, jsEnabled, NOT_AN_IMAGE, open, register, sellThroughForm, submitSellForm, uniqueWord } from './helpers';

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

test('a seller lists a car with its specification and equipment and buyers see them on its page', async ({ page }, info) => {
  await register(page, info);
  const model = uniqueWord('Model');
  await fillSellForm(page, info, { make: 'Skoda', model, year: '2020', price: '21900', mileage: '45000' });
  await page.getByLabel('Body type').selectOption({ label: 'Estate' });
  await page.getByLabel('Fuel').selectOption({ label: 'Diesel' });
  await page.getByLabel('Gearbox').selectOption({ label: 'Manual' });
  await page.getByLabel('Drive', { exact: true }).selectOption({ label: 'All-wheel drive' });
  await page.getByLabel('Colour').selectOption({ label: 'Blue' });
  await page.getByLabel('Power (kW)').fill('110');
  await page.getByLabel('Engine size (cc)').fill('1968');
  await page.getByLabel('Seats', { exact: true }).fill('5');
  await page.getByLabel('First registration').fill('2020-06');
  await page.getByRole('checkbox', { name: 'Tow bar' }).check();
  await page.getByRole('checkbox', { name: 'Apple CarPlay / Android Auto' }).check();
  await submitSellForm(page);

  const specs = page.getByRole('region', { name: 'Specification' });
  for (const [label, value] of [
    ['Body type', 'Estate'],
    ['Fuel', 'Diesel'],
    ['Gearbox', 'Manual'],
    ['Drive', 'All-wheel drive'],
    ['Colour', 'Blue'],
    ['Power', '110 kW (150 hp)'],
    ['Engine size', '1,968 cc'],
    ['Seats', '5'],
    ['First registration', 'June 2020'],
  ]) {
    await expect(specs.getByRole('row', { name: `${label} ${value}`, exact: true })).toBeVisible();
  }
  await expect(specs.getByRole('list', { name: 'Equipment' }).getByRole('listitem')).toHaveText([
    'Apple CarPlay / Android Auto',
    'Tow bar',
  ]);
});

test('a seller names the town: suggestions as they type, and a choice among towns of one name', async ({ page }, info) => {
  await register(page, info);
  const model = uniqueWord('Model');
  await fillSellForm(page, info, { make: 'Ford', model, year: '2017', price: '8900', mileage: '90000' });
  const town = page.getByLabel('Town');
  if (jsEnabled(info)) {
    // The browser offers the towns that start with what was typed, largest first.
    await town.pressSequentially('Springf');
    await expect(page.locator('#car-town-towns option[value="Springfield, Illinois"]')).toHaveCount(1);
  }
  // "Springfield" alone could be several towns: the form comes back to choose one.
  await town.fill('Springfield');
  await page.getByRole('button', { name: 'List my car' }).click();
  await expect(page).toHaveURL(/\/sell$/);
  await expect(page.locator('#car-town-error')).toContainText('More than one town matches');
  const choices = page.getByRole('group', { name: 'Which one?' });
  await choices.getByRole('radio', { name: 'Springfield, Illinois' }).check();
  if (jsEnabled(info)) {
    // The fields come back filled in; with JavaScript the island checks them again.
    await expect(page.getByLabel('Model')).toHaveValue(model);
  }
  await page.getByRole('button', { name: 'List my car' }).click();
  await page.waitForURL(/\/cars\/\d+$/);
  await expect(page.getByRole('row', { name: 'Location Springfield, Illinois' })).toBeVisible();
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
