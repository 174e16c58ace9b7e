/*
 * host_vfs_model.h — the filesystem-independent random-operation suite
 * (tests/unit/host_vfs_model.c), parametrised by how to get a fresh
 * filesystem of the kind under test mounted at a path.  ramfs uses it in
 * host_vfs.c; nanofs's glue will pass its own (format a fake disk, mount
 * it; remount to check persistence).
 */
#ifndef NOS_TESTS_HOST_VFS_MODEL_H
#define NOS_TESTS_HOST_VFS_MODEL_H

#include "lib/ktest.h"

struct vfs_model_fs {
	const char *name;
	/* Mount a fresh, empty filesystem at @path (an existing directory). */
	int (*mount)(const char *path);
	/* Unmount and mount the same volume again at @path; NULL when the
	 * filesystem keeps nothing across a remount (ramfs). */
	int (*remount)(const char *path);
};

/*
 * Drive @fs, mounted at @mnt, through @steps random operations (create,
 * write at offsets across pages and holes, append, truncate, mkdir, remove,
 * recursive remove, rename in and across directories) checking each result
 * against an in-memory model and comparing the whole tree after every step
 * (and after a remount every @remount_every steps, when @fs can).  Fails
 * through @kt.  Unmounts at the end.
 */
void vfs_model_run(struct ktest_ctx *kt, const struct vfs_model_fs *fs, const char *mnt,
		   unsigned steps, unsigned remount_every);

#endif
