import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const { CHROMIUM: chromiumPath, CHROMIUM_ARGS } = require('../../scripts/chromium.cjs') as typeof import('../../scripts/chromium.cjs');

/** Debian's Chromium: the browser tests never download one. */
export const CHROMIUM: string = chromiumPath;

/**
 * Launches Debian's Chromium headless for the browser tests. The flags keep it off the network
 * (this machine's closed network refuses its background connections) and out of any profile.
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser test drives Debian's Chromium. Install it with \`apt-get install chromium\` (no browser is downloaded).`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
