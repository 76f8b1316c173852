/*
 * ob-launcher: the process spawner behind openbatch's process executor.
 *
 * A long-lived child of the server. It reads commands on stdin and writes reports on stdout, both as
 * length-prefixed binary frames (see docs/architecture/executors.md, "Launcher protocol"):
 *
 *   frame   := u32le body_len, body            (body_len counts the type byte too; max 64 MiB)
 *   body    := u8 type, payload
 *   string  := u32le len, bytes                (arbitrary bytes; NUL is rejected by the server side)
 *
 * server -> launcher
 *   0x01 START    u32 id, u32 flags, u32 argc, argc*string, u32 envc, envc*string ("K=V"),
 *                 string cwd (empty = inherit), u32 ncg, ncg*string (cgroup.procs files to join)
 *   0x02 SIGNAL   u32 id, u32 signo, u32 flags (bit0: whole process group)
 *   0x03 SHUTDOWN (no payload): kill every job, reap, exit
 * launcher -> server
 *   0x80 READY    u32 protocol version, u32 launcher pid
 *   0x81 STARTED  u32 id, u32 pid, u64 time_ms
 *   0x82 OUTPUT   u32 id, u8 stream (1|2), u64 time_ms, bytes (rest of the frame)
 *   0x83 EXIT     u32 id, u8 how (0 exited, 1 signaled), u32 code_or_signo, u8 core_dumped, u64 time_ms
 *   0x84 SPAWNERR u32 id, u8 stage (1 exec, 2 chdir, 3 cgroup, 4 pipe/fork), u32 errno, u64 time_ms, bytes msg
 *   0x85 ERROR    bytes msg (protocol problem; the launcher shuts down after sending it)
 *
 * Every job gets its own session/process group (setsid), stdin from /dev/null, stdout/stderr on pipes.
 * Jobs are spawned with vfork+execve (what glibc's posix_spawn does internally), so joining a cgroup and
 * chdir happen in the child before exec, with no fork-time copy of the launcher.
 *
 * When the leader of a job exits, the rest of its process group is SIGKILLed (container semantics: the
 * task ends with its main process), the pipes are drained, then EXIT is reported. On stdin EOF, SHUTDOWN,
 * SIGTERM/SIGINT/SIGHUP or the death of the parent (PR_SET_PDEATHSIG delivers SIGTERM, handled here), every
 * job's process group and every other descendant is SIGKILLed and reaped before the launcher exits. Each
 * job leader also carries PR_SET_PDEATHSIG=SIGKILL as a backstop should the launcher itself be SIGKILLed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL_VERSION 1
#define MAX_FRAME (64u * 1024u * 1024u)
#define READ_CHUNK (64 * 1024)
#define OUT_PAUSE_AT (8u * 1024u * 1024u)  /* stop reading job pipes above this much unsent output */
#define OUT_RESUME_AT (1u * 1024u * 1024u) /* ...and resume below this */

enum { CMD_START = 1, CMD_SIGNAL = 2, CMD_SHUTDOWN = 3 };
enum { EV_READY = 0x80, EV_STARTED = 0x81, EV_OUTPUT = 0x82, EV_EXIT = 0x83, EV_SPAWNERR = 0x84, EV_ERROR = 0x85 };
enum { STAGE_EXEC = 1, STAGE_CHDIR = 2, STAGE_CGROUP = 3, STAGE_SETUP = 4 };

struct job;
struct source {
  struct job *job; /* NULL for the launcher's own fds */
  int fd;
  int stream; /* 1 stdout, 2 stderr; for own fds: a tag */
};

struct job {
  uint32_t id;
  pid_t pid;
  struct source out[2];
  int dead;
  struct job *next_free;
};

/* ---------- globals ---------- */
static int g_ep = -1;      /* main epoll: stdin, stdout, signalfd, job epoll */
static int g_jobep = -1;   /* job pipes */
static int g_sigfd = -1;
static int g_devnull = -1;
static struct source g_src_stdin = {NULL, 0, 100};
static struct source g_src_stdout = {NULL, 1, 101};
static struct source g_src_sig = {NULL, -1, 102};
static struct source g_src_jobep = {NULL, -1, 103};

static struct job **g_jobs = NULL; /* active jobs, compact */
static size_t g_njobs = 0, g_capjobs = 0;
static struct job *g_free_later = NULL;

static uint8_t *g_in = NULL; /* stdin buffer */
static size_t g_inlen = 0, g_incap = 0;
static int g_stdin_open = 1;

