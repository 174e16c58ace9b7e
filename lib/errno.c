/*
 * errno.c — errno_name(): the symbolic name of an error number, for log
 * lines and shell messages ("read failed: EIO" reads better than "-5").
 *
 * The table mirrors include/errno.h entry for entry; a number added there
 * needs a line here too, or it prints as "E?".  Either sign is accepted, because
 * callers hold the negative value the convention returns while people think
 * of the positive one.  The strings are static and never change, so the
 * result may be kept and used from any context.
 */
#include "errno.h"
#include "types.h"

struct errno_entry {
	int num;
	const char *name;
};

#define ERRNO_ENTRY(e) { e, #e }

static const struct errno_entry errno_table[] = {
	ERRNO_ENTRY(EPERM),
	ERRNO_ENTRY(ESRCH),
	ERRNO_ENTRY(ENOENT),
	ERRNO_ENTRY(EINTR),
	ERRNO_ENTRY(EIO),
	ERRNO_ENTRY(ENXIO),
	ERRNO_ENTRY(E2BIG),
	ERRNO_ENTRY(EBADF),
	ERRNO_ENTRY(EAGAIN),
	ERRNO_ENTRY(ENOMEM),
	ERRNO_ENTRY(EACCES),
	ERRNO_ENTRY(EFAULT),
	ERRNO_ENTRY(EBUSY),
	ERRNO_ENTRY(EEXIST),
	ERRNO_ENTRY(EXDEV),
	ERRNO_ENTRY(ENODEV),
	ERRNO_ENTRY(ENOTDIR),
	ERRNO_ENTRY(EISDIR),
	ERRNO_ENTRY(EINVAL),
	ERRNO_ENTRY(ENFILE),
	ERRNO_ENTRY(EMFILE),
	ERRNO_ENTRY(EFBIG),
	ERRNO_ENTRY(ENOSPC),
	ERRNO_ENTRY(ESPIPE),
	ERRNO_ENTRY(EROFS),
	ERRNO_ENTRY(EPIPE),
	ERRNO_ENTRY(EDOM),
	ERRNO_ENTRY(ERANGE),
	ERRNO_ENTRY(ENAMETOOLONG),
	ERRNO_ENTRY(ENOSYS),
	ERRNO_ENTRY(ENOTEMPTY),
	ERRNO_ENTRY(ENODATA),
	ERRNO_ENTRY(ETIME),
	ERRNO_ENTRY(EPROTO),
	ERRNO_ENTRY(EBADMSG),
	ERRNO_ENTRY(EOVERFLOW),
	ERRNO_ENTRY(EMSGSIZE),
	ERRNO_ENTRY(EPROTONOSUPPORT),
	ERRNO_ENTRY(EOPNOTSUPP),
	ERRNO_ENTRY(EADDRINUSE),
	ERRNO_ENTRY(EADDRNOTAVAIL),
	ERRNO_ENTRY(ENETDOWN),
	ERRNO_ENTRY(ENETUNREACH),
	ERRNO_ENTRY(ECONNABORTED),
	ERRNO_ENTRY(ECONNRESET),
	ERRNO_ENTRY(ENOBUFS),
	ERRNO_ENTRY(EISCONN),
	ERRNO_ENTRY(ENOTCONN),
	ERRNO_ENTRY(ETIMEDOUT),
	ERRNO_ENTRY(ECONNREFUSED),
	ERRNO_ENTRY(EHOSTUNREACH),
	ERRNO_ENTRY(EALREADY),
	ERRNO_ENTRY(EINPROGRESS),
};

const char *errno_name(int err)
{
	size_t i;

	if (err == 0)
		return "0";
	for (i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++) {
		/* Compare both signs rather than negate: -INT_MIN overflows. */
		if (errno_table[i].num == err || -errno_table[i].num == err)
			return errno_table[i].name;
	}
	return "E?";
}
