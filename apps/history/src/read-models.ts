import { membership } from './membership';
import { messages } from './messages';
import type { AnyReadModel } from './store/read-model';

/**
 * Every read model the projector feeds, by name. Adding one (search, statistics, read markers):
 * a sibling folder exporting a ReadModel, its migration in db/migrations, and a line here; the
 * plan, the batch transaction and the entity list pick it up from this table. Parts are applied
 * in this order: membership first, so the messages read model judges a batch's posts with the
 * batch's own room events known (the posting rule, posting/).
 */
export const readModels = { membership, messages } as const satisfies Record<string, AnyReadModel>;
export type ReadModelName = keyof typeof readModels;
