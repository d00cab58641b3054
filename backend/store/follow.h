/*
 * Following what other processes do to the shared store: every commit
 * that records events or requests touches DATA/nudge/<pid>, and an
 * inotify watch on that folder (IN_ATTRIB) wakes whoever follows. A
 * process skips its own nudges: a mount whose scheduler commits at every
 * turn would otherwise wake itself for nothing as often. A timer backs
 * the watch up, so a lost wake-up costs a second, never a change.
 */
#ifndef RUNFS_FOLLOW_H
#define RUNFS_FOLLOW_H

#define FOLLOW_FALLBACK_MS 1000

struct follow;

/* An inotify descriptor (non-blocking) readable after each nudge, or -1. */
int nudge_watch(const char *datadir);
/* Empties it after a wake-up; 1 when another process committed events
 * (requests = 0) or queued a request (requests = 1). */
int nudge_drain(int fd, int requests);

/* A thread calling fn(arg) after each nudge and every FOLLOW_FALLBACK_MS. */
int follow_start(const char *datadir, void (*fn)(void *), void *arg, struct follow **out);
void follow_stop(struct follow *f);

#endif
