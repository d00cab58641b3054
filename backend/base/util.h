/* Small helpers every module uses: a growable buffer, time, files. */
#ifndef RUNFS_UTIL_H
#define RUNFS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A growable byte buffer, always NUL-terminated after len bytes. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
};

/* Each returns 0, or -1 (ENOMEM) leaving the buffer as it was. */
int buf_add(struct buf *b, const void *data, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);
/* Hands the string to the caller (never NULL on success; "" when empty). */
char *buf_steal(struct buf *b);

/* A malloc'd message for an *err out-parameter (NULL when out of memory). */
char *errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Base64 (RFC 4648, with padding), for bytes that JSON strings cannot
 * hold (invalid UTF-8). Both return malloc'd buffers, or NULL (malformed
 * input or no memory); decode sets *n. */
char *base64_encode(const void *data, size_t n);
char *base64_decode(const char *text, size_t *n);

/* A JSON value for bytes: a string when they are UTF-8, else
 * {"base64": "..."}; json_bytes_get reverses it (malloc'd, *n set). */
struct json_t;
struct json_t *json_bytes(const char *data, size_t n);
char *json_bytes_get(struct json_t *v, size_t *n);

/* Milliseconds since the epoch (CLOCK_REALTIME) and monotonic. */
int64_t now_ms(void);
int64_t mono_ms(void);
/* ISO 8601 UTC with milliseconds ("2026-11-26T17:53:18.123Z"); out >= 32. */
void iso8601(int64_t ms, char *out, size_t outsz);

/* mkdir -p with the given mode; 0 or -1 with errno. */
int mkdir_p(const char *path, mode_t mode);
/* Writes a whole file atomically (temp + rename); 0 or -1 with errno. */
int write_file(const char *path, const void *data, size_t n, mode_t mode);
/* Reads a whole file (at most max bytes, else EFBIG); 0 or -1 with errno. */
int read_file(const char *path, size_t max, char **data, size_t *n);
/* Opens a file of the data directory (or a work directory) without
 * following a symlink anywhere in path: ELOOP if there is one. Tasks
 * write in those folders, and a link a task leaves there must not make
 * the mount read a file elsewhere. Callers pass paths whose base has been
 * through realpath(). */
int open_nolinks(const char *path, int flags);
/* Its fallback where openat2 is missing; exposed for its tests. */
int open_walk(const char *path, int flags);
/* stat() the same way; 0 or -1 with errno. */
int stat_nolinks(const char *path, struct stat *st);
/* rm -rf; 0 or -1 with errno. */
int remove_tree(const char *path);

#endif
