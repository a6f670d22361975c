import { test, expect } from '@playwright/test';
import { jsEnabled } from './helpers';

// What a returning buyer's browser gets: assets whose names carry their content hash,
// cached for a year without revalidation, and everything compressible sent compressed.
test('built assets are hashed, immutable and compressed', async ({ request }, info) => {
  test.skip(!jsEnabled(info), 'HTTP only: checked once');
  // Pages are compressed per request (each has its own nonce): zstd, then gzip, are the cheaper encoders for that.
  const page = await request.get('/cars', { headers: { 'accept-encoding': 'br, gzip' } });
  expect(page.headers()['content-encoding']).toBe('gzip');
  const brotliOnly = await request.get('/cars', { headers: { 'accept-encoding': 'br' } });
  expect(brotliOnly.headers()['content-encoding']).toBe('br');
  expect(await brotliOnly.text()).toContain('</html>');
  const html = await page.text();
  const assets = [...html.matchAll(/\/pkg\/autonexus\.[A-Za-z0-9_-]{8,}\.(?:js|wasm|css)/g)].map((m) => m[0]);
  const kinds = new Set(assets.map((a) => a.split('.').pop()));
  expect([...kinds].sort(), `hashed asset links in: ${assets.join(', ')}`).toEqual(['css', 'js', 'wasm']);

  let scriptBytes = 0;
  for (const asset of new Set(assets)) {
    const response = await request.get(asset, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(response.status(), asset).toBe(200);
    expect(response.headers()['cache-control'], asset).toBe('public, max-age=31536000, immutable');
    expect(response.headers()['content-encoding'], asset).toBe('br');
    if (!asset.endsWith('.css')) scriptBytes += Number(response.headers()['content-length']);
  }
  // The budget for what a first visit downloads to hydrate (JS + WASM, as sent): Leptos
  // islands keep it to the interactive parts (the sell form).
  expect(scriptBytes, 'JS + WASM bytes sent, brotli').toBeGreaterThan(10_000);
  expect(scriptBytes, 'JS + WASM bytes sent, brotli').toBeLessThanOrEqual(150_000);
});

// The browser names zstd among the encodings it accepts, so the page comes as zstd (the
// cheapest of the three for the server to produce) and must still render whole.
test('a browser gets the marketplace page as zstd and shows all of it', async ({ page }) => {
  const response = await page.goto('/cars');
  expect(response, 'the page loads').not.toBeNull();
  const asked = await response!.request().allHeaders();
  expect(asked['accept-encoding'], 'what the browser accepts').toContain('zstd');
  expect((await response!.allHeaders())['content-encoding']).toBe('zstd');
  await expect(page.getByRole('heading', { level: 1, name: 'Buy Used Cars' })).toBeVisible();
  // The footer is the end of the document: nothing was cut off.
  await expect(page.getByRole('contentinfo')).toBeVisible();
});
