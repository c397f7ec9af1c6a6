// GET / in a real browser: Debian's chromium driven by playwright-core. The page shows this
// relay's exact one-liner, names the organisation, loads nothing from elsewhere, breaks no
// CSP rule, and its copy button puts the command on the clipboard (mouse and keyboard).
import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRelay } from './helpers/relay.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : 'needs Debian chromium (scripts/setup.sh installs it)';

t.test('the relay page in headless Chromium, with its copy button', { skip }, async (t) => {
  const { chromium } = await import('playwright-core');
  const relay = await spawnRelay(['--open', '--brand-name', 'Acme <Support>', '--brand-note', 'Questions? Call 0800 123 & ask for IT.']);
  t.teardown(async () => void (await relay.stop()));
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'rso-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => context.close());
  const origin = `http://127.0.0.1:${relay.port}`;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));

  const res = await page.goto(`${origin}/`);
  t.equal(res?.status(), 200);
  t.match(res?.headers()['content-security-policy'], /default-src 'none'/);
  const expected = `npx -y rso share --relay ws://127.0.0.1:${relay.port}`;
  t.equal(await page.title(), 'Acme <Support> remote support', 'brand name, escaped, in the title');
  t.equal(await page.locator('h1').textContent(), 'Acme <Support> remote support');
  t.equal(await page.locator('.note').textContent(), 'Questions? Call 0800 123 & ask for IT.');
  t.equal(await page.locator('#command').textContent(), expected, 'the exact one-liner for this relay');
  t.equal(await page.locator('html').getAttribute('lang'), 'en');
  t.equal(await page.getByRole('button', { name: 'Copy command' }).count(), 1, 'the button has an accessible name');
  t.equal(await page.getByRole('status').count(), 1, 'a live region announces the result');

  await page.getByRole('button', { name: 'Copy command' }).click();
  await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor({ timeout: 5000 });
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), expected, 'the clipboard holds the command');

  // Keyboard only, on a fresh load: clear the clipboard, Tab to the button, press Enter.
  await page.evaluate(() => navigator.clipboard.writeText(''));
  await page.reload();
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'copy', 'the button is the first thing Tab reaches');
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor({ timeout: 5000 });
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), expected, 'copied with the keyboard');

  t.same(requests.filter((u) => !u.startsWith(`${origin}/`)), [], 'no request leaves this relay');
  t.same(problems, [], 'no console error (a CSP violation would show here)');
});

t.test('the command names the host the customer used, wss:// unless a plain relay on this machine', async (t) => {
  const relay = await spawnRelay(['--open']);
  t.teardown(async () => void (await relay.stop()));
  const { request } = await import('node:http');
  const get = (headers: Record<string, string>): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: relay.port, path: '/', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  t.match(await get({ host: 'support.example.com' }), 'npx -y rso share --relay wss://support.example.com</code>', 'public name: wss');
  t.match(await get({ host: 'support.example.com:8443' }), '--relay wss://support.example.com:8443<');
  t.match(await get({ host: 'localhost:1234', 'x-forwarded-proto': 'https' }), '--relay wss://localhost:1234<', 'behind a TLS proxy: wss');
  const evil = await get({ host: '"><script>alert(1)</script>' });
  t.notMatch(evil, '<script>alert', 'a hostile Host header is not echoed');
  t.match(evil, `--relay ws://127.0.0.1:${relay.port}<`, 'falls back to the listening address');
  const plain = await get({ host: `127.0.0.1:${relay.port}` });
  t.notMatch(plain, /Acme|class="note"/, 'no brand without --brand-name / --brand-note');
  t.match(plain, '<title>Remote support</title>');
});
