/*
 * The exit notifier, the parent's side: the kernel holds the sandbox's exit_group until
 * corral-spawn answers, and tells it the process and the exit code. Only the runtime's own call
 * counts: the process runs the runtime binary and its parent does not (a process the runtime
 * forked would be a child of the runtime); bubblewrap's processes exit through exit_group too.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "notify.h"

static int same_file(const char *path, dev_t dev, ino_t ino) {
  struct stat st;
  return stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static int is_runtime(pid_t pid, dev_t dev, ino_t ino) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
  if (!same_file(path, dev, ino)) return 0;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *end = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
  int ppid = 0;
  if (!end || sscanf(end + 1, " %*c %d", &ppid) != 1) return 0;
  snprintf(path, sizeof path, "/proc/%d/exe", ppid);
  return !same_file(path, dev, ino);
}

/* VmHWM of a process, in kB; -1 when unreadable. */
static long peak_rss_kb(pid_t pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *at = strstr(buf, "VmHWM:");
  return at ? atol(at + 6) : -1;
}

/* The CPU of the whole process (every thread, ended ones too), in ns, from the kernel's process
   CPU clock; -1 when unreadable. Read while its exit_group is held, it is all the process used:
   once it is reaped, nothing of it can be read from /proc any more. */
static long long process_cpu_ns(pid_t pid) {
  clockid_t clock;
  struct timespec ts;
  if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) return -1;
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void notifier_init(struct notifier *n) {
  if (n->listener < 0) return;
  struct seccomp_notif_sizes sizes;
  size_t size = sizeof(struct seccomp_notif);
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0 && sizes.seccomp_notif > size) size = sizes.seccomp_notif;
  n->req = calloc(1, size);
  n->req_size = size;
  if (!n->req) notifier_close(n);
}

int notifier_answer(struct notifier *n, int *code, long *peak_kb, long long *cpu_ns) {
  if (n->listener < 0) return 0;
  struct seccomp_notif *req = n->req;
  memset(req, 0, n->req_size);
  if (ioctl(n->listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return 0;
  int found = 0;
  if (!n->ended && req->data.nr == __NR_exit_group && is_runtime((pid_t)req->pid, n->runtime_dev, n->runtime_ino) &&
      ioctl(n->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0) { /* still that process, not a reused pid */
    n->ended = 1;
    found = 1;
    *code = (int)(req->data.args[0] & 0xff);
    *peak_kb = peak_rss_kb((pid_t)req->pid);
    *cpu_ns = process_cpu_ns((pid_t)req->pid);
  }
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof resp);
  resp.id = req->id;
  resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  ioctl(n->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  return found;
}

void notifier_close(struct notifier *n) {
  if (n->listener >= 0) close(n->listener);
  n->listener = -1;
  free(n->req);
  n->req = NULL;
}

int child_ended(pid_t child) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  return waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == child;
}
