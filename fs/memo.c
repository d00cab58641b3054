/*
 * The latest renderings of big generated files (index, status.json,
 * graph.dot). `cat` of such a file asks for it twice, at the stat that
 * gives its size and at the open, and `ls -l` or `wc -c` again: rendering a
 * 10,000-line file each time is what made large runs slow to read. A copy
 * is reused only for the same node at the same change counter, and only
 * briefly: a copy older than MEMO_TTL (MEMO_TTL_SETTLED for a settled run's
 * file, which does not change) is dropped at the next rendering of
 * any such file, so at most MEMO_SLOTS copies are ever held.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "kcache.h"
#include "node.h"

#define MEMO_SLOTS 4
#define MEMO_TTL   2000 /* ms */
/* A settled run's file does not change: its copy serves the reads the
 * kernel makes of pages it dropped, long after the open (kcache.c). */
#define MEMO_TTL_SETTLED 30000

struct memo {
	fuse_ino_t ino;
	int64_t key[2];
	int64_t at; /* mono_ms() when made; 0 = empty */
	int64_t ttl;
	int64_t mtime;
	struct buf data;
};

static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;
static struct memo memos[MEMO_SLOTS];

/* Frees the slots too old to be used; the lock is held. */
static void
expire(int64_t now)
{
	for (int i = 0; i < MEMO_SLOTS; i++)
		if (memos[i].at && now - memos[i].at > memos[i].ttl) {
			buf_free(&memos[i].data);
			memos[i].at = 0;
		}
}

static int
recall(fuse_ino_t ino, const int64_t key[2], struct buf *out, int64_t *mtime)
{
	int rc = -1;

	pthread_mutex_lock(&memo_mu);
	expire(mono_ms());
	for (int i = 0; i < MEMO_SLOTS && rc < 0; i++) {
		struct memo *m = &memos[i];
		if (m->at && m->ino == ino && m->key[0] == key[0] && m->key[1] == key[1]) {
			rc = buf_add(out, m->data.p ? m->data.p : "", m->data.len) < 0 ? ENOMEM : 0;
			*mtime = m->mtime;
		}
	}
	pthread_mutex_unlock(&memo_mu);
	return rc;
}

static void
remember(fuse_ino_t ino, const int64_t key[2], const struct buf *data, int64_t mtime, int64_t ttl)
{
	struct memo *m = &memos[0];
	struct buf copy = {0};

	if (buf_add(&copy, data->p ? data->p : "", data->len) < 0)
		return;
	pthread_mutex_lock(&memo_mu);
	expire(mono_ms());
	for (int i = 0; i < MEMO_SLOTS; i++) {
		if (memos[i].at && memos[i].ino == ino) {
			m = &memos[i];
			break;
		}
		if (memos[i].at < m->at)
			m = &memos[i];
	}
	buf_free(&m->data);
	*m = (struct memo){
	    .ino = ino, .key = {key[0], key[1]}, .at = mono_ms(), .ttl = ttl, .mtime = mtime};
	m->data = copy;
	pthread_mutex_unlock(&memo_mu);
}

int
memo_render(const struct node *n, const int64_t key[2], render_fn render, struct buf *out,
	    int64_t *mtime)
{
	fuse_ino_t ino = node_ino(n);
	int err;

	if ((err = recall(ino, key, out, mtime)) >= 0)
		return err;
	if ((err = render(n, out, mtime)) == 0)
		remember(ino, key, out, *mtime, kcache_settled(n) ? MEMO_TTL_SETTLED : MEMO_TTL);
	return err;
}

/*
 * The sizes of rendered files of settled runs (kcache.c). The kernel
 * keeps their attributes, but asks for them again after it has read
 * from the file (it drops the atime it holds): without this, the `cat`
 * that follows renders a 10,000-line status.json only to give its size.
 * Keyed like the copies above; a slot per hash of the inode.
 */
#define SIZE_SLOTS 4096

struct size_memo {
	fuse_ino_t ino;
	int64_t key[2];
	off_t size;
	int64_t mtime;
};

static struct size_memo sizes[SIZE_SLOTS];

/* Inode numbers differ in their high bits (node.h): mixed. */
static size_t
slot_of(fuse_ino_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ULL) >> 52) % SIZE_SLOTS;
}

int
memo_size(fuse_ino_t ino, const int64_t key[2], off_t *size, int64_t *mtime)
{
	struct size_memo *m = &sizes[slot_of(ino)];
	int found;

	pthread_mutex_lock(&memo_mu);
	found = m->ino == ino && m->key[0] == key[0] && m->key[1] == key[1];
	if (found) {
		*size = m->size;
		*mtime = m->mtime;
	}
	pthread_mutex_unlock(&memo_mu);
	return found;
}

void
memo_size_put(fuse_ino_t ino, const int64_t key[2], off_t size, int64_t mtime)
{
	pthread_mutex_lock(&memo_mu);
	sizes[slot_of(ino)] =
	    (struct size_memo){.ino = ino, .key = {key[0], key[1]}, .size = size, .mtime = mtime};
	pthread_mutex_unlock(&memo_mu);
}

/*
 * What the page cache of each file (and cached listing of each folder)
 * of a settled run was filled under: an open keeps it only under the same
 * change counters, so a run that changed and settled again between two
 * opens is read afresh.
 */
static struct {
	fuse_ino_t ino;
	int64_t key[2];
} filled[SIZE_SLOTS];

int
memo_cache_kept(fuse_ino_t ino, const int64_t key[2])
{
	size_t i = slot_of(ino);
	int same;

	pthread_mutex_lock(&memo_mu);
	same = filled[i].ino == ino && filled[i].key[0] == key[0] && filled[i].key[1] == key[1];
	filled[i].ino = ino;
	filled[i].key[0] = key[0];
	filled[i].key[1] = key[1];
	pthread_mutex_unlock(&memo_mu);
	return same;
}

void
memo_free_all(void)
{
	pthread_mutex_lock(&memo_mu);
	for (int i = 0; i < MEMO_SLOTS; i++) {
		buf_free(&memos[i].data);
		memos[i].at = 0;
	}
	pthread_mutex_unlock(&memo_mu);
}
