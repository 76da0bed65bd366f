/*
 * corral-spawn: the trusted parent of one sandbox process.
 *
 * It starts the sandbox in a session and process group of its own, with rlimits and (when
 * asked and allowed) another uid/gid, no new privileges and death-with-parent; then it waits
 * for it with wait4() and reports what only a parent can know for certain: how it ended, the
 * CPU time it used and its peak resident memory. Nothing the sandbox does can change that
 * report. When the sandbox ends, whatever is left of its process group is killed and, as a
 * child subreaper, the launcher reaps every descendant before it exits: no zombie is left.
 *
 * usage: corral-spawn [options] -- PROGRAM ARGS...
 *   --status-fd N        where the report goes (default 4)
 *   --keep-fds N         the sandbox inherits fds 0 … N-1 only (default 3: stdin, stdout, stderr)
 *   --rlimit NAME=VALUE  NAME: as (bytes), nproc, nofile, fsize (bytes), core (bytes), cpu (seconds)
 *   --uid N --gid N      run the sandbox as this uid/gid, with no supplementary groups
 *   --netns PATH         run the sandbox in this network namespace (e.g. /run/netns/crl-n3)
 *   --nice N             start the sandbox at this nice value (the worker raises it when its job starts)
 *   --cgroup DIR         create DIR, put the sandbox in it, remove it when everything has ended
 *   --cgroup-set F=V     write V to file F after creating the cgroups (limits)
 *   --cgroup-get K=F[:N] report file F (or the value after "N " in it) as "cgroup K VALUE" at the end
 *   --seccomp self       install the sandbox's seccomp filter (seccomp.c) right before exec
 *   --seccomp fd:N       hand it to the program instead, as a compiled filter on fd N (bubblewrap's
 *                        --seccomp N installs it right before it starts the sandboxed command)
 *   --relay              the sandbox writes stdout and stderr into pipes that corral-spawn moves to its
 *                        own (relay.c: small writes merged, a bounded number of wakeups of the worker)
 *   --notify-exit PATH   learn the exit code of the process running PATH (the runtime) the moment it
 *                        calls exit_group, from the kernel (a seccomp user notification), and
 *                        report it at once as an "ended" line, before any teardown
 *
 * Lines written on the status fd (never inherited by the sandbox):
 *   pid <pid>
 *   cgroup <key> <value>             (one per --cgroup-get, before the exit line)
 *   ended <code> <peak-rss-kb> <cgroup-cpu-ns|-1> <runtime-cpu-ns|-1>
 *                                    (--notify-exit: the runtime asked to exit with this code;
 *                                    what it wrote before is all in its pipes; the runtime
 *                                    process's own CPU, read while its exit is held)
 *   exit <code|-1> <signal|0> <user-us> <sys-us> <maxrss-kb>
 *                                    (once every process of the sandbox has ended: all it wrote
 *                                    is in its pipes; the cgroups are removed after this line,
 *                                    and the status fd ends when they are gone)
 *   error <message>                  (instead of both: the sandbox could not be started)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include "notify.h"
#include "relay.h"
#include "seccomp.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LIMITS 16
#define MAX_CGROUPS 8
#define MAX_CGROUP_OPS 16

struct limit { int resource; rlim_t value; };

static pid_t child = -1;

/* Sends fd over a unix socket (SCM_RIGHTS). */
static int send_fd(int sock, int fd) {
  char byte = 'L';
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Receives an fd sent by send_fd; -1 when none came. */
static int recv_fd(int sock) {
  char byte;
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  if (recvmsg(sock, &msg, MSG_DONTWAIT) != 1) return -1;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return fd;
}

/* Writes `value` to `path`; 0 on success. */
static int write_file(const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, value, strlen(value));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* Reads `path` into buf (NUL-terminated); bytes read or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  return n;
}

/* mkdir -p: a host folder removed by a janitor just before this sandbox is made again (cgroup v1
   folders need nothing but their existence). */
