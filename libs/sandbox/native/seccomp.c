/*
 * The sandbox's seccomp filters, built by hand as classic BPF (no libseccomp: one less library
 * in the trusted parent, and the whole policy fits on a page).
 *
 * sandbox_filter: what a JavaScript job never needs. Refused with EPERM: debugging other
 * processes, mounts and namespaces, keys, BPF, perf events, userfaultfd, io_uring, modules,
 * clocks, reboot and swap, sysinfo (host memory, load and uptime); clone3 answers ENOSYS so that
 * libc falls back to clone, whose namespace flags are refused. Sockets: AF_UNIX, and AF_INET /
 * AF_INET6 streams only (no UDP, raw or packet sockets, no netlink): UDP buffers on a sandbox's
 * own loopback are charged to no cgroup under v1, and TCP's are bounded by the cgroup.
 *
 * exit_notifier: one rule, exit_group goes to the trusted parent first (SECCOMP_RET_USER_NOTIF),
 * so that it learns the exit code from the kernel the moment the process asks to exit, before
 * the kernel tears the process and its namespaces down.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "seccomp.h"

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "corral-spawn's seccomp filter knows x86_64 and aarch64 only"
#endif

#define NR offsetof(struct seccomp_data, nr)
#define ARCH_OFF offsetof(struct seccomp_data, arch)
/* The low 32 bits of argument n (little-endian). */
#define ARG(n) (offsetof(struct seccomp_data, args) + 8 * (n))

#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERRNO(e) RET(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
/* if A == nr: return action, else go on. */
#define DENY(nr, action) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), action

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

static struct sock_filter sandbox_rules[] = {
  LOAD(ARCH_OFF),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
  RET(SECCOMP_RET_KILL_PROCESS),
  LOAD(NR),
#ifdef __x86_64__
  /* The x32 ABI's numbers (another table of the same calls) are refused as a whole. */
  BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1), ERRNO(EPERM),
#endif
  DENY(__NR_ptrace, ERRNO(EPERM)),
  DENY(__NR_process_vm_readv, ERRNO(EPERM)),
  DENY(__NR_process_vm_writev, ERRNO(EPERM)),
  DENY(__NR_kcmp, ERRNO(EPERM)),
  DENY(__NR_pidfd_getfd, ERRNO(EPERM)),
  DENY(__NR_mount, ERRNO(EPERM)),
  DENY(__NR_umount2, ERRNO(EPERM)),
  DENY(__NR_pivot_root, ERRNO(EPERM)),
  DENY(__NR_chroot, ERRNO(EPERM)),
  DENY(__NR_open_tree, ERRNO(EPERM)),
  DENY(__NR_move_mount, ERRNO(EPERM)),
  DENY(__NR_fsopen, ERRNO(EPERM)),
  DENY(__NR_fsconfig, ERRNO(EPERM)),
  DENY(__NR_fsmount, ERRNO(EPERM)),
  DENY(__NR_fspick, ERRNO(EPERM)),
  DENY(__NR_mount_setattr, ERRNO(EPERM)),
  DENY(__NR_setns, ERRNO(EPERM)),
  DENY(__NR_unshare, ERRNO(EPERM)),
  DENY(__NR_keyctl, ERRNO(EPERM)),
  DENY(__NR_add_key, ERRNO(EPERM)),
  DENY(__NR_request_key, ERRNO(EPERM)),
  DENY(__NR_bpf, ERRNO(EPERM)),
  DENY(__NR_perf_event_open, ERRNO(EPERM)),
  DENY(__NR_userfaultfd, ERRNO(EPERM)),
  DENY(__NR_io_uring_setup, ERRNO(EPERM)),
  DENY(__NR_io_uring_enter, ERRNO(EPERM)),
  DENY(__NR_io_uring_register, ERRNO(EPERM)),
  DENY(__NR_kexec_load, ERRNO(EPERM)),
#ifdef __NR_kexec_file_load
  DENY(__NR_kexec_file_load, ERRNO(EPERM)),
#endif
  DENY(__NR_init_module, ERRNO(EPERM)),
  DENY(__NR_finit_module, ERRNO(EPERM)),
  DENY(__NR_delete_module, ERRNO(EPERM)),
  DENY(__NR_reboot, ERRNO(EPERM)),
  DENY(__NR_swapon, ERRNO(EPERM)),
  DENY(__NR_swapoff, ERRNO(EPERM)),
  DENY(__NR_acct, ERRNO(EPERM)),
  DENY(__NR_settimeofday, ERRNO(EPERM)),
  DENY(__NR_clock_settime, ERRNO(EPERM)),
  DENY(__NR_clock_adjtime, ERRNO(EPERM)),
  DENY(__NR_adjtimex, ERRNO(EPERM)),
  DENY(__NR_quotactl, ERRNO(EPERM)),
  DENY(__NR_open_by_handle_at, ERRNO(EPERM)),
  DENY(__NR_name_to_handle_at, ERRNO(EPERM)),
  DENY(__NR_syslog, ERRNO(EPERM)),
  DENY(__NR_vhangup, ERRNO(EPERM)),
  DENY(__NR_sysinfo, ERRNO(EPERM)),
  DENY(__NR_move_pages, ERRNO(EPERM)),
  DENY(__NR_migrate_pages, ERRNO(EPERM)),
#ifdef __x86_64__
  DENY(__NR_iopl, ERRNO(EPERM)),
  DENY(__NR_ioperm, ERRNO(EPERM)),
  DENY(__NR_uselib, ERRNO(EPERM)),
#endif
  DENY(__NR_clone3, ERRNO(ENOSYS)),
  /* clone: threads yes, new namespaces no (the flags are its first argument on both arches). */
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4),
  LOAD(ARG(0)),
  BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1),
  ERRNO(EPERM),
  RET(SECCOMP_RET_ALLOW),
  /* socket(domain, type, protocol) */
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 11),
  LOAD(ARG(0)),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1),
  RET(SECCOMP_RET_ALLOW),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 1, 0),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 5),
  LOAD(ARG(1)),
  BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf), /* the type without SOCK_NONBLOCK / SOCK_CLOEXEC */
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 0, 1),
  RET(SECCOMP_RET_ALLOW),
  ERRNO(EACCES),
  ERRNO(EAFNOSUPPORT),
  /* socketpair: AF_UNIX only */
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 0, 4),
  LOAD(ARG(0)),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1),
  RET(SECCOMP_RET_ALLOW),
  ERRNO(EAFNOSUPPORT),
  RET(SECCOMP_RET_ALLOW),
};

static struct sock_filter exit_rules[] = {
  LOAD(ARCH_OFF),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
  RET(SECCOMP_RET_ALLOW),
  LOAD(NR),
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 1),
  RET(SECCOMP_RET_USER_NOTIF),
  RET(SECCOMP_RET_ALLOW),
};

struct sock_fprog sandbox_filter(void) {
  struct sock_fprog prog = { (unsigned short)(sizeof sandbox_rules / sizeof sandbox_rules[0]), sandbox_rules };
  return prog;
}

struct sock_fprog exit_notifier(void) {
  struct sock_fprog prog = { (unsigned short)(sizeof exit_rules / sizeof exit_rules[0]), exit_rules };
  return prog;
}
