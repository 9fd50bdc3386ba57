/// <reference lib="dom" />
// The report pages in a real browser: Debian's headless Chromium (driven by playwright-core with
// executablePath) opens each file from disk and must see no console errors, no network request
// other than the file itself, and every chart drawn (a canvas with painted pixels); a screenshot
// of each page is saved under test/output/. Without Chromium the tests are skipped with a message
// that says so (CI installs it: see .ci/run).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randn, rng } from './helpers';
import {
  Sequential, Linear, ReLU, Tanh, BatchNorm1d, CrossEntropyLoss, SGD, fit, StatsRecorder, report, initReport, compareInits,
  LECTURE_CASES, tensor,
} from '../lib/index';

const CHROMIUM = process.env.MINIBATCH_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const OUT = path.join(__dirname, 'output');
if (!CHROMIUM) console.warn('report-browser: SKIPPED — Chromium not found (install Debian\'s chromium: apt-get install -y chromium, or set MINIBATCH_CHROMIUM)');

async function makePages(): Promise<{ train: string; init: string }> {
  fs.mkdirSync(OUT, { recursive: true });
  const n = 200;
  const x = randn(n * 8, 3);
  const r = rng(4);
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * 3));
  const model = new Sequential([new Linear({ inFeatures: 8, outFeatures: 16 }), new BatchNorm1d({ numFeatures: 16 }), new Tanh(), new Linear({ inFeatures: 16, outFeatures: 16 }), new ReLU(), new Linear({ inFeatures: 16, outFeatures: 3 })], { inputShape: [8] });
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const rec = new StatsRecorder(model, { every: 5, optimizer: opt });
  const history = await fit(model, tensor(x, [n, 8]), y, { epochs: 4, batchSize: 20, validationSplit: 0.2, metrics: ['accuracy'], loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, callbacks: [rec] });
  const train = path.join(OUT, 'report.html');
  report(history, rec, { out: train, model });
  const init = path.join(OUT, 'init.html');
  initReport(compareInits(LECTURE_CASES, { layers: 4, width: 256, batch: 64 }), { out: init });
  return { train, init };
}

describe.skipIf(!CHROMIUM)('report pages in headless Chromium', () => {
  let browser: any;
  let pages: { train: string; init: string };
  let profile: string;
  beforeAll(async () => {
    pages = await makePages();
    const { chromium } = await import('playwright-core');
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  for (const which of ['train', 'init'] as const) {
    it(`${which} page: no console errors, no network, every chart drawn`, async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m: any) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e: Error) => errors.push(String(e)));
      page.on('request', (r: any) => requests.push(r.url()));
      const url = `file://${pages[which]}`;
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForFunction(() => document.body.getAttribute('data-drawn') !== null, null, { timeout: 15_000 });
      const info = await page.evaluate(() => {
        const charts = Array.from(document.querySelectorAll('.chart'));
        const painted = charts.map((c: Element) => {
          const cv = c.querySelector('canvas') as HTMLCanvasElement | null;
          if (!cv || cv.width === 0 || cv.height === 0) return 0;
          const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
          return n;
        });
        return { total: Number(document.body.getAttribute('data-charts')), drawn: Number(document.body.getAttribute('data-drawn')), painted };
      });
      await page.screenshot({ path: path.join(OUT, `${which}.png`), fullPage: true });
      await page.close();
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      expect(info.total).toBeGreaterThan(which === 'train' ? 10 : 20);
      expect(info.drawn).toBe(info.total);
      expect(info.painted.length).toBe(info.total);
      for (const [i, p] of info.painted.entries()) expect(p, `chart ${i} has painted pixels`).toBeGreaterThan(200);
    }, 60_000);
  }
});
