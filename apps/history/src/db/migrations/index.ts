import { InitialSchema1795480356658 } from './1795480356658-InitialSchema';

/** Every migration, oldest first. Append new ones; never edit one that has shipped. */
export const migrations = [InitialSchema1795480356658];
