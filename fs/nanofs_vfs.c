/*
 * nanofs_vfs.c — the glue that puts nanofs under the VFS in the kernel:
 * a struct nanofs_dev over a block device, the fs_ops/vnode_ops that hand
 * each VFS call to the nanofs core by inode number, a background task that
 * syncs mounted volumes, and the `format nanofs` and `fsck` commands.
 *
 * The device.  The core speaks 4 KiB blocks; a block device speaks its own
 * sectors (512..4096 bytes), so a block is 4096 / sector-size sectors and
 * the conversion is one multiplication.  Only block/blkdev.h is used —
 * lookup by name, the synchronous blk_read/blk_write/blk_flush, size and
 * read-only — so any disk or partition works, whichever driver serves it.
 * A device without a write cache answers a flush with -EOPNOTSUPP, which
 * for us means "already durable".
 *
 * Claims.  A mount claims its device for as long as it lives, under the
 * name "nanofs <mount point>" that `disks` shows; format and fsck claim it
 * for the length of the command.  The block layer's claims exclude a disk
 * and its partitions from each other, so formatting a disk one of whose
 * partitions is mounted (or the other way round) is refused with -EBUSY.
 *
 * The mapping.  A vnode's ino is the nanofs inode number; nothing else is
 * kept per vnode.  The VFS serialises calls into one mount and the core
 * holds its own volume mutex, so the glue adds no lock around operations.
 * The readdir callback only translates the entry and hands it to the VFS's
 * callback, which never calls back into the filesystem: nanofs holds its
 * volume mutex during the callback and must not be re-entered.
 *
 * Durability.  The core commits at nanofs_sync, at unmount and when its
 * journal fills.  To bound what a power cut can take, the "nanofs-sync"
 * task syncs every mounted read-write volume each SYNC_PERIOD_NS.
 *
 * Locks:
 *   nv_list_lock  (mutex) the list of mounted volumes, and each entry's
 *                 life: the sync task holds it across its syncs, unmount
 *                 takes it to unlink a volume before freeing it, so the
 *                 sync task never touches a freed volume.  Order: a
 *                 mount's lock -> nv_list_lock -> the core's volume mutex.
 */
#include "fs/nanofs.h"
#include "fs/vfs_fs.h"
#include "block/blkdev.h"
#include "errno.h"
#include "kernel/mutex.h"
#include "kernel/printk.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/list.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NANOFS_BLOCK 4096u
#define SYNC_PERIOD_NS (5ULL * 1000 * 1000 * 1000)
#define HOLDER_MAX 48

/* One block device as nanofs sees it. */
struct nv_disk {
	char holder[HOLDER_MAX];  /* first: the claim's name (see blkdev_claim) */
	struct blkdev *bd;
	u32 spb;                  /* device sectors per 4 KiB block */
	struct nanofs_dev dev;
};

/* A mounted volume: mnt->fs_priv. */
struct nv_mount {
	struct nv_disk disk;
	struct nanofs *fs;
	struct list_head link;    /* [nv_list_lock] on nv_list */
};

static struct mutex nv_list_lock;
static struct list_head nv_list = LIST_HEAD_INIT(nv_list);

/* ------------------------------------------------------------ the device */

static int nv_read(void *ctx, u64 blk, u32 n, void *buf)
{
	struct nv_disk *d = ctx;

	return blk_read(d->bd, blk * d->spb, n * d->spb, buf);
}

static int nv_write(void *ctx, u64 blk, u32 n, const void *buf)
{
	struct nv_disk *d = ctx;

	return blk_write(d->bd, blk * d->spb, n * d->spb, buf);
}

static int nv_flush(void *ctx)
{
	struct nv_disk *d = ctx;
	int rc = blk_flush(d->bd);

	return rc == -EOPNOTSUPP ? 0 : rc;
}

static s64 nv_now(void *ctx)
{
	s64 ns;

	return time_wall(&ns) == 0 ? ns / 1000000000 : 0;
}

