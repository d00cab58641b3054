#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "log.h"

/* Long enough for any sane line; a longer one is cut into pieces so one
 * task cannot make the daemon hold an unbounded line in memory. */
#define LINE_MAX_ 65536

/* Set once pidfd_open has answered ENOSYS: it will not do otherwise. */
static int no_pidfd;

/* The signals whose disposition is not the default, which the child
 * resets. Read again at most every HANDLED_MS: the daemon sets its
 * handlers before it starts any task (libfuse's, the runtime daemon's),
 * and a signal ignored later is the default again in the tasks started a
 * moment after (a handled one is reset by exec itself). The launcher
 * thread alone starts tasks. */
#define HANDLED_MS 1000
static sigset_t handled;
static struct timespec handled_at;

static void
read_handled(void)
{
	struct sigaction sa;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (handled_at.tv_sec &&
	    (now.tv_sec - handled_at.tv_sec) * 1000 + (now.tv_nsec - handled_at.tv_nsec) / 1000000 <
		HANDLED_MS)
		return;
	handled_at = now;
	sigemptyset(&handled);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			sigaddset(&handled, sig);
}

static void
child(const struct exec_req *r, const char *file, int out, int err, pid_t parent,
      volatile int *failed)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int in;

	/* The daemon ignores SIGPIPE (FUSE asks for it) and handles others;
	 * ignored signals would stay ignored across exec, and a handler must
	 * not run here, in the daemon's memory, once signals are unblocked.
	 * Only those: a sigaction for each of 64 signals was a tenth of
	 * what starting a short task cost. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&handled, sig) == 1)
			sigaction(sig, &dfl, NULL);
	if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto fail;
	if (getppid() != parent) /* the daemon died before prctl */
		_exit(127);
	in = open(r->stdin_path ? r->stdin_path : "/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		goto fail;
	/* Nothing of the daemon's (the FUSE device, the store) may leak into a
	 * task: a task holding /dev/fuse open would keep the mount busy. */
	close_range(3, ~0U, 0);
	if (r->cwd && chdir(r->cwd) < 0)
		goto fail;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The search made in the daemon (execpath.c); the file may have gone
	 * since, or be a script without #!, which execvpe runs with sh. */
	if (file)
		execve(file, r->argv, r->envp);
	execvpe(r->argv[0], r->argv, r->envp);
fail:
	*failed = errno ? errno : EINVAL;
	_exit(127);
}

int
exec_start(const struct exec_req *r, struct exec_proc *p, char *err, size_t errsz)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	volatile int failed = 0;
	sigset_t all, old;
	pid_t parent = getpid();
	char file[PATH_MAX];
	int resolved;

	*p = (struct exec_proc){.pid = -1, .pidfd = -1, .out_fd = -1, .err_fd = -1};
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		goto fail;
	}
	read_handled();
	resolved = exec_resolve(r->argv[0], file, sizeof(file)) == 0;
	/* No signal handler may run in the child while it borrows our memory. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	p->pid = vfork();
	if (p->pid == 0)
		child(r, resolved ? file : NULL, out[1], errp[1], parent, &failed);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->pid < 0) {
		snprintf(err, errsz, "cannot start %s: %s", r->argv[0], strerror(errno));
		goto fail;
	}
	if (failed) {
		waitpid(p->pid, NULL, 0);
		p->pid = -1;
		if (failed == ENOENT)
			snprintf(err, errsz, "command not found: %s", r->argv[0]);
		else
			snprintf(err, errsz, "cannot run %s: %s", r->argv[0], strerror(failed));
		goto fail;
	}
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	p->out_fd = out[0];
	p->err_fd = errp[0];
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	p->pidfd = pidfd_open(p->pid, 0);
	if (p->pidfd < 0 && errno == ENOSYS)
		no_pidfd = 1;
	/* Without pidfd_open (Linux before 5.3, valgrind 3.19), exec_reap
	 * asks waitid and the scheduler polls with a short timeout. */
	if (p->pidfd < 0 && errno != ENOSYS) {
		/* Cannot watch it: do not leave it running unseen. */
		snprintf(err, errsz, "pidfd_open: %s", strerror(errno));
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = -1;
		exec_close(p);
		return -1;
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return -1;
}

int
exec_no_pidfd(void)
{
	return no_pidfd;
}

int
exec_exited(const struct exec_proc *p)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

/* wait4, not waitid: it also gives what the process and the children it
 * waited for used (the pidfd only tells when to ask). */
int
exec_reap(struct exec_proc *p, int *code)
{
	return exec_reap_usage(p, code, NULL);
}

