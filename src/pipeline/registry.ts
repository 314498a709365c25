import type { StageFactory } from './stage.js';
import { headersStage } from '../headers/stage.js';
import { identityStage } from '../identity/stage.js';
import { rateLimitStage } from '../ratelimit/stage.js';
import { concurrencyStage } from '../ratelimit/concurrency.js';
import { inspectStage } from '../inspect/stage.js';
import { validateStage } from '../validate/stage.js';
import { protectStage } from '../protect/stage.js';

/**
 * Every stage type a route may name, in the order they run whatever order a
 * route lists them in (as Kong's plugin priorities): who the caller is comes
 * before anything that depends on it.
 */
export const stageFactories: readonly StageFactory[] = [identityStage, rateLimitStage, validateStage, concurrencyStage, inspectStage, protectStage, headersStage];

export const stageFactoryByType = new Map(stageFactories.map((f) => [f.type, f]));