/*
 * Find device @name and claim it under the name @holder: 0, -ENXIO (no
 * such device: not -ENODEV, which the VFS uses for "no such filesystem
 * type"), -EINVAL (empty, or sectors larger than a block), -EBUSY.
 */
static int nv_disk_open(struct nv_disk *d, const char *name, const char *holder)
{
	struct blkdev *bd = blkdev_find(name);
	u32 ss;
	int rc;

	if (!bd)
		return -ENXIO;
	ss = blkdev_sector_size(bd);
	if (blkdev_sectors(bd) == 0 || ss == 0 || ss > NANOFS_BLOCK)
		return -EINVAL;
	strlcpy(d->holder, holder, sizeof(d->holder));
	rc = blkdev_claim(bd, d);
	if (rc)
		return rc;
	d->bd = bd;
	d->spb = NANOFS_BLOCK / ss;
	d->dev = (struct nanofs_dev){
		.blocks = blkdev_bytes(bd) / NANOFS_BLOCK,
		.read = nv_read,
		.write = nv_write,
		.flush = nv_flush,
		.now = nv_now,
		.ctx = d,
		.read_only = blkdev_read_only(bd),
	};
	return 0;
}

static void nv_disk_close(struct nv_disk *d)
{
	blkdev_release(d->bd, d);
}

/* ------------------------------------------------------------ vnode ops */

static struct nanofs *fs_of(struct vnode *vn)
{
	return ((struct nv_mount *)vn->mnt->fs_priv)->fs;
}

static enum vnode_type vtype(enum nanofs_type t)
{
	return t == NANOFS_DIR ? VNODE_DIR : VNODE_FILE;
}

static int child(struct nanofs *fs, u32 ino, struct vfs_child *out)
{
	struct nanofs_stat st;
	int rc = nanofs_stat(fs, ino, &st);

	if (rc)
		return rc;
	*out = (struct vfs_child){ .ino = ino, .priv = NULL, .type = vtype(st.type) };
	return 0;
}

static int nv_lookup(struct vnode *dir, const char *name, size_t len, struct vfs_child *out)
{
	u32 ino;
	int rc = nanofs_lookup(fs_of(dir), (u32)dir->ino, name, (u32)len, &ino);

	return rc ? rc : child(fs_of(dir), ino, out);
}

static int nv_make(struct vnode *dir, const char *name, size_t len, enum nanofs_type type,
		   struct vfs_child *out)
{
	u32 ino;
	int rc = nanofs_create(fs_of(dir), (u32)dir->ino, name, (u32)len, type, &ino);

	if (rc)
		return rc;
	*out = (struct vfs_child){ .ino = ino, .priv = NULL, .type = vtype(type) };
	return 0;
}

static int nv_create(struct vnode *dir, const char *name, size_t len, struct vfs_child *out)
{
	return nv_make(dir, name, len, NANOFS_FILE, out);
}

static int nv_mkdir(struct vnode *dir, const char *name, size_t len, struct vfs_child *out)
{
	return nv_make(dir, name, len, NANOFS_DIR, out);
}

static s64 nv_read_op(struct vnode *vn, u64 off, void *buf, size_t len)
{
	return nanofs_read(fs_of(vn), (u32)vn->ino, off, buf, len);
}

static s64 nv_write_op(struct vnode *vn, u64 off, const void *buf, size_t len)
{
	return nanofs_write(fs_of(vn), (u32)vn->ino, off, buf, len);
}

static int nv_truncate(struct vnode *vn, u64 size)
{
	return nanofs_truncate(fs_of(vn), (u32)vn->ino, size);
}

static int nv_unlink(struct vnode *dir, const char *name, size_t len)
{
	return nanofs_unlink(fs_of(dir), (u32)dir->ino, name, (u32)len);
}

static int nv_rmdir(struct vnode *dir, const char *name, size_t len)
{
	return nanofs_rmdir(fs_of(dir), (u32)dir->ino, name, (u32)len);
}

struct nv_fill {
	vfs_filldir_fn fn;
	void *arg;
};

