/*
 * vfs_test_util.c — the helpers of vfs_test_util.h: files through open,
 * read/write and close, and shell lines through a session of its own.
 */
#include "tests/unit/vfs_test_util.h"
#include "errno.h"
#include "fs/vfs.h"
#include "kernel/shell.h"
#include "lib/format.h"
#include "lib/string.h"

int vt_put_at(const char *path, u64 off, const void *data, size_t len, bool trunc)
{
	struct vnode *vn;
	int rc = vfs_open(path, VFS_O_CREATE | VFS_O_WRITE | (trunc ? VFS_O_TRUNC : 0), &vn);
	s64 n;

	if (rc)
		return rc;
	n = vfs_write(vn, off, data, len);
	vfs_close(vn);
	return n == (s64)len ? 0 : n < 0 ? (int)n : -ENOSPC;
}

int vt_put(const char *path, const void *data, size_t len)
{
	return vt_put_at(path, 0, data, len, true);
}

s64 vt_get_at(const char *path, u64 off, void *buf, size_t len)
{
	struct vnode *vn;
	int rc = vfs_open(path, 0, &vn);
	s64 n;

	if (rc)
		return rc;
	n = vfs_read(vn, off, buf, len);
	vfs_close(vn);
	return n;
}

bool vt_holds(const char *path, const void *want, size_t len, void *scratch, size_t cap)
{
	return len < cap && vt_get_at(path, 0, scratch, cap) == (s64)len &&
	       memcmp(scratch, want, len) == 0;
}

u64 vt_ino(const char *path)
{
	struct vfs_stat st;

	return vfs_stat(path, &st) ? 0 : st.ino;
}

static int count_visit(void *arg, const char *name, size_t len, enum vnode_type type)
{
	(*(unsigned *)arg)++;
	return 0;
}

unsigned vt_entries(const char *path)
{
	unsigned n = 0;

	return vfs_readdir(path, count_visit, &n) ? ~0u : n;
}

/* ------------------------------------------------------- shell lines */

static struct {
	char buf[2048];
	size_t len;
} out;

static int out_write(void *ctx, const char *buf, size_t len)
{
	len = MIN(len, sizeof(out.buf) - 1 - out.len);
	memcpy(out.buf + out.len, buf, len);
	out.len += len;
	out.buf[out.len] = '\0';
	return 0;
}

int vt_sh(const char *fmt, ...)
{
	char line[128];
	struct sh sh;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	out.len = 0;
	out.buf[0] = '\0';
	sh_init(&sh, out_write, NULL);
	return shell_exec(&sh, line);
}

const char *vt_sh_out(void)
{
	return out.buf;
}

bool vt_fsck_clean(struct ktest_ctx *kt, const char *dev)
{
	char want[64];
	int rc = vt_sh("fsck %s", dev);

	snprintf(want, sizeof(want), "%s: clean\n", dev);
	if (rc == 0 && strcmp(out.buf, want) == 0)
		return true;
	ktest_log(kt, "fsck %s (%d): %s", dev, rc, out.buf);
	return false;
}
