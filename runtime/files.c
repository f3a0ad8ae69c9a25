/* files.c - the files an executable touches: inputs it reads (regular files only), outputs it may
 * replace, and the temporary files outputs are written through.
 *
 * Inputs: rt_open_input opens without blocking and refuses anything but a regular file (a FIFO, a
 * device, a directory would block forever or read nonsense), and records the file's identity
 * (device, inode) in the ctx, so an output can never replace an input of the same command.
 *
 * Outputs (train --save, predict -o): an existing file is replaced only when it is of the output's
 * own kind (a checkpoint nnc wrote; a predictions file), is not read-only, and is neither the
 * executable itself nor an input of the command; --force lifts the first two conditions, never the
 * last two. Both are checked before any work starts (rt_output_check).
 *
 * Temporaries: an output is written to OUT.tmp.PID.N next to it, then renamed over OUT. While one
 * exists, SIGTERM, SIGINT and SIGHUP remove it before the process dies of the signal (the handler
 * does only unlink and raise, which are async-signal-safe); a SIGKILL cannot be caught, so every
 * save first removes the stale temporaries of the same OUT whose PID is no longer running. The
 * signal state is the one piece of global state in the runtime: a signal handler cannot reach a ctx.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

/* ---- inputs ---- */

static const char *kind_of(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symbolic link" : S_ISCHR(m) || S_ISBLK(m) ? "a device" :
           S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : "a special file";
}

static void remember(RtCtx *c, const struct stat *st, const char *path, bool checkpoint) {
    for (int i = 0; i < c->ninputs; i++)
        if (c->inputs[i].dev == st->st_dev && c->inputs[i].ino == st->st_ino) return;
    if (c->ninputs == RT_MAXINPUTS) return;
    RtInputId *r = &c->inputs[c->ninputs++];
    r->dev = st->st_dev;
    r->ino = st->st_ino;
    r->checkpoint = checkpoint;
    snprintf(r->path, sizeof r->path, "%s", path);
}

