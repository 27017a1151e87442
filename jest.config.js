// One Jest run, three tiers chosen by file name. Sources are compiled by SWC (no type check
// here: `npm run typecheck` does that); NestJS 12 ships ES modules, so @nestjs and @nats-io
// packages are transformed to CommonJS as well.
const fs = require('node:fs');
const path = require('node:path');
const swc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc.json'), 'utf8'));

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { ...swc, swcrc: false }] },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@nats-io)/)'],
  moduleNameMapper: {
    '^@chat/format/mentions$': '<rootDir>/libs/format/src/mentions.ts',
    '^@chat/(contracts|format|messaging|platform|client|testing)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  // Read globally, not per project; e2e files raise it with jest.setTimeout.
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,test}/**/*.unit.spec.ts'] },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.int.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/{apps,libs,test}/**/*.e2e.spec.ts'] },
  ],
};
