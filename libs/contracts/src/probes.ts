/** What a router answers to GET /healthz while it runs. */
export interface HealthAnswer {
  status: 'ok';
}

/** What a router answers to GET /readyz with an idle slot (HTTP 200); without one it answers 503 `unavailable`. */
export interface ReadyAnswer {
  ready: true;
  idle: number;
  total: number;
}
