import { test, expect } from '@playwright/test';
import { logIn, logOut, open, register, unique } from './helpers';

test('a visitor registers, logs out and logs back in', async ({ page }, info) => {
  const username = await register(page, info);
  await expect(page.getByRole('navigation', { name: 'Main' })).toContainText(username);
  await logOut(page);
  await logIn(page, info, username);
  await expect(page.getByRole('navigation', { name: 'Main' })).toContainText(username);
});

test('a wrong password gets one generic message', async ({ page }, info) => {
  const username = await register(page, info);
  await logOut(page);
  await open(page, '/login', info);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText("don't match an account");
  // An unknown user sees exactly the same message.
  await open(page, '/login', info);
  await page.getByLabel('Username').fill(unique('nobody'));
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText("don't match an account");
});

test('registration explains what is wrong with a taken or short input', async ({ page }, info) => {
  const username = await register(page, info);
  await logOut(page);
  await open(page, '/register', info);
  await page.getByLabel('Username').fill(username.toUpperCase());
  await page.getByLabel('Password').fill('long-enough-password');
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByText('That username is taken')).toBeVisible();
});
