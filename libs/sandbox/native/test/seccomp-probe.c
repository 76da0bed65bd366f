/*
 * Tries each call the sandbox's seccomp filter refuses, and a few it allows, and prints one
 * line per call: "<name> OK" or "<name> <errno name>". Run under corral-spawn --seccomp self by
 * spawn-helper.spec.ts as an unprivileged uid, so a refusal it prints is the filter's. As root
 * (without the filter, a mount or a reboot would be real) it refuses to run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *name_of(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ESRCH: return "ESRCH";
    default: return strerror(e);
  }
}

static void show(const char *name, long result) {
  printf("%s %s\n", name, result < 0 ? name_of(errno) : "OK");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (getuid() == 0 || geteuid() == 0) {
    fprintf(stderr, "seccomp-probe: refusing to run as root\n");
    return 2;
  }
  show("ptrace", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, getppid(), 0, 0));
  show("process_vm_readv", syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0));
  show("mount", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
  show("umount2", syscall(SYS_umount2, "/tmp", 0));
  show("pivot_root", syscall(SYS_pivot_root, "/", "/"));
  show("chroot", syscall(SYS_chroot, "/"));
  show("unshare", syscall(SYS_unshare, CLONE_NEWUSER));
  show("setns", syscall(SYS_setns, 0, 0));
  show("clone(CLONE_NEWUSER)", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  show("clone3", syscall(SYS_clone3, NULL, 0));
  show("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  show("add_key", syscall(SYS_add_key, "user", "k", "v", 1, 0));
  show("bpf", syscall(SYS_bpf, 0, NULL, 0));
  show("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  show("userfaultfd", syscall(SYS_userfaultfd, 0));
  show("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  show("init_module", syscall(SYS_init_module, NULL, 0, ""));
  show("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
  show("swapon", syscall(SYS_swapon, "/nonexistent", 0));
  show("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
  show("clock_settime", syscall(SYS_clock_settime, 0, NULL));
  show("syslog", syscall(SYS_syslog, 3, NULL, 0));
  struct sysinfo info;
  show("sysinfo", syscall(SYS_sysinfo, &info));
  show("socket(AF_INET, SOCK_DGRAM)", socket(AF_INET, SOCK_DGRAM, 0));
  show("socket(AF_INET6, SOCK_DGRAM)", socket(AF_INET6, SOCK_DGRAM, 0));
  show("socket(AF_INET, SOCK_RAW)", socket(AF_INET, SOCK_RAW, 1));
  show("socket(AF_PACKET)", socket(17 /* AF_PACKET */, SOCK_RAW, 0));
  show("socket(AF_NETLINK)", socket(AF_NETLINK, SOCK_RAW, 0));
  show("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}));
  /* Allowed: what the runtime needs. */
  show("socket(AF_INET, SOCK_STREAM)", socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  show("socket(AF_INET6, SOCK_STREAM)", socket(AF_INET6, SOCK_STREAM, 0));
  show("socket(AF_UNIX, SOCK_STREAM)", socket(AF_UNIX, SOCK_STREAM, 0));
  int pair[2];
  show("socketpair(AF_UNIX)", socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
  pid_t child = fork(); /* clone without namespace flags: threads and plain forks still work */
  if (child == 0) _exit(0);
  show("fork", child);
  if (child > 0) waitpid(child, NULL, 0);
  return 0;
}