static uint8_t *g_out = NULL; /* unsent reports */
static size_t g_outoff = 0, g_outlen = 0, g_outcap = 0;
static int g_stdout_ok = 1;      /* false once the server stopped reading (EPIPE) */
static int g_stdout_watched = 0; /* EPOLLOUT registered */
static int g_jobs_paused = 0;
static int g_shutdown = 0;
static sigset_t g_blocked;

/* Shared with the vfork child (same address space): why exec failed. */
static volatile int g_child_errno;
static volatile int g_child_stage;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000);
}

static void die(const char *what) {
  fprintf(stderr, "ob-launcher: %s: %s\n", what, strerror(errno));
  exit(70);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (!q) {
    fprintf(stderr, "ob-launcher: out of memory\n");
    exit(70);
  }
  return q;
}

/* ---------- report encoding ---------- */
static void out_reserve(size_t extra) {
  if (g_outoff > 0 && g_outoff == g_outlen) g_outoff = g_outlen = 0;
  if (g_outlen + extra <= g_outcap) return;
  if (g_outoff > 0) { /* compact */
    memmove(g_out, g_out + g_outoff, g_outlen - g_outoff);
    g_outlen -= g_outoff;
    g_outoff = 0;
    if (g_outlen + extra <= g_outcap) return;
  }
  size_t cap = g_outcap ? g_outcap : 256 * 1024;
  while (cap < g_outlen + extra) cap *= 2;
  g_out = xrealloc(g_out, cap);
  g_outcap = cap;
}
static void put_u8(uint8_t v) { g_out[g_outlen++] = v; }
static void put_u32(uint32_t v) {
  for (int i = 0; i < 4; i++) g_out[g_outlen++] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint64_t v) {
  for (int i = 0; i < 8; i++) g_out[g_outlen++] = (uint8_t)(v >> (8 * i));
}
static void put_bytes(const void *p, size_t n) {
  memcpy(g_out + g_outlen, p, n);
  g_outlen += n;
}
/* Starts a frame whose body (type + payload) is body_len bytes; caller must then put exactly that. */
static void frame_begin(uint8_t type, size_t body_len) {
  out_reserve(4 + body_len);
  put_u32((uint32_t)body_len);
  put_u8(type);
}

static void watch_stdout(int on) {
  if (on == g_stdout_watched || !g_stdout_ok) return;
  struct epoll_event ev = {.events = on ? EPOLLOUT : 0, .data.ptr = &g_src_stdout};
  epoll_ctl(g_ep, EPOLL_CTL_MOD, 1, &ev); /* fd 1 is registered (with no events) at startup */
  g_stdout_watched = on;
}

