// The benchmark suite's entry point: `npm run bench` (builds first, then the default set) or
// `npm run bench -- <scenario ...> [--targets a,b] [--quick] [--out F]`; `--help`, `--list`.
// See bench/suite/runner.mjs and docs/benchmarks.md "The suite".
import { main } from './suite/runner.mjs';

await main();
