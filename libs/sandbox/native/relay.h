#ifndef CORRAL_RELAY_H
#define CORRAL_RELAY_H
#include <poll.h>

/* One relayed stream: the sandbox writes `sandbox_end`, corral-spawn moves `in` to `out`. */
struct relay {
  int in;
  int sandbox_end;
  int out;
  long long quiet_until_ms;
  int blocked;
};

long long relay_now_ms(void);
/* Makes the pipe (its write end `sandbox_end` is the sandbox's fd; close it here after fork). */
int relay_open(struct relay *r, int out, int pipe_bytes);
/* What to poll for this stream now (fd -1: nothing), lowering *timeout for a quiet period. */
void relay_poll_fd(const struct relay *r, struct pollfd *p, long long now, int *timeout);
/* After poll: moves what it can. */
void relay_step(struct relay *r, const struct pollfd *p);
/* Moves what the pipe holds now (until_end: until every writer is gone), for at most wait_ms. */
void relay_flush(struct relay *r, int until_end, int wait_ms);

#endif
