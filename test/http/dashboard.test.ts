/**
 * The dashboard in a real browser (Chromium driven by playwright-core), against the real HTTP
 * server and a real store, once per engine (SQLite, Redis):
 * - a task enqueued by the test shows in the queue table and the task list;
 * - its page updates live (no reload) when a worker fails it, showing the error and stack;
 * - Retry sends it back to PENDING in the store; Revoke (with terminate) and Purge ask first;
 * - the page logs no console error from start to end.
 *
 * Workers are driven by `runOnce()`; every wait is bounded (a Playwright timeout or `until`).
 * Chromium: see browser.ts (CHROMIUM_PATH, Debian's package, else the one in @sparticuz/chromium).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { Conveyor, PermanentError, Worker, type Store } from '../../src/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { buildServer } from '../../src/http/server.js';
import { silent } from '../helpers.js';
import { launchChromium } from './browser.js';
import { ALL_TEST_KEYS, assertRedisReachable, deleteKeys, SHARED_REDIS_URL, uniquePrefix } from '../redis/servers.js';

const TOKEN = 'dashboard-test-token';
/** Longest wait for anything the page shows (the SSE loop sends at least every 5 s). */
const UI_TIMEOUT_MS = 15_000;

interface Engine {
  name: string;
  ready(): Promise<void>;
  open(): { store: Store; cleanup(): Promise<void> };
}

