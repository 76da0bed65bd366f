#ifndef CORRAL_NOTIFY_H
#define CORRAL_NOTIFY_H
#include <sys/types.h>

/* The trusted parent's side of the exit notifier (seccomp.c's exit_notifier). */
struct notifier {
  int listener;          /* the seccomp listener, -1 when there is none */
  void *req;             /* a buffer for one notification */
  size_t req_size;
  int ended;             /* the runtime's exit_group was seen */
  dev_t runtime_dev;     /* the runtime binary: only its own process counts */
  ino_t runtime_ino;
};

void notifier_init(struct notifier *n);
/* Takes one notification and lets the call go on; true (with the exit code, as the OS keeps it,
   the process's peak memory in kB and its CPU in ns, -1 when unreadable) the first time it is
   the runtime's own exit_group. */
int notifier_answer(struct notifier *n, int *code, long *peak_kb, long long *cpu_ns);
void notifier_close(struct notifier *n);
/* Without a pidfd: whether the child has ended (not reaped). */
int child_ended(pid_t child);

#endif
