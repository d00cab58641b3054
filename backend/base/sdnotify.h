/*
 * Telling systemd how a service is doing (sd_notify(3)'s protocol), for a
 * Type=notify unit: the local runtime daemon (runfs-local@.service) and a
 * mount in the foreground (the user unit runfs@.service). A few lines of
 * our own rather than libsystemd: one datagram to $NOTIFY_SOCKET is the
 * whole protocol, and a dependency less is one less to package.
 */
#ifndef RUNFS_SDNOTIFY_H
#define RUNFS_SDNOTIFY_H

/* Takes $NOTIFY_SOCKET out of the environment and keeps it for sdnotify:
 * task processes, and a local runtime a mount starts, inherit the
 * environment, and must not speak for this service. Call it before any
 * thread starts (it changes the environment). */
void sdnotify_init(void);

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated)
 * to the socket sdnotify_init found: 1 when sent, 0 when there is none
 * (not started by systemd), -1 on error (errno). */
int sdnotify(const char *state);

#endif
