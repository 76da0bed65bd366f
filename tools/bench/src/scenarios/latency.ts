import type { HttpAnswer } from '../http';
import type { LatencyResult } from '../results';
import { summarize } from '../stats';
import { execute, HELLO_BODY, HELLO_OUTPUT, isHello, waitAllIdle, type StackContext } from './context';

/** Scenario 1: hello-world latency through the router at low load, against a naive express + `node -e` server. */
export async function runLatency(ctx: StackContext, naiveUrl: string): Promise<LatencyResult> {
  const { warmup, requests, blockSize, pacedRequests, thinkMs } = ctx.plan.latency;
  const naive = (): Promise<HttpAnswer> => ctx.client.post(`${naiveUrl}/run`, HELLO_BODY);
  const naiveOk = (a: HttpAnswer): boolean => a.status === 200 && a.body.toString('utf8') === HELLO_OUTPUT;

  const warm = ctx.progress.counter('latency: warm-up', warmup * 2);
  for (let i = 0; i < warmup; i += 1) {
    await execute(ctx);
    warm.tick();
    await naive();
    warm.tick();
  }
  warm.done();

  const corralMs: number[] = [];
  const naiveMs: number[] = [];
  let corralErrors = 0;
  let naiveErrors = 0;
  const counter = ctx.progress.counter('latency: corral and naive, sequential', requests * 2);
  for (let block = 0; block < requests / blockSize; block += 1) {
    await waitAllIdle(ctx);
    for (let i = 0; i < blockSize; i += 1) {
      const answer = await execute(ctx);
      if (isHello(answer)) corralMs.push(answer.ms);
      else corralErrors += 1;
      counter.tick();
    }
    for (let i = 0; i < blockSize; i += 1) {
      const answer = await naive();
      if (naiveOk(answer)) naiveMs.push(answer.ms);
      else naiveErrors += 1;
      counter.tick();
    }
  }
  if (corralMs.length === 0) throw new Error(`no corral request succeeded (${corralErrors} errors)`);
  if (naiveMs.length === 0) throw new Error(`no naive request succeeded (${naiveErrors} errors)`);
  // The same client, pausing after each answer (corral and naive alternate, one request each).
  const pacedCorral: number[] = [];
  const pacedNaive: number[] = [];
  const paced = ctx.progress.counter(`latency: corral and naive, ${thinkMs} ms between requests`, pacedRequests * 2);
  await waitAllIdle(ctx);
  for (let i = 0; i < pacedRequests; i += 1) {
    const answer = await execute(ctx);
    if (isHello(answer)) pacedCorral.push(answer.ms);
    else corralErrors += 1;
    paced.tick();
    await new Promise((r) => setTimeout(r, thinkMs));
    const other = await naive();
    if (naiveOk(other)) pacedNaive.push(other.ms);
    else naiveErrors += 1;
    paced.tick();
    await new Promise((r) => setTimeout(r, thinkMs));
  }
  paced.done();
  const result: LatencyResult = {
    requests,
    warmup,
    blockSize,
    corral: summarize(corralMs),
    naive: summarize(naiveMs),
    corralErrors,
    naiveErrors,
    paced: pacedCorral.length > 0 && pacedNaive.length > 0 ? { thinkMs, requests: pacedRequests, corral: summarize(pacedCorral), naive: summarize(pacedNaive) } : null,
  };
  counter.done(`corral p50 ${result.corral.p50.toFixed(1)} ms, naive p50 ${result.naive.p50.toFixed(1)} ms`);
  return result;
}
