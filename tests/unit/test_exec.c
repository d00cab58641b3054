/* The executor: spawning, process groups, pipes pumped into log files. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "exec.h"
#include "util.h"

extern char **environ;

static char dir[256];

static void
path(char *out, const char *name)
{
	snprintf(out, 512, "%s/%s", dir, name);
}

static struct lazy_file
out_file(const char *name)
{
	struct lazy_file f;
	char p[512];

	path(p, name);
	unlink(p);
	lazy_file_set(&f, p);
	return f;
}

static char *
slurp(const char *name)
{
	char p[512], *data = NULL;
	size_t n;

	path(p, name);
	if (read_file(p, 1 << 20, &data, &n) < 0)
		return strdup("(unreadable)");
	return data;
}

/* The next run() keeps the task log of the last one and writes this line
 * to it first, as a retry's attempt does; its stdout goes to "stdout2". */
static const char *retry_line;
/* The next run() finds its stdout begun ("one\n") and the task log a link
 * to it, as after a crash the same attempt runs again. */
static int rerun;

static ino_t
ino_of(const char *name)
{
	char p[512];
	struct stat st;

	path(p, name);
	return stat(p, &st) == 0 ? st.st_ino : 0;
}

/* How many more newlines file b has than a, when they are the same
 * otherwise; -1 when they differ in anything else. */
static long
newlines_added(const char *a, const char *b)
{
	char pa[512], pb[512], ba[65536], bb[65536];
	FILE *fa, *fb;
	size_t na = 0, nb = 0, ia = 0, ib = 0;
	long extra = 0;

	path(pa, a);
	path(pb, b);
	if ((fa = fopen(pa, "r")) == NULL || (fb = fopen(pb, "r")) == NULL)
		return -1;
	for (;;) {
		if (ia == na && (na = fread(ba, 1, sizeof(ba), fa), ia = 0, na == 0))
			break;
		if (ib == nb && (nb = fread(bb, 1, sizeof(bb), fb), ib = 0, nb == 0))
			break;
		if (ba[ia] == bb[ib])
			ia++, ib++;
		else if (bb[ib] == '\n')
			ib++, extra++;
		else
			break;
	}
	if (ia != na || ib != nb || fread(bb, 1, 1, fb) != 0)
		extra = -1;
	fclose(fa);
	fclose(fb);
	return extra;
}

/* Runs argv to its end, pumping both pipes; returns the exit code. */
static int
run(char *const *argv, const char *stdin_path)
{
	struct exec_req req = {.argv = argv, .envp = environ, .cwd = dir, .stdin_path = stdin_path};
	struct exec_proc p;
	struct pump out = {.fd = -1, .file = out_file(retry_line ? "stdout2" : "stdout")};
	struct pump err = {.fd = -1, .file = out_file("stderr")};
	struct lazy_file rlog = out_file("runlog");
	struct task_log tlog = {.file = {.fd = -1}};
	int run_err = 0;
	struct log_sink sink = {&tlog, lazy_file_fd(&rlog), &run_err, "t1"};
	char why[256], tp[512];
	int code = -1000;

	path(tp, "tasklog");
	if (retry_line == NULL)
		unlink(tp);
	if (rerun) {
		char op[512];
		path(op, "stdout");
		CHECK(write_file(op, "one\n", 4, 0600) == 0 && link(op, tp) == 0);
		rerun = 0;
	}
	task_log_set(&tlog, tp, &out);
	if (retry_line)
		CHECK(write(task_log_fd(&tlog), retry_line, strlen(retry_line)) > 0);
	retry_line = NULL;
	if (exec_start(&req, &p, why, sizeof(why)) < 0) {
		fprintf(stderr, "exec_start: %s\n", why);
		return -1000;
	}
	out.fd = p.out_fd;
	err.fd = p.err_fd;
	p.out_fd = p.err_fd = -1;
	for (;;) {
		struct pollfd fds[3] = {
		    {p.pidfd, POLLIN, 0}, {out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}};
		poll(fds, 3, 5000);
		if (fds[1].revents)
			pump_read(&out, &sink);
		if (fds[2].revents)
			pump_read(&err, &sink);
		if (fds[0].revents)
			break;
	}
	exec_signal(&p, SIGKILL);
	CHECK(exec_reap(&p, &code) == 0);
	pump_finish(&out, &sink);
	pump_finish(&err, &sink);
	exec_close(&p);
	task_log_close(&tlog);
	lazy_file_close(&rlog);
	return code;
}

