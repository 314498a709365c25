import { Errors, GatewayError } from '../errors.js';
import type { Logger } from 'pino';
import type { RequestContext, ResponseContext, StageReply, StageResult } from './stage.js';

/**
 * The three runners of a route's chain, shared by HTTP exchanges and
 * WebSocket handshakes: request hooks in order until one answers, response
 * hooks in order, then every onDone once the exchange ended.
 */

/** What the request stages run for: an HTTP exchange or a WebSocket handshake. */
export interface StagedRequest {
  readonly ctx: RequestContext;
  readonly aborted: boolean;
  collectBody(): Promise<Buffer>;
  reply(reply: StageReply): void;
  forward(): void;
  fail(error: GatewayError, closeClient: boolean): void;
}

/** Runs the route's request stages in order; a route without any costs no promise. */
export function runRequestStages(exchange: StagedRequest, log: Logger): void {
  const route = exchange.ctx.route;
  if (route.admission !== null) {
    const refusal = route.admission(exchange.ctx.clientAddress);
    if (refusal) return exchange.reply(refusal);
  }
  const stages = route.requestStages;
  if (stages.length === 0 && !route.needsRequestBody) {
    exchange.forward();
    return;
  }
  void (async () => {
    const ctx = exchange.ctx;
    if (route.needsRequestBody) ctx.body = await exchange.collectBody();
    for (const stage of stages) {
      const t0 = performance.now();
      let result: StageResult | Promise<StageResult> = stage.onRequest!(ctx);
      if (result instanceof Promise) result = await result;
      ctx.stageMs[stage.name] = performance.now() - t0;
      if (exchange.aborted) return;
      if (result) {
        route.recorder.stageRefused(route.name, stage.name, result.error.code, result.label);
        exchange.reply(result);
        return;
      }
    }
    exchange.forward();
  })().catch((err: unknown) => {
    log.error({ reqId: exchange.ctx.id, route: route.name, err }, 'request stage threw');
    exchange.fail(new GatewayError(Errors.INTERNAL, 'request stage threw'), true);
  });
}

/**
 * Runs the route's response stages in order over `response`; stops early once
 * the exchange is `finished` (the client went away, a stage failed it).
 * Time spent is added to what the stage took on the request.
 */
export async function runResponseStages(ctx: RequestContext, response: ResponseContext, exchange: { readonly finished: boolean }): Promise<void> {
  const stageMs = ctx.stageMs;
  for (const stage of ctx.route.responseStages) {
    const t0 = performance.now();
    const pending = stage.onResponse!(ctx, response);
    if (pending) await pending;
    stageMs[stage.name] = (stageMs[stage.name] ?? 0) + performance.now() - t0;
    if (exchange.finished) return;
  }
}

/** Calls every onDone of the route once the exchange, handshake or session ended; one that throws does not stop the others. */
export function runDoneStages(ctx: RequestContext, status: number, log: Logger): void {
  for (const stage of ctx.route.doneStages) {
    try {
      stage.onDone!(ctx, status);
    } catch (err) {
      log.error({ reqId: ctx.id, route: ctx.route.name, stage: stage.name, err }, 'onDone threw');
    }
  }
}