static int make_dirs(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *slash = path + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
    *slash = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
    *slash = '/';
  }
  return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Kills every process still in a cgroup, then removes it (retrying while they die). */
static void remove_cgroup(const char *dir) {
  char path[4096], buf[4096];
  for (int attempt = 0; attempt < 2000; attempt++) {
    if (rmdir(dir) == 0 || errno == ENOENT) return;
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    if (read_file(path, buf, sizeof buf) > 0) {
      for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) kill((pid_t)atoi(line), SIGKILL);
    }
    usleep(1000);
  }
  fprintf(stderr, "corral-spawn: could not remove cgroup %s: %s\n", dir, strerror(errno));
}

static void usage(const char *why) {
  fprintf(stderr, "corral-spawn: %s\nusage: corral-spawn [options] -- PROGRAM ARGS...\n", why);
  exit(64);
}

static int resource_named(const char *name) {
  if (strcmp(name, "as") == 0) return RLIMIT_AS;
  if (strcmp(name, "nproc") == 0) return RLIMIT_NPROC;
  if (strcmp(name, "nofile") == 0) return RLIMIT_NOFILE;
  if (strcmp(name, "fsize") == 0) return RLIMIT_FSIZE;
  if (strcmp(name, "core") == 0) return RLIMIT_CORE;
  if (strcmp(name, "cpu") == 0) return RLIMIT_CPU;
  return -1;
}

static long parse_number(const char *text, const char *what) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0) {
    fprintf(stderr, "corral-spawn: %s must be a non-negative number, got '%s'\n", what, text);
    exit(64);
  }
  return value;
}

static void report(int fd, const char *line) {
  size_t left = strlen(line);
  while (left > 0) {
    ssize_t n = write(fd, line, left);
    if (n < 0) { if (errno == EINTR) continue; return; }
    line += n; left -= (size_t)n;
  }
}

/* Kills every process whose parent is `self` (orphans that left the sandbox's group). */
static void kill_children_of(pid_t self) {
  DIR *proc = opendir("/proc");
  if (!proc) return;
  struct dirent *entry;
  char path[64], buf[512];
  while ((entry = readdir(proc)) != NULL) {
    pid_t pid = (pid_t)atoi(entry->d_name);
    if (pid <= 0) continue;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    char *end = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    int ppid = 0;
    if (end && sscanf(end + 1, " %*c %d", &ppid) == 1 && ppid == (int)self) kill(pid, SIGKILL);
  }
  closedir(proc);
}

static void kill_group(int sig) {
  (void)sig;
  if (child > 0) kill(-child, SIGKILL);
}

