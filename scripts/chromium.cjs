// Debian's Chromium and the flags it runs with, for the browser tests (test/e2e/browser.ts) and
// the web benchmark (bench/web-load.mjs): nothing downloads a browser, and the flags keep it off
// the network (this machine's closed network refuses its background connections) and out of any
// profile.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
module.exports = { CHROMIUM, CHROMIUM_ARGS };
