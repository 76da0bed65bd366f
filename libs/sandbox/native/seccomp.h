#ifndef CORRAL_SECCOMP_H
#define CORRAL_SECCOMP_H
#include <linux/filter.h>

/* The policy of every sandbox (see seccomp.c). */
struct sock_fprog sandbox_filter(void);
/* exit_group to the trusted parent first (SECCOMP_RET_USER_NOTIF). */
struct sock_fprog exit_notifier(void);

#endif