static void flush_out(void) {
  while (g_stdout_ok && g_outoff < g_outlen) {
    ssize_t n = write(1, g_out + g_outoff, g_outlen - g_outoff);
    if (n > 0) {
      g_outoff += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    g_stdout_ok = 0; /* EPIPE or worse: nobody listens any more */
    g_shutdown = 1;
    g_outoff = g_outlen = 0;
  }
  if (g_outoff == g_outlen) g_outoff = g_outlen = 0;
  watch_stdout(g_outlen > g_outoff);
}

static void report_started(uint32_t id, pid_t pid, uint64_t t) {
  frame_begin(EV_STARTED, 1 + 4 + 4 + 8);
  put_u32(id);
  put_u32((uint32_t)pid);
  put_u64(t);
}
static void report_output(uint32_t id, int stream, uint64_t t, const void *p, size_t n) {
  frame_begin(EV_OUTPUT, 1 + 4 + 1 + 8 + n);
  put_u32(id);
  put_u8((uint8_t)stream);
  put_u64(t);
  put_bytes(p, n);
}
static void report_exit(uint32_t id, int status, uint64_t t) {
  frame_begin(EV_EXIT, 1 + 4 + 1 + 4 + 1 + 8);
  put_u32(id);
  if (WIFSIGNALED(status)) {
    put_u8(1);
    put_u32((uint32_t)WTERMSIG(status));
    put_u8(WCOREDUMP(status) ? 1 : 0);
  } else {
    put_u8(0);
    put_u32((uint32_t)WEXITSTATUS(status));
    put_u8(0);
  }
  put_u64(t);
}
static void report_spawnerr(uint32_t id, int stage, int err, const char *msg) {
  size_t n = strlen(msg);
  frame_begin(EV_SPAWNERR, 1 + 4 + 1 + 4 + 8 + n);
  put_u32(id);
  put_u8((uint8_t)stage);
  put_u32((uint32_t)err);
  put_u64(now_ms());
  put_bytes(msg, n);
}
static void report_error(const char *msg) {
  size_t n = strlen(msg);
  frame_begin(EV_ERROR, 1 + n);
  put_bytes(msg, n);
}

/* ---------- jobs ---------- */
static void jobs_add(struct job *j) {
  if (g_njobs == g_capjobs) {
    g_capjobs = g_capjobs ? g_capjobs * 2 : 64;
    g_jobs = xrealloc(g_jobs, g_capjobs * sizeof *g_jobs);
  }
  g_jobs[g_njobs++] = j;
}
static struct job *jobs_find_pid(pid_t pid) {
  for (size_t i = 0; i < g_njobs; i++)
    if (g_jobs[i]->pid == pid) return g_jobs[i];
  return NULL;
}
static struct job *jobs_find_id(uint32_t id) {
  for (size_t i = 0; i < g_njobs; i++)
    if (g_jobs[i]->id == id) return g_jobs[i];
  return NULL;
}
static void jobs_remove(struct job *j) {
  for (size_t i = 0; i < g_njobs; i++)
    if (g_jobs[i] == j) {
      g_jobs[i] = g_jobs[--g_njobs];
      break;
    }
  j->dead = 1;
  j->next_free = g_free_later; /* epoll events of this round may still point at it */
  g_free_later = j;
}

static void close_source(struct source *s) {
  if (s->fd < 0) return;
  epoll_ctl(g_jobep, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  s->fd = -1;
}

static uint8_t g_readbuf[READ_CHUNK];

/* Reads one chunk (or, with drain, until EAGAIN/EOF). Returns 0 when the source is closed. */
static int pump_source(struct source *s, int drain) {
  while (s->fd >= 0) {
    ssize_t n = read(s->fd, g_readbuf, sizeof g_readbuf);
    if (n > 0) {
      report_output(s->job->id, s->stream, now_ms(), g_readbuf, (size_t)n);
      if (!drain) return 1;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
    close_source(s); /* EOF or error */
    return 0;
  }
  return 0;
}

static void set_jobs_paused(int paused) {
  if (paused == g_jobs_paused) return;
  struct epoll_event ev = {.events = paused ? 0 : EPOLLIN, .data.ptr = &g_src_jobep};
  epoll_ctl(g_ep, EPOLL_CTL_MOD, g_jobep, &ev);
  g_jobs_paused = paused;
}

/* Path search like execvp, but with the job's PATH, and safe inside a vfork child (no malloc). */
static void exec_search(char *const argv[], char *const envp[], const char *path_env) {
  const char *file = argv[0];
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return;
  }
  if (!path_env) path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t flen = strlen(file);
  int seen_eacces = 0;
  const char *p = path_env;
  char buf[PATH_MAX];
  for (;;) {
    const char *colon = strchr(p, ':');
    size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
    if (dlen + 1 + flen + 1 <= sizeof buf) {
      if (dlen == 0) {
        memcpy(buf, file, flen + 1); /* empty entry = current directory */
      } else {
        memcpy(buf, p, dlen);
        buf[dlen] = '/';
        memcpy(buf + dlen + 1, file, flen + 1);
      }
      execve(buf, argv, envp);
      if (errno == EACCES) seen_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG && errno != ELOOP) return;
    }
    if (!colon) break;
    p = colon + 1;
  }
  errno = seen_eacces ? EACCES : ENOENT;
}

struct spawn_args {
  char **argv, **envp;
  const char *path_env, *cwd;
  char **cgroups;
  uint32_t ncg;
  int out_w, err_w;
};

/* vfork child: only async-signal-safe calls, no malloc, never returns. */
static __attribute__((noreturn, noinline)) void child_exec(const struct spawn_args *a) {
  sigset_t none;
  sigemptyset(&none);
  setsid();
  for (uint32_t i = 0; i < a->ncg; i++) {
    int fd = open(a->cgroups[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) { /* "0" = the writing process */
      g_child_errno = errno;
      g_child_stage = STAGE_CGROUP;
      _exit(127);
    }
    close(fd);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (dup2(g_devnull, 0) < 0 || dup2(a->out_w, 1) < 0 || dup2(a->err_w, 2) < 0) {
    g_child_errno = errno;
    g_child_stage = STAGE_SETUP;
    _exit(127);
  }
  if (a->cwd[0] && chdir(a->cwd) < 0) {
    g_child_errno = errno;
    g_child_stage = STAGE_CHDIR;
    _exit(127);
  }
  sigprocmask(SIG_SETMASK, &none, NULL);
  exec_search(a->argv, a->envp, a->path_env);
  g_child_errno = errno;
  g_child_stage = STAGE_EXEC;
  _exit(127);
}

/* Returns the pid (exec succeeded, or failed with g_child_stage set) or -1 with errno. */
static __attribute__((noinline)) pid_t spawn_job(const struct spawn_args *a) {
  g_child_errno = 0;
  g_child_stage = 0;
  pid_t pid = vfork();
  if (pid == 0) child_exec(a);
  return pid;
}

struct reader {
  const uint8_t *p, *end;
  int bad;
};
static uint32_t get_u32(struct reader *r) {
  if (r->end - r->p < 4) {
    r->bad = 1;
    return 0;
  }
  uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
  r->p += 4;
  return v;
}
/* Copies a string into the arena, NUL-terminated. */
static char *get_str(struct reader *r, char **arena) {
  uint32_t n = get_u32(r);
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return NULL;
  }
  char *s = *arena;
  memcpy(s, r->p, n);
  s[n] = 0;
  *arena += n + 1;
  r->p += n;
  return s;
}

static void cmd_start(const uint8_t *payload, size_t len) {
  struct reader r = {payload, payload + len, 0};
  /* Every string needs len+1 bytes in the arena and occupies len+4 in the payload: payload size suffices. */
  char *arena0 = malloc(len + 16), *arena = arena0;
  char **argv = NULL, **envp = NULL, **cgroups = NULL;
  if (!arena0) die("malloc");
  uint32_t id = get_u32(&r);
  (void)get_u32(&r); /* flags, reserved */
  uint32_t argc = get_u32(&r);
  if (r.bad || argc == 0 || argc > len / 4) goto bad;
  argv = calloc(argc + 1, sizeof *argv);
  for (uint32_t i = 0; i < argc; i++) argv[i] = get_str(&r, &arena);
  uint32_t envc = get_u32(&r);
  if (r.bad || envc > len / 4) goto bad;
  envp = calloc(envc + 1, sizeof *envp);
  const char *path_env = NULL;
  for (uint32_t i = 0; i < envc; i++) {
    envp[i] = get_str(&r, &arena);
    if (envp[i] && strncmp(envp[i], "PATH=", 5) == 0) path_env = envp[i] + 5;
  }
  char *cwd = get_str(&r, &arena);
  uint32_t ncg = get_u32(&r);
  if (r.bad || ncg > 16) goto bad;
  cgroups = calloc(ncg + 1, sizeof *cgroups);
  for (uint32_t i = 0; i < ncg; i++) cgroups[i] = get_str(&r, &arena);
  if (r.bad) goto bad;

  int po[2] = {-1, -1}, pe[2] = {-1, -1};
  if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
    int e = errno;
    report_spawnerr(id, STAGE_SETUP, e, strerror(e));
    if (po[0] >= 0) close(po[0]), close(po[1]);
    goto done;
  }
  struct spawn_args sa = {argv, envp, path_env, cwd, cgroups, ncg, po[1], pe[1]};
  pid_t pid = spawn_job(&sa);
  int fork_errno = errno;
  close(po[1]);
  close(pe[1]);
  if (pid < 0) {
    close(po[0]);
    close(pe[0]);
    report_spawnerr(id, STAGE_SETUP, fork_errno, strerror(fork_errno));
    goto done;
  }
  if (g_child_stage != 0) {
    int e = g_child_errno, stage = g_child_stage;
    waitpid(pid, NULL, 0);
    close(po[0]);
    close(pe[0]);
    report_spawnerr(id, stage, e, strerror(e));
    goto done;
  }
  uint64_t t = now_ms();
  struct job *j = calloc(1, sizeof *j);
  if (!j) die("calloc");
  j->id = id;
  j->pid = pid;
  j->out[0] = (struct source){j, po[0], 1};
  j->out[1] = (struct source){j, pe[0], 2};
  for (int i = 0; i < 2; i++) {
    fcntl(j->out[i].fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &j->out[i]};
    if (epoll_ctl(g_jobep, EPOLL_CTL_ADD, j->out[i].fd, &ev) < 0) die("epoll_ctl job");
  }
  jobs_add(j);
  report_started(id, pid, t);
  goto done;

bad:
  report_error("malformed START frame");
  g_shutdown = 1;
done:
  free(argv);
  free(envp);
  free(cgroups);
  free(arena0);
}

static void cmd_signal(const uint8_t *payload, size_t len) {
  struct reader r = {payload, payload + len, 0};
  uint32_t id = get_u32(&r), signo = get_u32(&r), flags = get_u32(&r);
  if (r.bad) {
    report_error("malformed SIGNAL frame");
    g_shutdown = 1;
    return;
  }
  struct job *j = jobs_find_id(id);
  if (!j) return; /* already exited: EXIT was or will be reported */
  kill((flags & 1) ? -j->pid : j->pid, (int)signo);
}

static void handle_stdin(void) {
  for (;;) {
    if (g_incap - g_inlen < READ_CHUNK) {
      g_incap = g_incap ? g_incap * 2 : 256 * 1024;
      g_in = xrealloc(g_in, g_incap);
    }
    ssize_t n = read(0, g_in + g_inlen, g_incap - g_inlen);
    if (n > 0) {
      g_inlen += (size_t)n;
      if ((size_t)n < READ_CHUNK) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    /* EOF (server gone or closed us) or error */
    g_stdin_open = 0;
    g_shutdown = 1;
    epoll_ctl(g_ep, EPOLL_CTL_DEL, 0, NULL);
    break;
  }
  /* Frames that arrived before EOF are still honoured (a START then gets killed by the shutdown). */
  size_t off = 0;
  int proto_err = 0;
  while (!proto_err) {
    if (g_inlen - off < 4) break;
    const uint8_t *h = g_in + off;
    uint32_t blen = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    if (blen == 0 || blen > MAX_FRAME) {
      report_error("bad frame length");
      g_shutdown = proto_err = 1;
      break;
    }
    if (g_inlen - off - 4 < blen) break;
    uint8_t type = h[4];
    const uint8_t *payload = h + 5;
    size_t plen = blen - 1;
    off += 4 + blen;
    switch (type) {
      case CMD_START:
        cmd_start(payload, plen);
        break;
      case CMD_SIGNAL:
        cmd_signal(payload, plen);
        break;
      case CMD_SHUTDOWN:
        g_shutdown = 1;
        break;
      default:
        report_error("unknown command");
        g_shutdown = proto_err = 1;
    }
  }
  memmove(g_in, g_in + off, g_inlen - off);
  g_inlen -= off;
}

/* Reaps every exited child. A job leader's exit kills the rest of its group, drains its pipes, reports. */
static void reap(void) {
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0) break;
    pid_t pid = si.si_pid;
    struct job *j = jobs_find_pid(pid);
    /* The zombie still holds the pgid, so the group can't be recycled under us. */
    if (j) kill(-pid, SIGKILL);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) continue;
    if (!j) continue; /* an orphan reparented to us (we are a subreaper) */
    uint64_t t = now_ms();
    for (int i = 0; i < 2; i++) {
      pump_source(&j->out[i], 1);
      close_source(&j->out[i]);
    }
    report_exit(j->id, status, t);
    jobs_remove(j);
  }
}