int main(int argc, char **argv) {
  int status_fd = 4;
  int keep_fds = 3;
  struct limit limits[MAX_LIMITS];
  int nlimits = 0;
  long uid = -1, gid = -1;
  const char *netns = NULL;
  long nice_value = 0;
  const char *cgroups[MAX_CGROUPS];
  int ncgroups = 0;
  char *sets[MAX_CGROUP_OPS];
  int nsets = 0;
  char *gets[MAX_CGROUP_OPS];
  int ngets = 0;
  int seccomp_fd = -1; /* -1: none, 0: install it here, N > 0: hand it over on fd N */
  const char *notify_exe = NULL;
  int relay = 0;
  const char *cpu_file = NULL; /* the cgroup CPU counter the "ended" line reports (cpuacct.usage: ns) */
  int i = 1;

  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) { i++; break; }
    if (strcmp(argv[i], "--status-fd") == 0 && i + 1 < argc) {
      status_fd = (int)parse_number(argv[++i], "--status-fd");
    } else if (strcmp(argv[i], "--keep-fds") == 0 && i + 1 < argc) {
      keep_fds = (int)parse_number(argv[++i], "--keep-fds");
    } else if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc) {
      uid = parse_number(argv[++i], "--uid");
    } else if (strcmp(argv[i], "--gid") == 0 && i + 1 < argc) {
      gid = parse_number(argv[++i], "--gid");
    } else if (strcmp(argv[i], "--nice") == 0 && i + 1 < argc) {
      nice_value = parse_number(argv[++i], "--nice");
      if (nice_value > 19) usage("--nice is at most 19");
    } else if (strcmp(argv[i], "--netns") == 0 && i + 1 < argc) {
      netns = argv[++i];
    } else if (strcmp(argv[i], "--cgroup") == 0 && i + 1 < argc) {
      if (ncgroups == MAX_CGROUPS) usage("too many --cgroup");
      cgroups[ncgroups++] = argv[++i];
    } else if (strcmp(argv[i], "--cgroup-set") == 0 && i + 1 < argc) {
      if (nsets == MAX_CGROUP_OPS || !strchr(argv[i + 1], '=')) usage("bad --cgroup-set");
      sets[nsets++] = argv[++i];
    } else if (strcmp(argv[i], "--cgroup-get") == 0 && i + 1 < argc) {
      if (ngets == MAX_CGROUP_OPS || !strchr(argv[i + 1], '=')) usage("bad --cgroup-get");
      gets[ngets++] = argv[++i];
    } else if (strcmp(argv[i], "--seccomp") == 0 && i + 1 < argc) {
      const char *how = argv[++i];
      if (strcmp(how, "self") == 0) seccomp_fd = 0;
      else if (strncmp(how, "fd:", 3) == 0 && (seccomp_fd = (int)parse_number(how + 3, "--seccomp fd:N")) > 2) {}
      else usage("--seccomp takes self or fd:N (N > 2)");
    } else if (strcmp(argv[i], "--relay") == 0) {
      relay = 1;
    } else if (strcmp(argv[i], "--notify-exit") == 0 && i + 1 < argc) {
      notify_exe = argv[++i];
    } else if (strcmp(argv[i], "--rlimit") == 0 && i + 1 < argc) {
      char *spec = argv[++i];
      char *eq = strchr(spec, '=');
      if (!eq || nlimits == MAX_LIMITS) usage("bad --rlimit");
      *eq = '\0';
      int resource = resource_named(spec);
      if (resource < 0) usage("unknown rlimit name");
      limits[nlimits].resource = resource;
      limits[nlimits].value = (rlim_t)parse_number(eq + 1, "rlimit value");
      nlimits++;
    } else {
      usage("unknown option");
    }
  }
  if (i >= argc) usage("no program given");
  if ((uid < 0) != (gid < 0)) usage("--uid and --gid go together");
  if (fcntl(status_fd, F_GETFD) < 0) usage("the status fd is not open");
  struct stat runtime_st;
  /* No such runtime: nothing to notify of (the exec fails and says so). */
  if (notify_exe && stat(notify_exe, &runtime_st) != 0) notify_exe = NULL;
  for (int c = 0; c < ngets; c++) {
    if (strncmp(gets[c], "cpuNs=", 6) == 0) cpu_file = gets[c] + 6;
  }
  /* Room in the output pipes: a job writing a byte at a time fills them instead of waking the
     worker for each byte (the worker reads them at most every few ms once it sees that). */
  fcntl(1, F_SETPIPE_SZ, 256 * 1024);
  fcntl(2, F_SETPIPE_SZ, 256 * 1024);
  fcntl(status_fd, F_SETFD, FD_CLOEXEC);

  /* Whoever stops the launcher stops the sandbox with it. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = kill_group;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* If the worker dies, so does the sandbox (through the SIGTERM handler above). */
  pid_t worker = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != worker) return 73;

  /* The sandbox's cgroups exist, with their limits, before it does. */
  for (int c = 0; c < ncgroups; c++) {
    if (make_dirs(cgroups[c]) != 0) {
      fprintf(stderr, "corral-spawn: mkdir %s: %s\n", cgroups[c], strerror(errno));
      return 74;
    }
  }
  for (int c = 0; c < nsets; c++) {
    char *eq = strchr(sets[c], '=');
    *eq = '\0';
    if (write_file(sets[c], eq + 1) != 0) {
      fprintf(stderr, "corral-spawn: write %s=%s: %s\n", sets[c], eq + 1, strerror(errno));
      for (int d = 0; d < ncgroups; d++) remove_cgroup(cgroups[d]);
      return 74;
    }
  }

  /* Orphans of the sandbox become ours, so that we can reap them all before we exit. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  pid_t parent = getpid();
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) { perror("corral-spawn: pipe"); return 70; }

  /* The compiled filter bubblewrap installs, in a memfd written now (the sandbox's rlimits
     forbid file growth once set). */
  int seccomp_mem = -1;
  if (seccomp_fd > 0) {
    struct sock_fprog filter = sandbox_filter();
    size_t bytes = filter.len * sizeof(struct sock_filter);
    seccomp_mem = (int)syscall(SYS_memfd_create, "corral-seccomp", MFD_CLOEXEC);
    if (seccomp_mem < 0 || write(seccomp_mem, filter.filter, bytes) != (ssize_t)bytes || lseek(seccomp_mem, 0, SEEK_SET) != 0) {
      perror("corral-spawn: seccomp program");
      return 70;
    }
  }
  struct relay relays[2];
  int nrelays = 0;
  if (relay) {
    for (int fd = 1; fd <= 2; fd++) {
      if (relay_open(&relays[nrelays], fd, 256 * 1024) != 0) { perror("corral-spawn: pipe"); return 70; }
      nrelays++;
    }
  }
  int listener_sock[2] = { -1, -1 };
  if (notify_exe && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, listener_sock) != 0) { perror("corral-spawn: socketpair"); return 70; }

  child = fork();
  if (child < 0) { perror("corral-spawn: fork"); return 71; }

  if (child == 0) {
    const char *step = "setsid";
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    close(errpipe[0]);
    step = "dup2 (output pipes)";
    for (int r = 0; r < nrelays; r++) if (dup2(relays[r].sandbox_end, relays[r].out) < 0) goto fail;
    step = "setsid";
    if (setsid() < 0) goto fail;
    step = "prctl(PDEATHSIG)";
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto fail;
    if (getppid() != parent) _exit(127); /* the launcher died before we got here */
    step = "join cgroup";
    for (int c = 0; c < ncgroups; c++) {
      char procs[4096];
      snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroups[c]);
      if (write_file(procs, "0") != 0) goto fail;
    }
    if (netns) {
      step = "enter the network namespace";
      int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
      if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) goto fail;
      close(nsfd);
    }
    step = "setpriority";
    if (nice_value > 0 && setpriority(PRIO_PROCESS, 0, (int)nice_value) != 0) goto fail;
    step = "setrlimit";
    for (int l = 0; l < nlimits; l++) {
      struct rlimit rl = { limits[l].value, limits[l].value };
      if (setrlimit(limits[l].resource, &rl) != 0) goto fail;
    }
    if (uid >= 0) {
      step = "setgroups";
      if (setgroups(0, NULL) != 0) goto fail;
      step = "setgid";
      if (setgid((gid_t)gid) != 0) goto fail;
      step = "setuid";
      if (setuid((uid_t)uid) != 0) goto fail;
    }
    /* Nothing of the worker's but what it meant to pass (errpipe is close-on-exec). */
    for (int fd = keep_fds; fd < 1024; fd++) if (fd != errpipe[1] && fd != listener_sock[1] && fd != seccomp_mem) close(fd);
    step = "prctl(NO_NEW_PRIVS)";
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) goto fail;
    if (notify_exe) {
      step = "seccomp (exit notifier)";
      struct sock_fprog notifier = exit_notifier();
      int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &notifier);
      if (listener < 0 || send_fd(listener_sock[1], listener) != 0) goto fail;
      close(listener);
      close(listener_sock[1]);
    }
    if (seccomp_fd > 0) {
      step = "seccomp (program for the jailer)";
      /* dup2's copy is not close-on-exec; the same fd number keeps its flag, so clear it. */
      if (seccomp_mem == seccomp_fd ? fcntl(seccomp_fd, F_SETFD, 0) < 0 : dup2(seccomp_mem, seccomp_fd) < 0) goto fail;
    } else if (seccomp_fd == 0) {
      step = "seccomp";
      struct sock_fprog filter = sandbox_filter();
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) != 0) goto fail;
    }
    step = "exec";
    execv(argv[i], &argv[i]);
  fail:;
    char message[256];
    int n = snprintf(message, sizeof message, "%s: %s", step, strerror(errno));
    if (n > 0) (void)!write(errpipe[1], message, (size_t)n);
    _exit(127);
  }

  close(errpipe[1]);
  if (listener_sock[1] >= 0) close(listener_sock[1]);
  if (seccomp_mem >= 0) close(seccomp_mem);
  /* The sandbox keeps its own copies; the launcher lets go of everything but the status fd (and,
     relaying, its stdout and stderr and the pipes' read ends). */
  for (int r = 0; r < nrelays; r++) close(relays[r].sandbox_end);
  int devnull = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < (nrelays > 0 ? 1 : 3); fd++) if (devnull >= 0) dup2(devnull, fd);
  if (devnull > 2) close(devnull);
  for (int fd = 3; fd < 1024; fd++) {
    int keep = fd == status_fd || fd == errpipe[0] || fd == listener_sock[0];
    for (int r = 0; r < nrelays; r++) keep = keep || fd == relays[r].in;
    if (!keep) close(fd);
  }

  char line[512];
  char failure[256] = {0};
  ssize_t got;
  do { got = read(errpipe[0], failure, sizeof failure - 1); } while (got < 0 && errno == EINTR);
  close(errpipe[0]);
  if (got > 0) {
    int ignored;
    while (waitpid(child, &ignored, 0) < 0 && errno == EINTR) {}
    for (int c = 0; c < ncgroups; c++) remove_cgroup(cgroups[c]);
    snprintf(line, sizeof line, "error %s\n", failure);
    report(status_fd, line);
    return 0;
  }
  snprintf(line, sizeof line, "pid %d\n", (int)child);
  report(status_fd, line);

  /* Until the child ends: relay its output, and answer the exit notifier's notifications (its
     listener reached us before exec, the errpipe's end). */
  int listener = listener_sock[0] >= 0 ? recv_fd(listener_sock[0]) : -1;
  if (listener_sock[0] >= 0) close(listener_sock[0]);
  struct notifier notifier = { listener, NULL, 0, 0, notify_exe ? runtime_st.st_dev : 0, notify_exe ? runtime_st.st_ino : 0 };
  notifier_init(&notifier);
  int child_fd = (int)syscall(SYS_pidfd_open, child, 0);
  for (;;) {
    struct pollfd fds[4];
    int timeout = child_fd >= 0 ? -1 : 50; /* without a pidfd, look for the child's end now and then */
    long long now = relay_now_ms();
    fds[0] = (struct pollfd){ child_fd, POLLIN, 0 };
    fds[1] = (struct pollfd){ notifier.listener, POLLIN, 0 };
    for (int r = 0; r < nrelays; r++) relay_poll_fd(&relays[r], &fds[2 + r], now, &timeout);
    if (poll(fds, 2 + (nfds_t)nrelays, timeout) < 0 && errno != EINTR) break;
    for (int r = 0; r < nrelays; r++) relay_step(&relays[r], &fds[2 + r]);
    if (fds[1].revents & POLLIN) {
      int code;
      long peak;
      long long runtime_ns = -1;
      if (notifier_answer(&notifier, &code, &peak, &runtime_ns)) {
        /* All it wrote is in the pipes: to the worker first, then the line that ends its wait. */
        for (int r = 0; r < nrelays; r++) relay_flush(&relays[r], 0, 2000);
        long long cpu_ns = -1;
        char buf[64];
        if (cpu_file && read_file(cpu_file, buf, sizeof buf) > 0) cpu_ns = atoll(buf);
        snprintf(line, sizeof line, "ended %d %ld %lld %lld\n", code, peak, cpu_ns, runtime_ns);
        report(status_fd, line);
      }
    }
    if (fds[1].revents & (POLLHUP | POLLERR)) notifier_close(&notifier); /* nothing that can notify is left */
    if (child_fd >= 0 ? (fds[0].revents & POLLIN) : child_ended(child)) break;
  }
  notifier_close(&notifier);
  if (child_fd >= 0) close(child_fd);

  int status = 0;
  struct rusage usage;
  memset(&usage, 0, sizeof usage);
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) { perror("corral-spawn: wait4"); return 72; }
  }
  kill(-child, SIGKILL); /* leftovers of the sandbox's group, if any */

  /* Reap every descendant; one that left the group (setsid) is found by its parent and killed.
     What they used counts too: a jailer in between (bubblewrap) may never wait for the
     sandbox itself, so its usage reaches us only here, as their subreaper. */
  for (;;) {
    struct rusage more;
    memset(&more, 0, sizeof more);
    pid_t reaped = wait4(-1, NULL, WNOHANG | __WALL, &more);
    if (reaped > 0) {
      timeradd(&usage.ru_utime, &more.ru_utime, &usage.ru_utime);
      timeradd(&usage.ru_stime, &more.ru_stime, &usage.ru_stime);
      if (more.ru_maxrss > usage.ru_maxrss) usage.ru_maxrss = more.ru_maxrss;
      continue;
    }
    if (reaped < 0 && errno != EINTR) break; /* ECHILD: none left */
    kill_children_of(getpid());
    usleep(1000);
  }

  /* Every writer is gone: the pipes end once the worker has what they held. */
  for (int r = 0; r < nrelays; r++) {
    relay_flush(&relays[r], 1, 2000);
    if (relays[r].in >= 0) close(relays[r].in);
  }
  if (nrelays > 0) {
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    for (int fd = 1; fd < 3 && devnull >= 0; fd++) dup2(devnull, fd);
    if (devnull > 2) close(devnull);
  }

  for (int c = 0; c < ngets; c++) {
    char *eq = strchr(gets[c], '=');
    *eq = '\0';
    char *file = eq + 1;
    char *field = strrchr(file, ':');
    if (field) *field++ = '\0';
    char buf[8192];
    long long value = -1;
    if (read_file(file, buf, sizeof buf) > 0) {
      if (!field) {
        value = atoll(buf);
      } else {
        size_t len = strlen(field);
        for (char *at = buf; (at = strstr(at, field)) != NULL; at += len) {
          if ((at == buf || at[-1] == '\n') && at[len] == ' ') { value = atoll(at + len + 1); break; }
        }
      }
    }
    snprintf(line, sizeof line, "cgroup %s %lld\n", gets[c], value);
    report(status_fd, line);
  }
  /* The answer first: every process of the sandbox has ended, so what it wrote is all in the
     pipes. The cgroups go after; the status fd ends when they are gone. */
  long long user_us = (long long)usage.ru_utime.tv_sec * 1000000LL + usage.ru_utime.tv_usec;
  long long sys_us = (long long)usage.ru_stime.tv_sec * 1000000LL + usage.ru_stime.tv_usec;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  snprintf(line, sizeof line, "exit %d %d %lld %lld %ld\n", code, sig, user_us, sys_us, usage.ru_maxrss);
  report(status_fd, line);
  for (int c = 0; c < ncgroups; c++) remove_cgroup(cgroups[c]);
  return 0;
}
