// Preloaded with `node --require` (via NODE_OPTIONS, where --cpu-prof is not allowed) by
// the suite's `node bench/run.mjs --profile DIR` (every Node process a target starts): records a V8 CPU profile of the whole process and writes
// DIR/<script>-<pid>.cpuprofile when it exits (open it in Chrome DevTools or speedscope).
'use strict';
const fs = require('node:fs');
const inspector = require('node:inspector');
const path = require('node:path');

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  // apps/<service>/dist/main.js -> <service>; anything else -> its file name.
  const script = process.argv[1] ?? 'node';
  const name =
    path.basename(script) === 'main.js'
      ? path.basename(path.dirname(path.dirname(script)))
      : path.basename(script).replace(/\.[cm]?js$/, '');
  process.once('exit', () => {
    // Posts on a same-thread session are dispatched synchronously, so this completes here.
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
