
#include <errno.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

static int
buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap = b->cap ? b->cap : 64;
	char *p;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *data, size_t n)
{
	if (buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *
buf_steal(struct buf *b)
{
	char *p;

	if (b->p == NULL && buf_add(b, "", 0) < 0)
		return NULL;
	p = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
iso8601(int64_t ms, char *out, size_t outsz)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	char tmp[4096];
	const char *p = data;
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, getpid()) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

int
read_file(const char *path, size_t max, char **data, size_t *n)
{
	struct buf b = {0};
	char chunk[65536];
	int fd, saved;
	ssize_t r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			errno = EFBIG;
			goto fail;
		}
		if (buf_add(&b, chunk, (size_t)r) < 0) {
			errno = ENOMEM;
			goto fail;
		}
	}
	close(fd);
	*n = b.len;
	*data = buf_steal(&b);
	if (*data == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
fail:
	saved = errno;
	close(fd);
	buf_free(&b);
	errno = saved;
	return -1;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int
remove_tree(const char *path)
{
	if (nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

char *
errf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const void *data, size_t n)
{
	const unsigned char *p = data;
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

char *
base64_decode(const char *text, size_t *n)
{
	size_t len = strlen(text), o = 0;
	char *out;

	if (len % 4)
		return NULL;
	if ((out = malloc(len / 4 * 3 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 4) {
		unsigned v = 0;
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			const char *c = text[i + k] == '=' ? NULL : strchr(b64, text[i + k]);
			if (text[i + k] == '=' && i + 4 == len && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (c == NULL || text[i + k] == '\0' || pad) {
				free(out);
				return NULL;
			}
			v = v << 6 | (unsigned)(c - b64);
		}
		out[o++] = (char)(v >> 16);
		if (pad < 2)
			out[o++] = (char)(v >> 8 & 255);
		if (pad < 1)
			out[o++] = (char)(v & 255);
	}
	out[o] = '\0';
	*n = o;
	return out;
}

json_t *
json_bytes(const char *data, size_t n)
{
	json_t *s = json_stringn(data, n);
	char *enc;

	if (s != NULL)
		return s;
	/* Not UTF-8 (a task's binary output passed on): keep the bytes. */
	if ((enc = base64_encode(data, n)) == NULL)
		return NULL;
	s = json_pack("{s:s}", "base64", enc);
	free(enc);
	return s;
}

char *
json_bytes_get(json_t *v, size_t *n)
{
	char *out;

	if (json_is_string(v)) {
		*n = json_string_length(v);
		if ((out = malloc(*n + 1)) != NULL) {
			memcpy(out, json_string_value(v), *n);
			out[*n] = '\0';
		}
		return out;
	}
	if (json_is_string(json_object_get(v, "base64")))
		return base64_decode(json_string_value(json_object_get(v, "base64")), n);
	return NULL;
}

/*
 * open_nolinks without openat2: one component at a time from the start,
 * each opened with O_NOFOLLOW, so that a symbolic link anywhere in the
 * path (a task's outputs folder replaced by one, say) is refused as
 * RESOLVE_NO_SYMLINKS refuses it, with ELOOP.
 */
int
open_walk(const char *path, int flags)
{
	char *copy = strdup(path), *p, *slash;
	int dir, next, fd = -1, saved;

	if (copy == NULL)
		return -1;
	if ((dir = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto out;
	for (p = copy; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		*slash = '\0';
		if (*p == '\0')
			continue;
		next = openat(dir, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			struct stat st;
			saved = errno;
			if (saved == ENOTDIR && fstatat(dir, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				saved = ELOOP;
			close(dir);
			errno = saved;
			goto out;
		}
		close(dir);
		dir = next;
	}
	fd = openat(dir, *p ? p : ".", flags | O_CLOEXEC | O_NOFOLLOW);
	saved = errno;
	/* O_PATH opens a link itself rather than refusing it. */
	if (fd >= 0 && (flags & O_PATH)) {
		struct stat st;
		if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
			close(fd);
			fd = -1;
			saved = ELOOP;
		}
	}
	close(dir);
	errno = saved;
out:
	free(copy);
	return fd;
}

int
open_nolinks(const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
			       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	/* Before Linux 5.6, under valgrind 3.19, or where a seccomp filter
	 * refuses openat2 (some container runtimes answer EPERM). */
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		return open_walk(path, flags);
	return (int)fd;
}

int
stat_nolinks(const char *path, struct stat *st)
{
	int fd = open_nolinks(path, O_PATH), rc;

	if (fd < 0)
		return -1;
	rc = fstat(fd, st);
	close(fd);
	return rc;
}
