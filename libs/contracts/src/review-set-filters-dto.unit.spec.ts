import { SetFiltersRequest } from './dto';
import { validateInput } from './validation';

// Review of issue 9: SetFiltersRequest's nested objects are only @ValidateNested, never
// required (@IsDefined/@IsObject), so these pass validation; the moderation service then reads
// `dto.links.domains` / `dto.spam.repeatedCharsMax` / `dto.words.forEach` of undefined
// (apps/moderation/src/filters/validate.ts) and answers INTERNAL instead of BAD_REQUEST.
describe('review - SetFiltersRequest refuses incomplete configurations', () => {
  const complete = { words: [], allow: [], patterns: [], links: { default: null, domains: [] }, spam: {} };
  it.each([
    ['no config', {}],
    ['config is an array', { config: [] }],
    ['config without links and spam', { config: { words: [], allow: [], patterns: [] } }],
    ['links and spam are arrays', { config: { ...complete, links: [], spam: [] } }],
  ])('%s', (_name, input) => {
    expect(validateInput(SetFiltersRequest, input).ok).toBe(false);
  });
});