int
exec_reap_usage(struct exec_proc *p, int *code, struct rusage *ru)
{
	int status;
	pid_t r = wait4(p->pid, &status, WNOHANG, ru);

	if (r <= 0)
		return -1; /* not exited yet, or an error */
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	return 0;
}

void
exec_signal(const struct exec_proc *p, int sig)
{
	if (p->pid > 0 && kill(-p->pid, sig) < 0 && errno != ESRCH)
		log_warn("kill process group %d", (int)p->pid);
}

void
exec_close(struct exec_proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->pidfd = p->out_fd = p->err_fd = -1;
}

int
lazy_file_set(struct lazy_file *f, const char *path)
{
	f->fd = -1;
	f->err = 0;
	f->path = strdup(path);
	return f->path ? 0 : -1;
}

int
lazy_file_fd(struct lazy_file *f)
{
	if (f->fd < 0 && f->path) {
		f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (f->fd < 0) {
			f->err = errno;
			log_warn("open %s", f->path);
			/* Say it once, not for every chunk that follows. */
			free(f->path);
			f->path = NULL;
		}
	}
	return f->fd;
}

void
lazy_file_close(struct lazy_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	f->fd = -1;
	f->path = NULL;
}

/* Writes to fd unless *err says an earlier write failed; the first failure
 * is logged and kept in *err. */
static void
write_all(int fd, const char *p, size_t n, int *err)
{
	while (n > 0 && fd >= 0 && *err == 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			*err = errno;
			log_warn("write task output or log (later writes to it skipped)");
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Writes the complete lines held in p->partial (all of it when flush). */
static void
emit_lines(struct pump *p, const struct log_sink *s, int flush)
{
	struct task_log *tl = s->task_log;
	struct buf out = {0};
	size_t start = 0, end;

	for (;;) {
		char *nl = memchr(p->partial.p + start, '\n', p->partial.len - start);
		if (nl)
			end = (size_t)(nl - p->partial.p) + 1;
		else if (flush || p->partial.len - start >= LINE_MAX_)
			end = p->partial.len;
		else
			break;
		if (end == start)
			break;
		/* Stdout's bytes are in the log already while it shares their
		 * file, and so are those it copied when it stopped. */
		if (!(tl->shared && p == tl->out)) {
			size_t skip = end - start < p->logged ? end - start : p->logged;
			p->logged -= skip;
			write_all(task_log_fd(tl), p->partial.p + start + skip, end - start - skip,
				  &tl->file.err);
			/* A piece the copy held whole was cut there already. */
			if (nl == NULL && skip < end - start)
				write_all(task_log_fd(tl), "\n", 1, &tl->file.err);
		}
		if (buf_printf(&out, "%s | ", s->task_id) == 0)
			buf_add(&out, p->partial.p + start, end - start);
		if (out.len && out.p[out.len - 1] != '\n')
			buf_add(&out, "\n", 1);
		start = end;
	}
	if (out.len)
		write_all(s->run_fd, out.p, out.len, s->run_err);
	buf_free(&out);
	memmove(p->partial.p, p->partial.p + start, p->partial.len - start);
	p->partial.len -= start;
}

int
pump_read(struct pump *p, const struct log_sink *s)
{
	char chunk[65536];
	ssize_t n;

	if (p->fd < 0)
		return 0;
	n = read(p->fd, chunk, sizeof(chunk));
	if (n < 0)
		return -1;
	if (n == 0) {
		/* Closed early (the task may run on): stop polling it. */
		close(p->fd);
		p->fd = -1;
		return 0;
	}
	if (p->file.fd < 0 && lazy_file_fd(&p->file) >= 0 && p == s->task_log->out)
		task_log_share(s->task_log);
	write_all(lazy_file_fd(&p->file), chunk, (size_t)n, &p->file.err);
	if (p->keep_max && !p->kept_cut &&
	    (p->kept.len + (size_t)n > p->keep_max || buf_add(&p->kept, chunk, (size_t)n) < 0)) {
		buf_free(&p->kept);
		p->kept_cut = 1;
	}
	if (buf_add(&p->partial, chunk, (size_t)n) < 0) {
		log_warnx("out of memory buffering a log line");
		return -1;
	}
	emit_lines(p, s, 0);
	p->bytes += n;
	if (p == s->task_log->out)
		task_log_check(s->task_log);
	return 1;
}

void
pump_finish(struct pump *p, const struct log_sink *s)
{
	while (pump_read(p, s) > 0)
		;
	if (p->partial.len)
		emit_lines(p, s, 1);
	buf_free(&p->partial);
	if (p->fd >= 0)
		close(p->fd);
	lazy_file_close(&p->file);
	p->fd = -1;
}
