/*
 * vfs_vnode.c — the vnode cache: one vnode per (mount, inode) in use,
 * reference counted, with a small LRU of unused ones.
 *
 * A vnode lives in the hash while its inode exists and it is referenced
 * or cached.  References come from walks in progress, open files and
 * mounts (a mount holds its root and the directory it covers).  When the
 * last reference goes, the vnode moves to the LRU's tail; past
 * VFS_VNODE_CACHE unused vnodes the head is freed.  A dead vnode (its name
 * removed, see vnode_kill) is out of the hash already and is freed on its
 * last reference.  Freeing a vnode never calls its filesystem: the inode
 * belongs to the filesystem, the vnode only names it.
 *
 * Every mount counts the references to its vnodes (mount.active), so
 * umount can tell an idle mount from a busy one in one critical section,
 * and the same section clears the covering link so no walk enters after.
 *
 * Lock: vfs_cache_lock (see fs/vfs_fs.h) guards everything here; it is
 * never held across a call into a filesystem or the allocator.
 */
#include "fs/vfs_priv.h"
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "mm/kmalloc.h"

static spinlock_t vfs_cache_lock = SPINLOCK_INIT("vfs_cache");
static struct list_head hash[VFS_VNODE_HASH];       /* [C] */
static struct list_head lru = LIST_HEAD_INIT(lru);  /* [C] oldest first */
static unsigned lru_len;                            /* [C] */
static bool hash_ready;                             /* [C] */

static struct list_head *bucket(const struct mount *m, u64 ino)
{
	u64 h = ((u64)(uintptr_t)m >> 5) ^ ino * 0x9E3779B97F4A7C15ULL;

	return &hash[(h >> 32) & (VFS_VNODE_HASH - 1)];
}

static void hash_init_locked(void)
{
	if (hash_ready)
		return;
	for (unsigned i = 0; i < VFS_VNODE_HASH; i++)
		list_init(&hash[i]);
	hash_ready = true;
}

static struct vnode *find_locked(struct mount *m, u64 ino)
{
	struct vnode *vn;

	hash_init_locked();
	list_for_each_entry(vn, bucket(m, ino), hash_link)
		if (vn->mnt == m && vn->ino == ino)
			return vn;
	return NULL;
}

/* Take a reference under the lock, off the LRU if it was unused. */
static void ref_locked(struct vnode *vn)
{
	if (vn->refs++ == 0 && !list_empty(&vn->lru_link)) {
		list_del_init(&vn->lru_link);
		lru_len--;
	}
	vn->mnt->active++;
}

struct vnode *vnode_get(struct mount *m, const struct vfs_child *c)
{
	struct vnode *vn, *fresh;

	spin_lock(&vfs_cache_lock);
	vn = find_locked(m, c->ino);
	if (vn)
		ref_locked(vn);
	spin_unlock(&vfs_cache_lock);
	if (vn)
		return vn;
	fresh = kzalloc(sizeof(*fresh));
	if (!fresh)
		return NULL;
	fresh->mnt = m;
	fresh->ino = c->ino;
	fresh->priv = c->priv;
	fresh->type = c->type;
	list_init(&fresh->lru_link);
	/* The caller holds m->lock, so nobody else can have made it meanwhile. */
	spin_lock(&vfs_cache_lock);
	list_add(&fresh->hash_link, bucket(m, c->ino));
	fresh->hashed = true;
	ref_locked(fresh);
	spin_unlock(&vfs_cache_lock);
	return fresh;
}

void vnode_ref(struct vnode *vn)
{
	spin_lock(&vfs_cache_lock);
	BUG_ON(vn->refs == 0);
	ref_locked(vn);
	spin_unlock(&vfs_cache_lock);
}

/* Take @vn out of the hash (and the LRU); the caller frees it. */
static void unhash_locked(struct vnode *vn)
{
	if (vn->hashed) {
		list_del(&vn->hash_link);
		vn->hashed = false;
	}
	if (!list_empty(&vn->lru_link)) {
		list_del_init(&vn->lru_link);
		lru_len--;
	}
}

void vnode_put(struct vnode *vn)
{
	struct vnode *victim = NULL;

	if (!vn)
		return;
	spin_lock(&vfs_cache_lock);
	BUG_ON(vn->refs == 0);
	vn->mnt->active--;
	if (--vn->refs == 0) {
		if (!vn->hashed) {
			victim = vn;
		} else {
			list_add_tail(&vn->lru_link, &lru);
			if (++lru_len > VFS_VNODE_CACHE) {
				victim = list_first_entry(&lru, struct vnode, lru_link);
				unhash_locked(victim);
			}
		}
	}
	spin_unlock(&vfs_cache_lock);
	kfree(victim);
}

void vnode_kill(struct vnode *vn)
{
	vn->dead = true;
	spin_lock(&vfs_cache_lock);
	unhash_locked(vn);
	spin_unlock(&vfs_cache_lock);
}

struct vnode *vnode_cross(struct vnode *vn)
{
	for (;;) {
		struct vnode *root = NULL;

		spin_lock(&vfs_cache_lock);
		if (vn->mounted) {
			root = vn->mounted->root;
			ref_locked(root);
		}
		spin_unlock(&vfs_cache_lock);
		if (!root)
			return vn;
		vnode_put(vn);
		vn = root;
	}
}

bool vnode_is_mount_point(struct vnode *vn)
{
	bool covered;

	spin_lock(&vfs_cache_lock);
	covered = vn->mounted != NULL;
	spin_unlock(&vfs_cache_lock);
	return covered;
}

void vnode_set_mounted(struct vnode *vn, struct mount *m)
{
	spin_lock(&vfs_cache_lock);
	vn->mounted = m;
	spin_unlock(&vfs_cache_lock);
}

int vnode_detach_if_idle(struct mount *m, unsigned extra)
{
	int rc = -EBUSY;

	spin_lock(&vfs_cache_lock);
	/* the mount's own reference on its root, plus the caller's */
	if (m->active == 1 + extra) {
		m->covered->mounted = NULL;
		rc = 0;
	}
	spin_unlock(&vfs_cache_lock);
	return rc;
}

void vnode_evict_mount(struct mount *m)
{
	for (;;) {
		struct vnode *vn, *found = NULL;

		spin_lock(&vfs_cache_lock);
		list_for_each_entry(vn, &lru, lru_link) {
			if (vn->mnt == m) {
				found = vn;
				break;
			}
		}
		if (found)
			unhash_locked(found);
		spin_unlock(&vfs_cache_lock);
		if (!found)
			return;
		kfree(found);
	}
}