static void handle_signalfd(void) {
  struct signalfd_siginfo si;
  int chld = 0;
  while (read(g_sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) chld = 1;
    else g_shutdown = 1; /* SIGTERM (also our PDEATHSIG), SIGINT, SIGHUP */
  }
  if (chld) reap();
}

static void handle_jobs(void) {
  struct epoll_event evs[128];
  int n = epoll_wait(g_jobep, evs, 128, 0);
  for (int i = 0; i < n; i++) {
    struct source *s = evs[i].data.ptr;
    if (s->job->dead || s->fd < 0) continue;
    pump_source(s, 0);
  }
}

/* Kill every job group and every other descendant, reap all, exit. */
static void shutdown_all(void) {
  for (size_t i = 0; i < g_njobs; i++) kill(-g_jobs[i]->pid, SIGKILL);
  for (size_t i = 0; i < g_njobs; i++) kill(g_jobs[i]->pid, SIGKILL);
  for (;;) {
    /* descendants that escaped their group were reparented to us (subreaper): kill our children */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "re");
    if (f) {
      int cpid;
      while (fscanf(f, "%d", &cpid) == 1) kill(cpid, SIGKILL);
      fclose(f);
    }
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: nothing left */
    }
    struct job *j = jobs_find_pid(pid);
    if (j) {
      kill(-pid, SIGKILL);
      for (int i = 0; i < 2; i++) close_source(&j->out[i]);
      report_exit(j->id, status, now_ms());
      jobs_remove(j);
    }
  }
  if (g_stdout_ok) {
    int fl = fcntl(1, F_GETFL);
    fcntl(1, F_SETFL, fl & ~O_NONBLOCK);
    flush_out();
  }
  exit(0);
}

