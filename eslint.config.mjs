// Lint is here for architecture rules, not style: Nx's module-boundary rule checks every import
// against the tags in each project.json:
// - type:   apps use libs; contracts (the wire types) import none of our other libs.
// - scope:  an app (scope:<its name>) may use only shared projects, never another app: apps
//           talk only through NATS. Shared libs use only shared libs.
// - framework:none: libs that must stay usable without Nest (messaging, format): no @nestjs import.
// Nx finds which project an `@chat/...` import belongs to through the npm workspace
// (node_modules/@chat/* link to the projects' folders, or their package.json names);
// scripts/boundaries.int.spec.ts proves each rule fails on a forbidden import.
import nx from '@nx/eslint-plugin';
import tsParser from '@typescript-eslint/parser';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', 'apps/gateway/public/**', 'bench/**', 'scripts/**', '.data/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tsParser },
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:lib', 'type:testing'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:contracts', 'type:lib', 'type:testing'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:lib', 'type:testing'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:rooms', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:history', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:presence', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:moderation', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'framework:none', bannedExternalImports: ['@nestjs/*'] },
          ],
        },
      ],
    },
  },
];