int rt_open_fd(RtCtx *c, const char *path, const char *what, bool checkpoint) {
    const char *sp = what[0] ? " " : "";
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return rt_error(c, "cannot open %s%s'%s': %s", what, sp, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return rt_error(c, "cannot read %s%s'%s': fstat failed: %s", what, sp, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rt_error(c, "%s%s'%s' is %s, not a regular file (data and weights are read from regular files "
                           "only)", what, sp, path, kind_of(st.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
        int e = errno;
        close(fd);
        return rt_error(c, "cannot read %s%s'%s': fcntl failed: %s", what, sp, path, strerror(e));
    }
    remember(c, &st, path, checkpoint);
    return fd;
}

FILE *rt_open_input(RtCtx *c, const char *path, const char *what, bool checkpoint) {
    int fd = rt_open_fd(c, path, what, checkpoint);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        rt_error(c, "cannot read '%s': fdopen failed: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

/* ---- outputs ---- */

int rt_output_check(RtCtx *c, const char *path, const RtOutput *o) {
    struct stat st;
    if (!path[0]) return rt_error(c, "%s needs a file name, got ''", o->flag);
    if (lstat(path, &st)) {
        if (errno == ENOENT) return 0;
        return rt_error(c, "cannot write %s '%s': lstat failed: %s", o->what, path, strerror(errno));
    }
    if ((S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) && o->stream_ok) return 0;   /* written, not replaced */
    if (!S_ISREG(st.st_mode))
        return rt_error(c, "cannot %s to '%s': it exists and is not a regular file (%s); %s replaces only a regular "
                           "file", o->verb, path, kind_of(st.st_mode), o->what);
    struct stat self;
    if (stat("/proc/self/exe", &self) == 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino)
        return rt_error(c, "cannot %s to '%s': it is this executable itself", o->verb, path);
    for (int i = 0; i < c->ninputs; i++) {
        const RtInputId *r = &c->inputs[i];
        if (r->dev != st.st_dev || r->ino != st.st_ino || (r->checkpoint && o->replaces_checkpoint)) continue;
        return rt_error(c, "cannot %s to '%s': it is '%s', an input of this command, which the output would destroy",
                        o->verb, path, r->path);
    }
    if (o->force) return 0;
    if (!(st.st_mode & 0222) || access(path, W_OK))
        return rt_error(c, "cannot %s to '%s': the file is read-only (mode %04o); add --force to replace it anyway",
                        o->verb, path, (unsigned)(st.st_mode & 07777));
    FILE *f = fopen(path, "rb");
    bool own = f && o->own_kind(c, f);
    if (f) fclose(f);
    if (!own)
        return rt_error(c, "cannot %s to '%s': the file exists and is not %s; add --force to replace it", o->verb,
                        path, o->kind);
    return 0;
}

/* ---- temporaries ---- */

#define NSIG_CLEAN 3
static const int clean_signals[NSIG_CLEAN] = {SIGTERM, SIGINT, SIGHUP};
static struct sigaction old_actions[NSIG_CLEAN];
static bool installed[NSIG_CLEAN];
static char tmp_path[PATH_MAX + 64];
static volatile sig_atomic_t tmp_live;

static volatile pid_t owner_tid;     /* the thread that writes temporaries (handlers_on's caller) */

/* Signal masks are per thread: while the owner blocks the cleanup signals around a change of
 * tmp_path, a signal sent to the process goes to another thread (the thread pool's, OpenBLAS's),
 * which would kill the process with the temporary just created and not yet recorded (kill_saves
 * saw a leftover one run in ~50). Such a thread hands the signal to the owner instead, where it
 * waits until the owner unblocks it and then runs this handler there. */
static void on_signal(int sig) {
    if (owner_tid && (pid_t)syscall(SYS_gettid) != owner_tid) {
        syscall(SYS_tgkill, getpid(), owner_tid, sig);
        return;
    }
    if (tmp_live) unlink(tmp_path);
    tmp_live = 0;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void handlers_on(void) {
    owner_tid = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < NSIG_CLEAN; i++) {
        struct sigaction old;
        if (installed[i] || sigaction(clean_signals[i], NULL, &old)) continue;
        if (old.sa_handler == SIG_IGN) continue;   /* nohup and friends: the signal stays ignored */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(clean_signals[i], &sa, &old_actions[i]) == 0) installed[i] = true;
    }
}

static void handlers_off(void) {
    for (int i = 0; i < NSIG_CLEAN; i++)
        if (installed[i]) {
            sigaction(clean_signals[i], &old_actions[i], NULL);
            installed[i] = false;
        }
}

/* Blocks the cleanup signals around changes of tmp_path, so the handler never sees half a name. */
static void block(bool on, sigset_t *saved) {
    if (on) {
        sigset_t s;
        sigemptyset(&s);
        for (int i = 0; i < NSIG_CLEAN; i++) sigaddset(&s, clean_signals[i]);
        sigprocmask(SIG_BLOCK, &s, saved);
    } else {
        sigprocmask(SIG_SETMASK, saved, NULL);
    }
}

/* Whether name is "BASE.tmp.PID.N" for BASE; *pid gets PID. */
static bool tmp_name_of(const char *name, const char *base, long *pid) {
    size_t nb = strlen(base);
    if (strncmp(name, base, nb) || strncmp(name + nb, ".tmp.", 5)) return false;
    const char *p = name + nb + 5;
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || *end != '.' || v <= 0) return false;
    p = end + 1;
    if (!*p) return false;
    for (const char *q = p; *q; q++) if (*q < '0' || *q > '9') return false;
    *pid = v;
    return true;
}

void rt_tmp_clean_stale(const char *path) {
    char dir[PATH_MAX];
    size_t n = sizeof dir;
    if (snprintf(dir, n, "%s", path) >= (int)n) return;
    char *slash = strrchr(dir, '/');
    const char *base = slash ? path + (slash - dir) + 1 : path;
    if (slash == dir) dir[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, n, ".");
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            long pid;
            if (!tmp_name_of(e->d_name, base, &pid)) continue;
            if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;   /* alive, or unknown */
            char full[PATH_MAX + 256];
            if (snprintf(full, sizeof full, "%s/%s", dir, e->d_name) >= (int)sizeof full) continue;
            struct stat st;
            if (lstat(full, &st) == 0 && S_ISREG(st.st_mode)) unlink(full);
        }
        closedir(d);
    }
}

FILE *rt_tmp_open(RtCtx *c, const char *path, char **tmp_out, const char *verb, const char *why) {
    size_t n = strlen(path) + 64;
    if (n > sizeof tmp_path) {
        rt_error(c, "cannot %s: the path '%s' is too long", verb, path);
        return NULL;
    }
    char *tmp = rt_alloc(c, n);
    if (!tmp) return NULL;
    for (unsigned k = 0; k < 1000; k++) {
        snprintf(tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(), k);
        sigset_t saved;
        block(true, &saved);
        handlers_on();
        memcpy(tmp_path, tmp, strlen(tmp) + 1);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        tmp_live = fd >= 0;
        block(false, &saved);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) break;
        FILE *f = fdopen(fd, "wb");
        if (!f) {
            int e = errno;
            close(fd);
            rt_tmp_release(tmp);
            errno = e;
            break;
        }
        *tmp_out = tmp;
        return f;
    }
    int e = errno;
    handlers_off();
    rt_error(c, "cannot %s: open('%s') failed: %s%s", verb, tmp, strerror(e), why);
    rt_free(c, tmp);
    return NULL;
}

void rt_tmp_release(const char *tmp) {
    sigset_t saved;
    block(true, &saved);
    if (tmp) unlink(tmp);
    tmp_live = 0;
    handlers_off();
    block(false, &saved);
}

int rt_tmp_rename(const char *tmp, const char *path) {
    sigset_t saved;
    block(true, &saved);
    int r = rename(tmp, path);
    int e = errno;
    if (r == 0) {
        tmp_live = 0;
        handlers_off();
    }
    block(false, &saved);
    errno = e;
    return r;
}
