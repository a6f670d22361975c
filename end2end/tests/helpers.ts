import { expect, type Page, type TestInfo } from '@playwright/test';
import path from 'node:path';

export const PHOTO = path.join(__dirname, '..', 'fixtures', 'car.png');
export const NOT_AN_IMAGE = path.join(__dirname, '..', 'fixtures', 'not-an-image.png');

export function jsEnabled(info: TestInfo): boolean {
  return info.project.name === 'js';
}

/** A short random tag so every test's data is its own. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Letters only (makes and models in searches). */
export function uniqueWord(prefix: string): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let out = prefix;
  for (let i = 0; i < 8; i++) out += letters[Math.floor(Math.random() * letters.length)];
  return out;
}

/** Opens a page and, with JavaScript on, waits until it has hydrated. If it does not,
 * the failure says what the browser reported (a panic, a blocked script, a failed load). */
export async function open(page: Page, url: string, info: TestInfo) {
  const problems: string[] = [];
  const onConsole = (m: { type(): string; text(): string }) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  };
  const onError = (e: Error) => problems.push(`pageerror: ${e.message}`);
  const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) =>
    problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  page.on('console', onConsole);
  page.on('pageerror', onError);
  page.on('requestfailed', onFailed);
  try {
    await page.goto(url);
    if (jsEnabled(info)) {
      // Generous: on a busy 2-core machine the WebAssembly can take a few seconds to start.
      await expect(page.locator('html[data-hydrated="true"]'), `${url} hydrates; browser said: ${problems.join(' | ')}`)
        .toHaveCount(1, { timeout: 15_000 });
    }
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onError);
    page.off('requestfailed', onFailed);
  }
}

export async function register(page: Page, info: TestInfo, username = unique('u')): Promise<string> {
  await open(page, '/register', info);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('correct-horse-battery');
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
  return username;
}

export async function logIn(page: Page, info: TestInfo, username: string, password = 'correct-horse-battery') {
  await open(page, '/login', info);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
}

export async function logOut(page: Page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in', exact: true })).toBeVisible();
}

export interface CarInput {
  make: string;
  model: string;
  year: string;
  price: string;
  mileage: string;
  condition?: 'new' | 'used';
  description?: string;
}

/** Opens the sell form and fills in the car's fields (not the photos). */
export async function fillSellForm(page: Page, info: TestInfo, car: CarInput) {
  await open(page, '/sell', info);
  await page.getByLabel('Make').fill(car.make);
  await page.getByLabel('Model').fill(car.model);
  await page.getByLabel('Year').fill(car.year);
  await page.getByLabel('Price').fill(car.price);
  await page.getByLabel('Mileage (km)').fill(car.mileage);
  await page.getByLabel('Condition', { exact: true }).selectOption(car.condition ?? 'used');
  await page.getByLabel('Description').fill(car.description ?? '');
}

/** Sends the filled sell form; returns the new car's id once its page is open. */
export async function submitSellForm(page: Page): Promise<number> {
  await page.getByRole('button', { name: 'List my car' }).click();
  await page.waitForURL(/\/cars\/\d+$/);
  return Number(new URL(page.url()).pathname.split('/').pop());
}

/** Fills and submits the sell form; returns the new car's id. */
export async function sellThroughForm(page: Page, info: TestInfo, car: CarInput, photo = true): Promise<number> {
  await fillSellForm(page, info, car);
  if (photo) await page.getByLabel('Photo').setInputFiles(PHOTO);
  return submitSellForm(page);
}

/** Lists a car through the same multipart endpoint the form posts to (the user's cookies). */
export async function sellDirect(page: Page, car: CarInput): Promise<number> {
  const response = await page.request.post('/sell', {
    multipart: {
      make: car.make,
      model: car.model,
      year: car.year,
      price: car.price,
      mileage: car.mileage,
      condition: car.condition ?? 'used',
      description: car.description ?? '',
      image_url: '',
    },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
  const location = response.headers()['location'];
  return Number(location.split('/').pop());
}

/** Titles of the cards on the current marketplace page, in order. */
export async function cardTitles(page: Page): Promise<string[]> {
  return page.locator('.car-grid .car-title').allInnerTexts();
}
