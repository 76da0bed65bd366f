/*
 * corral-janitor: removes what a worker made on its host once the worker is gone, however it
 * went (a SIGKILL included).
 *
 * The worker starts it in a session of its own (so a signal to the worker's process group does
 * not reach it) with a pipe as stdin, and never writes to that pipe. When the pipe ends (the
 * worker closed it, or the kernel did because the worker died), the janitor waits for the
 * sandboxes' own launchers to finish (each removes its sandbox's cgroup), kills whatever is
 * still in the worker's cgroup folders, removes them and the worker's staging folder, and exits.
 * A worker that closes normally has removed everything itself; then there is nothing to do.
 *
 * usage: corral-janitor --owner PID [--cgroup DIR]... [--rmdir-if-empty DIR]... [--rmtree DIR]...
 *   --owner PID           the worker: its sandboxes' cgroups are named "<anything>-PID-<n>"
 *   --cgroup DIR          the host's cgroup folder: the worker's sandbox cgroups in it are killed and
 *                         removed, then DIR when nothing else is in it (a worker started since keeps it)
 *   --rmdir-if-empty DIR  removed only when nothing else is in it (a folder shared with other hosts)
 *   --rmtree DIR          a plain folder removed with everything in it (the staging folder)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DIRS 32
/* Sandboxes' launchers are told to stop by the kernel when the worker dies; give them this long. */
#define CGROUP_WAIT_MS 4000

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void kill_members(const char *dir) {
  char path[4096], buf[8192];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    int pid = atoi(line);
    if (pid > 0) kill((pid_t)pid, SIGKILL);
  }
}

static char owner_mark[32];

/* A sandbox cgroup of the dead worker's: "<anything>-<pid>-<n>". */
static int owned(const char *name) {
  const char *at = strstr(name, owner_mark);
  if (!at) return 0;
  at += strlen(owner_mark);
  if (*at == '\0') return 0;
  for (; *at; at++) if (*at < '0' || *at > '9') return 0;
  return 1;
}

/* The worker's sandbox cgroups still in dir. */
static int count_owned(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *entry;
  while ((entry = readdir(d)) != NULL) if (entry->d_type == DT_DIR && owned(entry->d_name)) n++;
  closedir(d);
  return n;
}

/* Kills and removes every cgroup below dir, then dir; 0 once dir is gone. */
static int remove_cgroup_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : -1;
  struct dirent *entry;
  char child[4096];
  while ((entry = readdir(d)) != NULL) {
    if (entry->d_type != DT_DIR || strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    snprintf(child, sizeof child, "%s/%s", dir, entry->d_name);
    remove_cgroup_tree(child);
  }
  closedir(d);
  kill_members(dir);
  if (rmdir(dir) == 0 || errno == ENOENT) return 0;
  return -1;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (type == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

static void usage(const char *why) {
  fprintf(stderr, "corral-janitor: %s\nusage: corral-janitor --owner PID [--cgroup DIR]... [--rmdir-if-empty DIR]... [--rmtree DIR]...\n", why);
  exit(64);
}

int main(int argc, char **argv) {
  const char *cgroups[MAX_DIRS], *shared[MAX_DIRS], *trees[MAX_DIRS];
  int ncgroups = 0, nshared = 0, ntrees = 0;
  long owner = 0;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage("an option needs a value");
    if (strcmp(argv[i], "--owner") == 0) owner = atol(argv[++i]);
    else if (strcmp(argv[i], "--cgroup") == 0 && ncgroups < MAX_DIRS) cgroups[ncgroups++] = argv[++i];
    else if (strcmp(argv[i], "--rmdir-if-empty") == 0 && nshared < MAX_DIRS) shared[nshared++] = argv[++i];
    else if (strcmp(argv[i], "--rmtree") == 0 && ntrees < MAX_DIRS) trees[ntrees++] = argv[++i];
    else usage("unknown option, or too many folders");
  }
  if (owner <= 0) usage("--owner PID is required");
  snprintf(owner_mark, sizeof owner_mark, "-%ld-", owner);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);

  /* Block until the worker is gone (or has let go of the pipe). */
  char buf[256];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }

  for (int i = 0; i < ntrees; i++) nftw(trees[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);

  long long deadline = now_ms() + CGROUP_WAIT_MS;
  for (int i = 0; i < ncgroups; i++) {
    /* The sandboxes' launchers remove their own cgroups first; kill only what outlives the wait. */
    while (count_owned(cgroups[i]) > 0 && now_ms() < deadline) usleep(20000);
    for (int attempt = 0; attempt < 200 && count_owned(cgroups[i]) > 0; attempt++) {
      DIR *d = opendir(cgroups[i]);
      if (!d) break;
      struct dirent *entry;
      char child[4096];
      while ((entry = readdir(d)) != NULL) {
        if (entry->d_type != DT_DIR || !owned(entry->d_name)) continue;
        snprintf(child, sizeof child, "%s/%s", cgroups[i], entry->d_name);
        remove_cgroup_tree(child);
      }
      closedir(d);
      usleep(10000);
    }
    rmdir(cgroups[i]);
  }
  for (int i = 0; i < nshared; i++) rmdir(shared[i]);
  return 0;
}