const ENGINES: Engine[] = [
  {
    name: 'sqlite',
    ready: async () => {},
    open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-dash-'));
      return { store: new SqliteStore(path.join(dir, 'conveyor.db')), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'redis',
    ready: () => assertRedisReachable(SHARED_REDIS_URL),
    open: () => ({ store: new RedisStore({ url: SHARED_REDIS_URL, prefix: uniquePrefix() }), cleanup: async () => {} }),
  },
];

/** Poll `check` until it answers true, at most `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The page's console errors and uncaught exceptions, collected for the final assertion. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => {
    // The EventSource is cut when the page closes; anything else failing is a bug.
    if (!req.url().includes('/api/events')) errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`);
  });
  return errors;
}

const sel = (testid: string, extra = '') => `[data-testid="${testid}"]${extra}`;

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await deleteKeys(SHARED_REDIS_URL, ALL_TEST_KEYS).catch(() => {});
});

for (const engine of ENGINES) {
  describe(`dashboard (${engine.name})`, () => {
    let app: Conveyor;
    let server: FastifyInstance;
    let base: string;
    let cleanup: () => Promise<void>;
    let worker: Worker;

    before(async () => {
      await engine.ready();
      const opened = engine.open();
      cleanup = opened.cleanup;
      app = new Conveyor({ store: opened.store, logger: silent });
      app.task({ name: 'report.build', queue: 'reports' }, async (_ctx, month: string) => {
        throw new PermanentError(`the printer is on fire (${month})`);
      });
      worker = new Worker(app, { logger: silent, workerId: 'w-dash', queues: ['reports'] });
      // Snapshots at least every second, so a wait for the page is short whatever wakes the loop.
      server = await buildServer({ app, token: TOKEN, events: { minIntervalMs: 100, maxIntervalMs: 1000 } });
      await server.listen({ port: 0, host: '127.0.0.1' });
      const address = server.server.address();
      assert.ok(address && typeof address === 'object');
      base = `http://127.0.0.1:${address.port}`;
    });

    after(async () => {
      await server?.close();
      await app?.close();
      await cleanup?.();
    });

    test('serves the page and its assets, under the server\'s prefix too', async () => {
      const page = await fetch(`${base}/?token=${TOKEN}`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.match(await page.text(), /<script type="module" src="\/assets\/app.js">/);
      assert.equal((await fetch(`${base}/`)).status, 401, 'the page needs the token');
      // Assets hold no data: they load without it (the page's JS adds it to API calls).
      const js = await fetch(`${base}/assets/app.js`);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
      const etag = js.headers.get('etag');
      assert.ok(etag);
      assert.equal((await fetch(`${base}/assets/app.js`, { headers: { 'if-none-match': etag } })).status, 304);
      assert.equal((await fetch(`${base}/assets/nope.js`)).status, 404);

      const prefixed = await buildServer({ app, prefix: '/conveyor' });
      try {
        const html = (await prefixed.inject('/conveyor/')).body;
        assert.match(html, /href="\/conveyor\/assets\/style.css"/);
        assert.equal((await prefixed.inject('/conveyor/assets/api.js')).statusCode, 200);
      } finally {
        await prefixed.close();
      }
    });

    test('a task shows, fails live, and Retry sends it back to its queue', async () => {
      const r = await app.send('report.build', ['2024-05']);
      await app.store.workersHeartbeat({
        worker: { id: 'w-dash', hostname: 'test-host', pid: process.pid, queues: ['reports'], concurrency: 4, startedAt: Date.now(), active: [], counts: {} },
        ttlMs: 60_000,
      });
      const page = await browser.newPage();
      const errors = watchErrors(page);
      try {
        // The overview: the queue with its waiting job, the worker, the counters, the chart.
        await page.goto(`${base}/?token=${TOKEN}#/`);
        await page.waitForSelector(sel('connection-status', '[data-state="live"]'), { timeout: UI_TIMEOUT_MS });
        const queue = page.locator(sel('queue-row', '[data-queue="reports"]'));
        await queue.locator(sel('count-PENDING')).filter({ hasText: '1' }).waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(sel('worker-row', '[data-worker="w-dash"]')).waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(sel('counter-duplicates_suppressed_total')).waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(sel('throughput-chart')).waitFor({ timeout: UI_TIMEOUT_MS });

        // The list, filtered by queue through the form.
        await page.click(sel('nav-tasks'));
        await page.selectOption(sel('filter-queue'), 'reports');
        const row = page.locator(sel('task-row', `[data-id="${r.id}"]`));
        await row.waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal(await row.getAttribute('data-state'), 'PENDING');
        assert.match(page.url(), /#\/tasks\?queue=reports$/);

        // Its page, then a worker fails it: the page follows without a reload.
        await row.locator(sel('task-link')).click();
        await page.waitForSelector(sel('task-detail', '[data-state="PENDING"]'), { timeout: UI_TIMEOUT_MS });
        assert.equal(await page.locator(sel('task-args')).textContent(), JSON.stringify(['2024-05'], null, 2));
        assert.equal(await page.isDisabled(sel('retry-button')), true, 'a waiting job cannot be retried');
        await worker.runOnce();
        assert.equal((await app.store.jobGet(r.id))?.state, 'FAILURE');
        await page.waitForSelector(sel('task-detail', '[data-state="FAILURE"]'), { timeout: UI_TIMEOUT_MS });
        assert.match((await page.locator(sel('task-error')).textContent()) ?? '', /PermanentError.*the printer is on fire \(2024-05\)/s);
        assert.match((await page.locator(sel('task-stack')).textContent()) ?? '', /at /);
        assert.equal(await page.locator(sel('delivery-row')).count(), 1);
        assert.match((await page.locator(sel('fact-worker')).textContent()) ?? '', /w-dash/);

        // Retry: the store has it waiting again, and the page says so.
        await page.click(sel('retry-button'));
        await until('the job to be PENDING again in the store', async () => (await app.store.jobGet(r.id))?.state === 'PENDING');
        await page.waitForSelector(sel('task-detail', '[data-state="PENDING"]'), { timeout: UI_TIMEOUT_MS });
        await page.locator(sel('toast')).filter({ hasText: 'Sent again' }).waitFor({ timeout: UI_TIMEOUT_MS });

        // Back on the list, the row follows the next failure live too.
        await page.click(sel('nav-tasks'));
        await row.waitFor({ timeout: UI_TIMEOUT_MS });
        await worker.runOnce();
        await page.waitForSelector(sel('task-row', `[data-id="${r.id}"][data-state="FAILURE"]`), { timeout: UI_TIMEOUT_MS });
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    });

    test('Revoke with terminate and Purge ask first, then act', async () => {
      const keep = await app.send('report.build', ['2024-06']);
      const drop = await app.send('report.build', ['2024-07']);
      const page = await browser.newPage();
      const errors = watchErrors(page);
      try {
        await page.goto(`${base}/?token=${TOKEN}#/tasks/${encodeURIComponent(keep.id)}`);
        await page.waitForSelector(sel('task-detail', '[data-state="PENDING"]'), { timeout: UI_TIMEOUT_MS });

        // Cancelling the dialog changes nothing.
        await page.click(sel('revoke-button'));
        await page.click(sel('revoke-dialog') + ' ' + sel('dialog-cancel'));
        assert.equal((await app.store.jobGet(keep.id))?.state, 'PENDING');

        await page.click(sel('revoke-button'));
        await page.check(sel('dialog-terminate'));
        await page.fill(sel('dialog-reason'), 'not needed');
        await page.click(sel('revoke-dialog') + ' ' + sel('dialog-confirm'));
        await until('the job to be REVOKED', async () => (await app.store.jobGet(keep.id))?.state === 'REVOKED');
        await page.waitForSelector(sel('task-detail', '[data-state="REVOKED"]'), { timeout: UI_TIMEOUT_MS });
        assert.equal(await page.isDisabled(sel('revoke-button')), true);
        assert.equal(await page.isEnabled(sel('retry-button')), true, 'a revoked job can be sent again');

        // Purge the queue from the overview: one waiting job (`drop`) goes.
        await page.click(sel('nav-overview'));
        const purge = page.locator(sel('queue-row', '[data-queue="reports"]')).locator(sel('purge-button'));
        await purge.and(page.locator(':enabled')).waitFor({ timeout: UI_TIMEOUT_MS });
        await purge.click();
        await page.click(sel('purge-dialog') + ' ' + sel('dialog-confirm'));
        await until('the waiting job to be purged', async () => (await app.store.jobGet(drop.id)) === null);
        await page.locator(sel('toast')).filter({ hasText: 'Purged 1 job' }).waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal((await app.store.jobGet(keep.id))?.state, 'REVOKED', 'purge leaves final jobs');
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    });
  });
}
