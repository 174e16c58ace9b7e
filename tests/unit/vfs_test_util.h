/*
 * vfs_test_util.h — small helpers for tests that drive a filesystem through
 * the VFS and the shell: whole-file put and get, a directory's entry count,
 * a path's inode, and shell lines run through a session that captures what
 * they print (for `format`, `fsck` and the like).
 *
 * Built for the host tests and the boot tests alike (a tests/unit/ file),
 * so it uses only the VFS, the shell core and lib/.  In the kernel every
 * call may wait on a disk without a bound: call them from a task that a
 * timeout watches (a server of tests/kernel/blk_fake.h).  The captured
 * output is one static buffer: one test at a time.
 */
#ifndef NOS_TESTS_VFS_TEST_UTIL_H
#define NOS_TESTS_VFS_TEST_UTIL_H

#include "compiler.h"
#include "types.h"
#include "lib/ktest.h"

/* Write @len bytes at @off of @path, created if missing (cut to 0 first
 * when @trunc): 0, -ENOSPC for a short write, or the VFS's error. */
int vt_put_at(const char *path, u64 off, const void *data, size_t len, bool trunc);
/* vt_put_at(@path, 0, @data, @len, true): the file holds exactly @data. */
int vt_put(const char *path, const void *data, size_t len);
/* Bytes read from @path at @off into @buf (at most @len), or -errno. */
s64 vt_get_at(const char *path, u64 off, void *buf, size_t len);
/* Does @path hold exactly the @len bytes at @want?  @scratch: @cap bytes. */
bool vt_holds(const char *path, const void *want, size_t len, void *scratch, size_t cap);
/* @path's inode number, or 0 when it cannot be stat'ed. */
u64 vt_ino(const char *path);
/* Entries of directory @path, or ~0u when it cannot be read. */
unsigned vt_entries(const char *path);

/* Run the shell line printf(@fmt, ...) in this task: the command's result. */
int vt_sh(const char *fmt, ...) __printf(1, 2);
/* What the last vt_sh() printed, NUL-terminated (cut at 2 KiB). */
const char *vt_sh_out(void);
/* `fsck @dev` found the volume clean; otherwise logs what it said in @kt. */
bool vt_fsck_clean(struct ktest_ctx *kt, const char *dev);

#endif