/* Runs under the core's volume mutex: translate and pass on, nothing more. */
static int nv_filldir(void *arg, const char *name, u32 len, u32 ino, enum nanofs_type type)
{
	struct nv_fill *f = arg;

	return f->fn(f->arg, name, len, ino, vtype(type));
}

static int nv_readdir(struct vnode *dir, u64 *cursor, vfs_filldir_fn fn, void *arg)
{
	struct nv_fill f = { fn, arg };

	return nanofs_readdir(fs_of(dir), (u32)dir->ino, cursor, nv_filldir, &f);
}

static int nv_stat(struct vnode *vn, struct vfs_stat *st)
{
	struct nanofs_stat ns;
	int rc = nanofs_stat(fs_of(vn), (u32)vn->ino, &ns);

	if (rc)
		return rc;
	*st = (struct vfs_stat){
		.ino = ns.ino,
		.type = vtype(ns.type),
		.size = ns.size,
		.nlink = ns.links,
		.block_size = NANOFS_BLOCK,
		.blocks = ns.blocks,
	};
	return 0;
}

static int nv_rename(struct vnode *sdir, const char *sname, size_t slen, struct vnode *ddir,
		     const char *dname, size_t dlen)
{
	return nanofs_rename(fs_of(sdir), (u32)sdir->ino, sname, (u32)slen, (u32)ddir->ino,
			     dname, (u32)dlen);
}

static const struct vnode_ops nv_vnode_ops = {
	.lookup = nv_lookup,
	.create = nv_create,
	.mkdir = nv_mkdir,
	.read = nv_read_op,
	.write = nv_write_op,
	.truncate = nv_truncate,
	.unlink = nv_unlink,
	.rmdir = nv_rmdir,
	.readdir = nv_readdir,
	.stat = nv_stat,
	.rename = nv_rename,
};

/* --------------------------------------------------------------- fs ops */

static int nv_mount(struct mount *mnt, struct vfs_child *root)
{
	struct nv_mount *m = kzalloc(sizeof(*m));
	char holder[HOLDER_MAX];
	int rc;

	if (!m)
		return -ENOMEM;
	snprintf(holder, sizeof(holder), "nanofs %s", mnt->path);
	rc = nv_disk_open(&m->disk, mnt->device, holder);
	if (rc) {
		if (rc == -ENXIO)
			pr_err("nanofs: no disk '%s'; not mounted on %s", mnt->device, mnt->path);
		else if (rc == -EBUSY)
			pr_err("nanofs: %s is in use; not mounted on %s", mnt->device, mnt->path);
		else
			pr_err("nanofs: %s is empty or has sectors over 4 KiB; not mounted on %s",
			       mnt->device, mnt->path);
		kfree(m);
		return rc;
	}
	rc = nanofs_mount(&m->disk.dev, mnt->flags & VFS_MOUNT_RO, &m->fs);
	if (rc) {
		pr_err("nanofs: cannot mount %s on %s: %s", mnt->device, mnt->path,
		       errno_name(rc));
		nv_disk_close(&m->disk);
		kfree(m);
		return rc;
	}
	if (nanofs_read_only(m->fs))
		mnt->flags |= VFS_MOUNT_RO;
	mnt->fs_priv = m;
	*root = (struct vfs_child){ .ino = nanofs_root(m->fs), .priv = NULL, .type = VNODE_DIR };
	mutex_lock(&nv_list_lock);
	list_add_tail(&m->link, &nv_list);
	mutex_unlock(&nv_list_lock);
	pr_info("nanofs: %s mounted on %s%s", mnt->device, mnt->path,
		mnt->flags & VFS_MOUNT_RO ? " (read-only)" : "");
	return 0;
}

static int nv_unmount(struct mount *mnt)
{
	struct nv_mount *m = mnt->fs_priv;
	int rc;

	mutex_lock(&nv_list_lock);
	list_del(&m->link);
	mutex_unlock(&nv_list_lock);
	rc = nanofs_unmount(m->fs);
	if (rc)
		pr_err("nanofs: unmount of %s from %s: %s", mnt->device, mnt->path,
		       errno_name(rc));
	nv_disk_close(&m->disk);
	kfree(m);
	mnt->fs_priv = NULL;
	return rc ? -EIO : 0;
}

