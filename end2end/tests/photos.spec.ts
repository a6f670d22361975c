import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fillSellForm, jsEnabled, NOT_AN_IMAGE, open, PHOTO, register, submitSellForm, uniqueWord } from './helpers';

/** The listing's photo ids in order, as the API shows them. */
async function photoIds(page: Page, id: number): Promise<number[]> {
  const car = await (await page.request.get(`/api/cars/${id}/`)).json();
  return car.photos.map((photo: { id: number }) => photo.id);
}

/** The edit page's form for the photo now at `position` of `count`. */
function photoItem(page: Page, position: number, count: number) {
  return page.getByRole('listitem').filter({ hasText: `Photo ${position} of ${count}` });
}

test('a seller sells with two photos, adds one, orders them with buttons, labels the damage, and buyers see them in that order', async ({ page }, info) => {
  await register(page, info);
  const model = uniqueWord('Gallery');
  const title = `2018 Volvo ${model}`;
  await fillSellForm(page, info, { make: 'Volvo', model, year: '2018', price: '18500', mileage: '76000' });
  // Several files in one go: the first is the cover.
  await page.getByLabel('Photo').setInputFiles([PHOTO, PHOTO]);
  const id = await submitSellForm(page);
  await expect(page.getByRole('img', { name: `${title}, photo 2 of 2` })).toBeAttached();
  const [first, second] = await photoIds(page, id);

  // Add a third from the edit page, in a plain form post.
  await open(page, `/cars/${id}/edit`, info);
  await page.getByLabel('Photos to add').setInputFiles([PHOTO]);
  await page.getByRole('button', { name: 'Add photos' }).click();
  await expect(page.getByRole('status')).toHaveText('1 photo added.');
  const third = (await photoIds(page, id))[2];

  // Make the third the cover, then move the (now) second one down.
  await photoItem(page, 3, 3).getByRole('button', { name: 'Make cover' }).click();
  await expect(page.getByRole('status')).toHaveText('This photo is the cover now.');
  expect(await photoIds(page, id)).toEqual([third, first, second]);
  await photoItem(page, 2, 3).getByRole('button', { name: 'Move down' }).click();
  await expect(page.getByRole('status')).toHaveText('Photo moved to position 3.');
  expect(await photoIds(page, id)).toEqual([third, second, first]);
  // The cover cannot move further up.
  await expect(photoItem(page, 1, 3).getByRole('button', { name: 'Move up' })).toBeDisabled();

  // Say what the last one shows, then remove the cover.
  const last = photoItem(page, 3, 3);
  await last.getByLabel('What it shows').selectOption('damage');
  await last.getByLabel('Caption').fill('Scratch on the rear bumper');
  await last.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Photo details saved.');
  await photoItem(page, 1, 3).getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByRole('status')).toHaveText('Photo removed.');
  expect(await photoIds(page, id)).toEqual([second, first]);
  if (jsEnabled(info)) {
    // With JavaScript a photo can also be dragged by its picture onto another's place.
    await photoItem(page, 2, 2).getByRole('img').dragTo(photoItem(page, 1, 2));
    await expect.poll(() => photoIds(page, id)).toEqual([first, second]);
    await expect(page.locator(`#photo-${first}`).getByText('Photo 1 of 2')).toBeVisible();
    await photoItem(page, 1, 2).getByRole('button', { name: 'Move down' }).click();
    await expect(page.getByRole('status')).toHaveText('Photo moved to position 2.');
    expect(await photoIds(page, id)).toEqual([second, first]);
  }

  // Buyers: the gallery in that order, and a jump to the damage.
  await open(page, `/cars/${id}`, info);
  const gallery = page.getByRole('region', { name: 'Photos' });
  await expect(gallery.getByText('1 / 2')).toBeAttached();
  await expect(gallery.getByText('Scratch on the rear bumper')).toBeAttached();
  await gallery.getByRole('link', { name: 'Damage (1)' }).click();
  await expect(page.locator('#photo-2')).toBeInViewport({ ratio: 0.9 });
});

test('the gallery moves from photo to photo by its links, and by the arrow keys with JavaScript', async ({ page }, info) => {
  await register(page, info);
  const saab = { make: 'Saab', model: uniqueWord('Gallery'), year: '2009', price: '4200', mileage: '190000' };
  await fillSellForm(page, info, saab);
  await page.getByLabel('Photo').setInputFiles([PHOTO, PHOTO, PHOTO]);
  await submitSellForm(page);
  if (jsEnabled(info)) {
    await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1, { timeout: 15_000 });
  }
  const gallery = page.getByRole('region', { name: 'Photos' });
  await expect(page.locator('#photo-1')).toBeInViewport({ ratio: 0.9 });
  await page.locator('#photo-1').getByRole('link', { name: 'Next photo' }).click();
  await expect(page.locator('#photo-2')).toBeInViewport({ ratio: 0.9 });
  await expect(page.locator('#photo-2').getByText(/^2 \/ \d+$/)).toBeVisible();
  await gallery.getByRole('link', { name: /^Photo 3 of \d+/ }).click();
  await expect(page.locator('#photo-3')).toBeInViewport({ ratio: 0.9 });

  const fullScreen = gallery.getByRole('button', { name: 'Full screen' });
  if (jsEnabled(info)) {
    // Keys: back to 2, then Home to the first.
    await page.locator('#photo-3').getByRole('link', { name: 'Previous photo' }).focus();
    await page.keyboard.press('ArrowLeft');
    await expect(page.locator('#photo-2')).toBeInViewport({ ratio: 0.9 });
    await page.keyboard.press('Home');
    await expect(page.locator('#photo-1')).toBeInViewport({ ratio: 0.9 });
    await expect(fullScreen).toBeVisible();
  } else {
    // Without JavaScript there is no button that would do nothing.
    await expect(fullScreen).toBeHidden();
  }
});