static void close_inherited_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
    return;
  }
  int dfd = dirfd(d);
  int fds[256], n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 256) {
    int fd = atoi(e->d_name);
    if (fd > 2 && fd != dfd) fds[n++] = fd;
  }
  closedir(d);
  for (int i = 0; i < n; i++) close(fds[i]);
}

int main(int argc, char **argv) {
  pid_t expected_parent = argc > 1 ? (pid_t)atoi(argv[1]) : 0;

  /* Start from default dispositions so children inherit nothing odd (exec keeps SIG_IGN). */
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  sigemptyset(&g_blocked);
  sigaddset(&g_blocked, SIGCHLD);
  sigaddset(&g_blocked, SIGPIPE);
  sigaddset(&g_blocked, SIGTERM);
  sigaddset(&g_blocked, SIGINT);
  sigaddset(&g_blocked, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &g_blocked, NULL) < 0) die("sigprocmask");

  /* Our parent's death arrives as SIGTERM (handled: kill all, then exit), not SIGKILL, so jobs die too. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (expected_parent > 0 && getppid() != expected_parent) return 0; /* parent died before prctl */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  close_inherited_fds();

  g_devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (g_devnull < 0) die("open /dev/null");
  sigset_t watched;
  sigemptyset(&watched);
  sigaddset(&watched, SIGCHLD);
  sigaddset(&watched, SIGTERM);
  sigaddset(&watched, SIGINT);
  sigaddset(&watched, SIGHUP);
  g_sigfd = signalfd(-1, &watched, SFD_NONBLOCK | SFD_CLOEXEC);
  if (g_sigfd < 0) die("signalfd");
  g_src_sig.fd = g_sigfd;
  g_ep = epoll_create1(EPOLL_CLOEXEC);
  g_jobep = epoll_create1(EPOLL_CLOEXEC);
  if (g_ep < 0 || g_jobep < 0) die("epoll_create1");
  g_src_jobep.fd = g_jobep;
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETPIPE_SZ, 1024 * 1024); /* best effort: fewer wakeups under heavy output */

  struct epoll_event ev;
  ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &g_src_stdin};
  if (epoll_ctl(g_ep, EPOLL_CTL_ADD, 0, &ev) < 0) die("epoll_ctl stdin");
  ev = (struct epoll_event){.events = 0, .data.ptr = &g_src_stdout};
  if (epoll_ctl(g_ep, EPOLL_CTL_ADD, 1, &ev) < 0) die("epoll_ctl stdout");
  ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &g_src_sig};
  if (epoll_ctl(g_ep, EPOLL_CTL_ADD, g_sigfd, &ev) < 0) die("epoll_ctl signalfd");
  ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &g_src_jobep};
  if (epoll_ctl(g_ep, EPOLL_CTL_ADD, g_jobep, &ev) < 0) die("epoll_ctl jobs");

  frame_begin(EV_READY, 1 + 4 + 4);
  put_u32(PROTOCOL_VERSION);
  put_u32((uint32_t)getpid());
  flush_out();

  struct epoll_event evs[64];
  while (!g_shutdown) {
    int n = epoll_wait(g_ep, evs, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    int sig = 0;
    for (int i = 0; i < n && !g_shutdown; i++) {
      struct source *s = evs[i].data.ptr;
      if (s == &g_src_stdin) handle_stdin();
      else if (s == &g_src_stdout) flush_out();
      else if (s == &g_src_sig) sig = 1;
      else if (s == &g_src_jobep) handle_jobs();
    }
    if (sig) handle_signalfd(); /* after output: a round's reads come before the exits they precede */
    while (g_free_later) {
      struct job *j = g_free_later;
      g_free_later = j->next_free;
      free(j);
    }
    flush_out();
    size_t pending = g_outlen - g_outoff;
    if (!g_jobs_paused && pending > OUT_PAUSE_AT) set_jobs_paused(1);
    else if (g_jobs_paused && pending < OUT_RESUME_AT) set_jobs_paused(0);
  }
  shutdown_all();
  return 0;
}
