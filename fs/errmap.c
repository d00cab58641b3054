/* The one place where backend results become errno values (like sshfs's
 * table for SFTP status codes). */
#include <errno.h>

#include "node.h"

static const int table[RF_COUNT] = {
    [RF_OK] = 0,	 [RF_NOENT] = ENOENT,	[RF_INVAL] = EINVAL, [RF_AGAIN] = EAGAIN,
    [RF_BUSY] = EBUSY,	 [RF_FAILED] = ENODATA, [RF_EXIST] = EEXIST, [RF_TOOBIG] = EFBIG,
    [RF_NOMEM] = ENOMEM, [RF_IO] = EIO,		[RF_PERM] = EACCES,  [RF_LOCKED] = EAGAIN,
    [RF_NOSPC] = ENOSPC,
};

int
rerr_errno(enum rerr e)
{
	if ((int)e < 0 || e >= RF_COUNT)
		return EIO;
	return table[e];
}

/* A request written to a stream (a definition into submit, a configuration
 * into configs/) that names something unknown is itself invalid. */
int
rerr_errno_request(enum rerr e)
{
	return e == RF_NOENT ? EINVAL : rerr_errno(e);
}
