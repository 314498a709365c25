import type { StageFactory } from './stage.js';
import { headersStage } from './stages/headers.js';

/**
 * Every stage type a route may name, in the order they run when a route lists
 * several (later issues add identity, rate limit, inspection, data protection).
 */
export const stageFactories: readonly StageFactory[] = [headersStage];

export const stageFactoryByType = new Map(stageFactories.map((f) => [f.type, f]));