int
main(void)
{
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	char *s, in[512], why[256];

	mkdir_p(tmp, 0700);
	snprintf(dir, sizeof(dir), "%s/exec.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		return 2;

	/* stdout and stderr land in their files and, line by line, in the logs. */
	char *const a1[] = {"sh", "-c", "echo out1; echo err1 >&2; printf 'partial'", NULL};
	CHECK(run(a1, NULL) == 0);
	CHECK_STR((s = slurp("stdout")), "out1\npartial");
	free(s);
	CHECK_STR((s = slurp("stderr")), "err1\n");
	free(s);
	s = slurp("runlog");
	CHECK(strstr(s, "t1 | out1\n") != NULL);
	CHECK(strstr(s, "t1 | err1\n") != NULL);
	CHECK(strstr(s, "t1 | partial\n") != NULL);
	free(s);
	s = slurp("tasklog");
	CHECK(strstr(s, "partial\n") != NULL);
	free(s);
	CHECK(ino_of("tasklog") != ino_of("stdout"));

	/* On stdout only, the task log is stdout's file: no second file is
	 * made, and it holds the bytes as printed. */
	char *const b1[] = {"sh", "-c", "echo one; printf two", NULL};
	CHECK(run(b1, NULL) == 0);
	CHECK(ino_of("tasklog") == ino_of("stdout"));
	CHECK_STR((s = slurp("tasklog")), "one\ntwo");
	free(s);
	/* A retry's first line gives it a file of its own; the first
	 * attempt's stdout is left as it was. */
	retry_line = "runfs: attempt 2\n";
	char *const b2[] = {"echo", "three", NULL};
	CHECK(run(b2, NULL) == 0);
	CHECK(ino_of("tasklog") != ino_of("stdout") && ino_of("tasklog") != ino_of("stdout2"));
	CHECK_STR((s = slurp("tasklog")), "one\ntwo\nrunfs: attempt 2\nthree\n");
	free(s);
	CHECK_STR((s = slurp("stdout")), "one\ntwo");
	free(s);
	CHECK_STR((s = slurp("stdout2")), "three\n");
	free(s);

	/* A stderr line in the middle of a stdout line: the log stops sharing
	 * stdout's file there, cuts the line, and does not repeat its start. */
	char *const b3[] = {
	    "sh", "-c", "echo a; printf par; sleep 0.2; echo err >&2; sleep 0.2; echo tial", NULL};
	CHECK(run(b3, NULL) == 0);
	CHECK_STR((s = slurp("stdout")), "a\npartial\n");
	free(s);
	CHECK_STR((s = slurp("tasklog")), "a\npar\nerr\ntial\n");
	free(s);
	s = slurp("runlog");
	CHECK(strstr(s, "t1 | partial\n") != NULL);
	free(s);
	/* A cut line that never ends: the copy's newline is the only one. */
	char *const b4[] = {"sh", "-c", "printf abc; sleep 0.2; echo E >&2", NULL};
	CHECK(run(b4, NULL) == 0);
	CHECK_STR((s = slurp("tasklog")), "abc\nE\n");
	free(s);
	/* After a crash, the same attempt again: the link is taken up, and
	 * no line is written twice when the log gets its own file. */
	rerun = 1;
	char *const b5[] = {"sh", "-c", "echo two; sleep 0.2; echo E >&2", NULL};
	CHECK(run(b5, NULL) == 0);
	CHECK_STR((s = slurp("tasklog")), "one\ntwo\nE\n");
	free(s);
	CHECK_STR((s = slurp("stdout")), "one\ntwo\n");
	free(s);
	/* A stdout past TASK_LOG_SHARE_MAX: the log gets its own file then,
	 * a bounded copy, and goes on line by line. */
	char *const b6[] = {"sh", "-c", "yes 0123456789abcdef | head -c 69206016; echo end", NULL};
	CHECK(run(b6, NULL) == 0);
	CHECK(ino_of("tasklog") != ino_of("stdout"));
	/* The same bytes, but for the newline that cuts the line it was in
	 * the middle of, if it was. */
	long extra = newlines_added("stdout", "tasklog");
	CHECK(extra == 0 || extra == 1);

	/* Exit status and signals. */
	char *const a2[] = {"sh", "-c", "exit 3", NULL};
	CHECK(run(a2, NULL) == 3);
	char *const a3[] = {"sh", "-c", "kill -TERM $$", NULL};
	CHECK(run(a3, NULL) == -SIGTERM);

	/* stdin comes from the given file; no shell interprets arguments. */
	path(in, "in");
	write_file(in, "abc\n", 4, 0600);
	char *const a4[] = {"tr", "a-z", "A-Z", NULL};
	CHECK(run(a4, in) == 0);
	CHECK_STR((s = slurp("stdout")), "ABC\n");
	free(s);
	char *const a5[] = {"printf", "%s", "$(id); `x`", NULL};
	CHECK(run(a5, NULL) == 0);
	CHECK_STR((s = slurp("stdout")), "$(id); `x`");
	free(s);

	/* The working directory is the one asked for. */
	char *const a6[] = {"pwd", NULL};
	CHECK(run(a6, NULL) == 0);
	s = slurp("stdout");
	CHECK(strncmp(s, dir, strlen(dir)) == 0);
	free(s);

	/* A missing command is a clear error, not a child that exits 127. */
	struct exec_proc p;
	char *const a7[] = {"no-such-command-runfs", NULL};
	struct exec_req req = {.argv = a7, .envp = environ};
	CHECK(exec_start(&req, &p, why, sizeof(why)) < 0);
	CHECK_STR(why, "command not found: no-such-command-runfs");

	/* The task is its own process group: a signal reaches its children. */
	char *const a8[] = {"sh", "-c", "sleep 100 & echo $!; wait", NULL};
	req = (struct exec_req){.argv = a8, .envp = environ};
	CHECK(exec_start(&req, &p, why, sizeof(why)) == 0);
	CHECK(getpgid(p.pid) == p.pid);
	usleep(100000);
	exec_signal(&p, SIGKILL);
	struct pollfd pf = {p.pidfd, POLLIN, 0};
	CHECK(poll(&pf, 1, 5000) == 1);
	int code = 0;
	CHECK(exec_reap(&p, &code) == 0);
	CHECK(code == -SIGKILL);
	/* The orphaned sleep is reaped by init: allow it a moment. */
	int gone = 0;
	for (int i = 0; i < 200 && !gone; i++, usleep(10000))
		gone = kill(-p.pid, 0) < 0 && errno == ESRCH;
	CHECK(gone);
	exec_close(&p);

	/* The PATH search made in the daemon (execpath.c) finds what execvpe
	 * would, in the daemon's PATH. */
	char found[4096], bin1[600], bin2[600], pathvar[1300], prog[700];

	snprintf(bin1, sizeof(bin1), "%s/bin1", dir);
	snprintf(bin2, sizeof(bin2), "%s/bin2", dir);
	mkdir_p(bin1, 0700);
	mkdir_p(bin2, 0700);
	char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
	snprintf(pathvar, sizeof(pathvar), "%s:%s:/usr/bin:/bin", bin1, bin2);
	setenv("PATH", pathvar, 1);
	CHECK(exec_resolve("sh", found, sizeof(found)) == 0);
	CHECK(strcmp(found, "/usr/bin/sh") == 0 || strcmp(found, "/bin/sh") == 0);
	CHECK(exec_resolve("no-such-command-runfs", found, sizeof(found)) < 0);
	CHECK(exec_resolve("./sh", found, sizeof(found)) < 0); /* a path: not searched */
	/* A relative or empty entry is the task's folder: left to the child. */
	setenv("PATH", "/usr/bin::/bin", 1);
	CHECK(exec_resolve("sh", found, sizeof(found)) < 0);
	setenv("PATH", pathvar, 1);
	/* Not executable: skipped, as execvpe skips it. */
	snprintf(prog, sizeof(prog), "%s/runfs-tool", bin1);
	CHECK(write_file(prog, "echo one\n", 9, 0600) == 0);
	snprintf(prog, sizeof(prog), "%s/runfs-tool", bin2);
	CHECK(write_file(prog, "echo two\n", 9, 0700) == 0);
	CHECK(exec_resolve("runfs-tool", found, sizeof(found)) == 0);
	CHECK_STR(found, prog);
	/* A script without #! runs with sh, as execvpe runs it. */
	char *const a9[] = {"runfs-tool", NULL};
	CHECK(run(a9, NULL) == 0);
	CHECK_STR((s = slurp("stdout")), "two\n");
	free(s);
	/* Removed since it was found: the child searches again, and the
	 * task fails as execvpe makes it fail (bin1's copy is there, not
	 * executable: EACCES). */
	CHECK(unlink(prog) == 0);
	req = (struct exec_req){.argv = a9, .envp = environ};
	CHECK(exec_start(&req, &p, why, sizeof(why)) < 0);
	CHECK_STR(why, "cannot run runfs-tool: Permission denied");
	setenv("PATH", saved, 1);
	free(saved);
	/* SIGPIPE, ignored by the daemon, is the default again in the task
	 * (exec.c reads the daemon's dispositions again after a second). */
	signal(SIGPIPE, SIG_IGN);
	usleep(1100 * 1000);
	char *const a10[] = {"sh", "-c", "grep SigIgn /proc/self/status", NULL};
	CHECK(run(a10, NULL) == 0);
	CHECK_STR((s = slurp("stdout")), "SigIgn:\t0000000000000000\n");
	free(s);

	remove_tree(dir);
	return check_done();
}
