import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import { CorralError, type ErrorCode } from '@corral/contracts';
import { KeyRing } from '../../auth';
import { judge0Key, sendJudge0Error, sendJudge0Thrown } from './answers';

const KEY = 'judge0-key-0123456789';
const ring = new KeyRing([{ name: 'judge', sha256: createHash('sha256').update(KEY).digest('hex'), ratePerMinute: 60, maxConcurrent: 2 }]);
const request = (headers: Record<string, string>, query: Record<string, string> = {}): Request => ({ headers, query }) as unknown as Request;

describe('judge0Key: X-Auth-Token as a corral API key', () => {
  it('takes the key from X-Auth-Token, its query parameter, or corral\'s Bearer header', () => {
    expect(judge0Key(request({ 'x-auth-token': KEY }), ring)?.name).toBe('judge');
    expect(judge0Key(request({}, { 'X-Auth-Token': KEY }), ring)?.name).toBe('judge');
    expect(judge0Key(request({ authorization: `Bearer ${KEY}` }), ring)?.name).toBe('judge');
  });

  it('refuses a wrong or missing key when keys are on; with keys off there is none', () => {
    expect(() => judge0Key(request({ 'x-auth-token': 'nope' }), ring)).toThrow(CorralError);
    expect(() => judge0Key(request({}), ring)).toThrow(expect.objectContaining({ code: 'unauthorized' }));
    expect(judge0Key(request({ 'x-auth-token': 'anything' }), new KeyRing([]))).toBeNull();
  });
});

describe('corral refusals as Judge0 answers them', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const app = express();
    app.get('/error/:code', (req, res) => sendJudge0Error(res, { code: req.params['code'] as ErrorCode, message: 'corral says why' }));
    app.get('/thrown/fields', (_req, res) => sendJudge0Thrown(res, new CorralError('invalid_request', 'x', { fields: { language_id: ["can't be blank"] } }), console));
    app.get('/thrown/callback', (_req, res) => sendJudge0Thrown(res, new CorralError('callback_refused', 'not allowed here'), console));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    ['queue_full', 503, { error: 'queue is full' }],
    ['no_capacity', 503, { error: 'queue is full' }],
    ['rate_limited', 429, { error: 'corral says why' }],
    ['payload_too_large', 413, { error: 'corral says why' }],
  ])('%s → %d %j, the code in x-corral-error', async (code, status, body) => {
    const res = await fetch(`${url}/error/${code}`);
    expect(res.status).toBe(status);
    expect(res.headers.get('x-corral-error')).toBe(code);
    expect(await res.json()).toEqual(body);
  });

  it('unauthorized: 401 with no body, as Judge0\'s head :unauthorized', async () => {
    const res = await fetch(`${url}/error/unauthorized`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('');
  });

  it('field errors as 422; a refused callback as the callback_url field\'s error', async () => {
    const fields = await fetch(`${url}/thrown/fields`);
    expect([fields.status, await fields.json()]).toEqual([422, { language_id: ["can't be blank"] }]);
    const callback = await fetch(`${url}/thrown/callback`);
    expect([callback.status, await callback.json(), callback.headers.get('x-corral-error')]).toEqual([422, { callback_url: ['not allowed here'] }, 'callback_refused']);
  });
});