static int nv_sync(struct mount *mnt)
{
	struct nv_mount *m = mnt->fs_priv;

	if (nanofs_failed(m->fs))
		return -EIO; /* what was not written is lost: say so */
	return nanofs_read_only(m->fs) ? 0 : nanofs_sync(m->fs);
}

static int nv_statfs(struct mount *mnt, struct vfs_statfs *st)
{
	struct nv_mount *m = mnt->fs_priv;
	struct nanofs_statfs ns;
	int rc = nanofs_statfs(m->fs, &ns);

	if (rc)
		return rc;
	*st = (struct vfs_statfs){
		.block_size = NANOFS_BLOCK,
		.blocks_total = ns.data_blocks,
		.blocks_free = ns.free_blocks,
		.inodes_total = ns.inodes,
		.inodes_free = ns.free_inodes,
		.read_only = nanofs_read_only(m->fs),
	};
	return 0;
}

/* Whether @bd holds a nanofs volume labelled @label (@buf: a block). */
static bool nv_labelled(struct blkdev *bd, const char *label, u8 *buf)
{
	u32 ss = blkdev_sector_size(bd);
	u64 blocks = blkdev_bytes(bd) / NANOFS_BLOCK;

	if (ss == 0 || ss > NANOFS_BLOCK || blocks == 0 ||
	    blk_read(bd, 0, NANOFS_BLOCK / ss, buf))
		return false;
	return nanofs_super_labelled(buf, blocks, label);
}

static int nv_find_label(const char *label, char *dev, size_t cap)
{
	u8 *buf = kmalloc(NANOFS_BLOCK);
	struct blkdev *bd;
	int rc = -ENXIO;

	if (!buf)
		return -ENOMEM;
	for (bd = blkdev_next(NULL); bd; bd = blkdev_next(bd)) {
		if (!nv_labelled(bd, label, buf))
			continue;
		if (rc == 0) {
			pr_err("nanofs: both %s and %s are labelled '%s'", dev, blkdev_name(bd), label);
			rc = -EEXIST;
			break;
		}
		strlcpy(dev, blkdev_name(bd), cap);
		rc = 0;
	}
	kfree(buf);
	return rc;
}

static const struct fs_ops nv_fs_ops = {
	.vnode_ops = &nv_vnode_ops,
	.needs_device = true,
	.mount = nv_mount,
	.unmount = nv_unmount,
	.sync = nv_sync,
	.statfs = nv_statfs,
	.find_label = nv_find_label,
};

/* Commit every mounted read-write volume, forever, every SYNC_PERIOD_NS. */
static void nv_sync_task(void *arg)
{
	for (;;) {
		struct nv_mount *m;

		sched_sleep_ns(SYNC_PERIOD_NS);
		mutex_lock(&nv_list_lock);
		list_for_each_entry(m, &nv_list, link) {
			int rc;

			if (nanofs_read_only(m->fs))
				continue;
			rc = nanofs_sync(m->fs);
			if (rc)
				pr_err("nanofs: periodic sync of %s failed: %s",
				       blkdev_name(m->disk.bd), errno_name(rc));
		}
		mutex_unlock(&nv_list_lock);
	}
}

void nanofs_vfs_register(void)
{
	int rc;

	mutex_init(&nv_list_lock, "nanofs_vfs_list");
	rc = vfs_register_fs("nanofs", &nv_fs_ops);
	if (rc) {
		pr_err("nanofs: cannot register the filesystem type: %s", errno_name(rc));
		return;
	}
	if (!task_create("nanofs-sync", nv_sync_task, NULL, TASK_ANY_CPU))
		pr_err("nanofs: cannot start the sync task; volumes commit at sync and umount only");
}

/* ---------------------------------------------------------- the commands */

