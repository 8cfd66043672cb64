/**
 * The Chromium the browser tests (and scripts/screenshot.ts) drive with playwright-core, found
 * without root or a download: CHROMIUM_PATH when set, else Debian's /usr/bin/chromium when
 * installed, else the build inside the npm package @sparticuz/chromium (a devDependency; it
 * unpacks its own binary to the temp folder, offline).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
/** Chromium's connections to Google's services are refused on a closed network: do not make them. */
const QUIET = ['--no-sandbox', '--disable-background-networking'];

/** Launch a headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  const given = process.env.CHROMIUM_PATH ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined);
  if (given !== undefined) return chromium.launch({ executablePath: given, args: ['--headless', ...QUIET] });
  const { default: packaged } = await import('@sparticuz/chromium');
  // Its args are made for AWS Lambda; --single-process there makes closing a page close the browser.
  const args = packaged.args.filter((a) => a !== '--single-process');
  return chromium.launch({ executablePath: await packaged.executablePath(), args: [...args, ...QUIET] });
}