/** The listing's photo widths in order, as the API shows them. */
async function photoWidths(page: Page, id: number): Promise<number[]> {
  const car = await (await page.request.get(`/api/cars/${id}/`)).json();
  return car.photos.map((photo: { width: number }) => photo.width);
}

test('with JavaScript each photo uploads as soon as it is chosen, with progress; the seller orders them before saving', async ({ page }, info) => {
  test.skip(!jsEnabled(info), 'uploading ahead is what JavaScript adds; the plain form is tested above');
  await register(page, info);
  // Three photos told apart by their width (screenshots of the page, cut to size).
  await page.setViewportSize({ width: 1280, height: 800 });
  const shot = async (width: number) => page.screenshot({ clip: { x: 0, y: 0, width, height: 300 } });
  const files = [
    { name: 'front.png', mimeType: 'image/png', buffer: await shot(400) },
    { name: 'side.png', mimeType: 'image/png', buffer: await shot(500) },
    { name: 'rear.png', mimeType: 'image/png', buffer: await shot(600) },
    { name: 'IMG_2231.HEIC', mimeType: 'image/heic', buffer: readFileSync(NOT_AN_IMAGE) },
  ];
  const model = uniqueWord('Upload');
  await fillSellForm(page, info, { make: 'Volvo', model, year: '2018', price: '18500', mileage: '76000' });
  // A slow connection: each upload waits a moment before it goes.
  await page.route('**/photo-uploads', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await route.continue();
  });

  await page.getByLabel('Photo').setInputFiles(files);
  const list = page.getByRole('list', { name: 'Chosen photos' });
  const item = (name: string) => list.getByRole('listitem').filter({ hasText: name });
  await expect(list.getByRole('progressbar', { name: 'Uploading front.png' })).toBeVisible();
  for (const name of ['front.png', 'side.png', 'rear.png']) {
    await expect(item(name).getByText('Uploaded', { exact: true })).toBeVisible();
  }
  // Each shows a preview of the chosen file (the page's policy lets it load).
  await expect(item('side.png').locator('img')).toHaveJSProperty('naturalWidth', 500);
  // The file that is not a photo says why, next to it; the others carried on.
  await expect(item('IMG_2231.HEIC').getByRole('alert')).toHaveText(
    'IMG_2231.HEIC: this file type is not supported — use JPEG, PNG or WebP.',
  );
  await item('IMG_2231.HEIC').getByRole('button', { name: 'Remove' }).click();
  await expect(list.getByRole('listitem')).toHaveCount(3);

  // Order them: rear becomes the cover, front moves down, side is removed.
  await item('rear.png').getByRole('button', { name: 'Make cover' }).click();
  await expect(page.getByText('rear.png is photo 1 of 3 now.')).toBeAttached();
  await expect(item('rear.png').getByText('Cover', { exact: true })).toBeVisible();
  await item('front.png').getByRole('button', { name: 'Move down' }).click();
  await expect(item('front.png').getByText('Photo 3 of 3')).toBeVisible();
  await item('side.png').getByRole('button', { name: 'Remove' }).click();
  await expect(list.getByRole('listitem')).toHaveCount(2);
  // Drag and drop: front onto the cover's place.
  await item('front.png').dragTo(item('rear.png'));
  await expect(item('front.png').getByText('Photo 1 of 2')).toBeVisible();
  await item('front.png').getByRole('button', { name: 'Move down' }).click();
  await expect(item('rear.png').getByText('Photo 1 of 2')).toBeVisible();

  const id = await submitSellForm(page);
  expect(await photoWidths(page, id)).toEqual([600, 400]);
  await expect(page.getByRole('img', { name: `2018 Volvo ${model}, photo 2 of 2` })).toBeAttached();
});

test('with JavaScript the form waits for photos still uploading, then goes by itself', async ({ page }, info) => {
  test.skip(!jsEnabled(info), 'uploading ahead is what JavaScript adds');
  await register(page, info);
  const saab = { make: 'Saab', model: uniqueWord('Wait'), year: '2009', price: '4200', mileage: '190000' };
  await fillSellForm(page, info, saab);
  await page.route('**/photo-uploads', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await route.continue();
  });
  await page.getByLabel('Photo').setInputFiles([PHOTO]);
  await page.getByRole('button', { name: 'List my car' }).click();
  await expect(page.getByRole('button', { name: 'Saving…' })).toBeVisible();
  await page.waitForURL(/\/cars\/\d+$/);
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  expect(await photoWidths(page, id)).toHaveLength(1);
});