/* Open @name for a command, saying why not: 0 or the error to return. */
static int cmd_disk_open(struct sh *sh, struct nv_disk *d, const char *name, const char *holder)
{
	char by[HOLDER_MAX];
	int rc = nv_disk_open(d, name, holder);

	if (rc == -ENXIO)
		sh_printf(sh, "%s: no disk '%s' (see 'disks')\n", sh->cmd->name, name);
	else if (rc == -EINVAL)
		sh_printf(sh, "%s: %s is empty or has sectors larger than 4 KiB\n", sh->cmd->name,
			  name);
	else if (rc == -EBUSY && blkdev_claimed_by(blkdev_find(name), by, sizeof(by)))
		sh_printf(sh, "%s: %s is in use by %s (EBUSY)\n", sh->cmd->name, name, by);
	else if (rc == -EBUSY)
		sh_printf(sh, "%s: %s overlaps a disk or partition in use (EBUSY)\n",
			  sh->cmd->name, name);
	return rc == -EINVAL ? -EPERM : rc;
}

static int cmd_format(struct sh *sh, int argc, char **argv)
{
	struct nanofs_format_opts opts = { .inodes = 0, .label = NULL };
	struct nv_disk d;
	int rc;

	if (strcmp(argv[1], "nanofs") != 0)
		return sh_error(sh, "unknown filesystem type '%s' (only nanofs)", argv[1]);
	rc = cmd_disk_open(sh, &d, argv[2], "format");
	if (rc)
		return rc;
	if (d.dev.read_only) {
		sh_printf(sh, "format: %s is read-only (EROFS)\n", argv[2]);
		nv_disk_close(&d);
		return -EROFS;
	}
	random_bytes(opts.uuid, sizeof(opts.uuid));
	rc = nanofs_format(&d.dev, &opts);
	nv_disk_close(&d);
	if (rc == -EINVAL && d.dev.blocks < NANOFS_MIN_BLOCKS) {
		sh_printf(sh, "format: %s: too small for nanofs (%llu KiB; at least 1 MiB)\n",
			  argv[2], (unsigned long long)d.dev.blocks * 4);
		return -EPERM;
	}
	if (rc) {
		sh_printf(sh, "format: %s: %s (see dmesg)\n", argv[2], errno_name(rc));
		return rc == -EINVAL ? -EPERM : rc;
	}
	sh_printf(sh, "formatted %s as nanofs (%llu blocks of 4 KiB)\n", argv[2],
		  (unsigned long long)MIN(d.dev.blocks, (u64)NANOFS_MAX_BLOCKS));
	return 0;
}
SHELL_CMD("format", "nanofs <disk>", "write an empty nanofs over a disk or partition", 2, 2,
	  cmd_format);

struct fsck_out {
	struct sh *sh;
};

static void fsck_line(void *arg, const char *msg)
{
	struct fsck_out *o = arg;

	sh_printf(o->sh, "%s\n", msg);
}

static int cmd_fsck(struct sh *sh, int argc, char **argv)
{
	struct fsck_out out = { sh };
	struct nv_disk d;
	int n, rc = cmd_disk_open(sh, &d, argv[1], "fsck");

	if (rc)
		return rc;
	n = nanofs_fsck(&d.dev, fsck_line, &out, false);
	nv_disk_close(&d);
	if (n == -EINTR) {
		sh_printf(sh, "fsck: %s: interrupted, not checked to the end\n", argv[1]);
		return n;
	}
	if (n < 0) {
		sh_printf(sh, "fsck: %s: cannot check: %s\n", argv[1], errno_name(n));
		return n == -EINVAL ? -EPERM : n;
	}
	if (n == 0)
		sh_printf(sh, "%s: clean\n", argv[1]);
	else
		sh_printf(sh, "%s: %d problem%s\n", argv[1], n, n == 1 ? "" : "s");
	return n ? -EIO : 0;
}
SHELL_CMD("fsck", "<disk>", "check a nanofs disk that is not mounted, changing nothing", 1, 1,
	  cmd_fsck);
