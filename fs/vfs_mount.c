/*
 * vfs_mount.c — filesystem types, the mount table, and the boot-time
 * mounts.
 *
 * The registry is a small array of (name, ops); a filesystem registers
 * itself once and `mount TYPE ...` finds it by name, so a type that is not
 * built in (nanofs before its glue exists) is simply "not available",
 * with no special case anywhere.
 *
 * The mount table is a list in mount order, "/" first.  A mount holds
 * two vnode references: its root, and the directory it covers (whose
 * `mounted` link sends walks to the root).  Each mount also stores its
 * canonical path, for `mounts` and for the checks that refuse to rename
 * or remove a directory with a mount point at or below it.  Mount,
 * umount and rename hold vfs_mount_lock, so paths in the table never go
 * stale: the directories on a mount point's path cannot move under it.
 *
 * Umount is refused (-EBUSY) while anything but the mount itself and the
 * umount's own walk references a vnode of the mount, or while a mount
 * sits on one of its directories.  The idle check and the detach are one
 * critical section of the vnode cache (vnode_detach_if_idle), so a walk
 * racing with umount either got in first (and umount fails) or finds the
 * directory uncovered.
 *
 * Boot: vfs_init() registers the built-in types (ramfs and, when its glue
 * is linked, anything declared with vfs_register_fs() from an init hook
 * below), mounts ramfs at "/", then tries each `mount=<disk>:<path>[:ro]`
 * parameter as a nanofs volume; one that fails is reported and skipped.
 */
#include "fs/vfs_priv.h"
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/params.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

struct fs_type {
	const char *name;
	const struct fs_ops *ops;
};

static struct mutex vfs_mount_lock;
static bool mount_lock_ready;
static struct fs_type types[VFS_FS_TYPES_MAX];      /* [M] */
static unsigned ntypes;                             /* [M] */
static struct list_head mounts = LIST_HEAD_INIT(mounts); /* [M] mount order */
static struct mount *root_mount;                    /* [I] after vfs_init */

static void mount_lock_init(void)
{
	/* vfs_init runs once, before any other task can get here */
	if (!mount_lock_ready) {
		mutex_init(&vfs_mount_lock, "vfs_mount");
		mount_lock_ready = true;
	}
}

void vfs_mount_table_lock(void)
{
	mutex_lock(&vfs_mount_lock);
}

void vfs_mount_table_unlock(void)
{
	mutex_unlock(&vfs_mount_lock);
}

static const struct fs_type *type_find(const char *name)
{
	for (unsigned i = 0; i < ntypes; i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

static bool ops_complete(const struct fs_ops *o)
{
	const struct vnode_ops *v = o ? o->vnode_ops : NULL;

	return v && o->mount && o->unmount && o->sync && o->statfs && v->lookup && v->create &&
	       v->mkdir && v->read && v->write && v->truncate && v->unlink && v->rmdir &&
	       v->readdir && v->stat && v->rename;
}

int vfs_register_fs(const char *name, const struct fs_ops *ops)
{
	int rc = 0;

	if (!name || !*name || strlen(name) >= VFS_TYPE_NAME_MAX || !ops_complete(ops))
		return -EINVAL;
	mount_lock_init();
	vfs_mount_table_lock();
	if (type_find(name))
		rc = -EEXIST;
	else if (ntypes == VFS_FS_TYPES_MAX)
		rc = -ENOSPC;
	else
		types[ntypes++] = (struct fs_type){ name, ops };
	vfs_mount_table_unlock();
	if (!rc)
		pr_info("vfs: filesystem type %s registered", name);
	return rc;
}

int vfs_fs_needs_device(const char *type)
{
	const struct fs_type *t;
	int rc;

	vfs_mount_table_lock();
	t = type_find(type);
	rc = !t ? -ENODEV : t->ops->needs_device ? 1 : 0;
	vfs_mount_table_unlock();
	return rc;
}

struct vnode *vfs_root_get(void)
{
	BUG_ON(!root_mount);
	vnode_ref(root_mount->root);
	return root_mount->root;
}

bool vfs_mount_below(const char *canon)
{
	size_t n = strlen(canon);
	struct mount *m;

	list_for_each_entry(m, &mounts, link) {
		if (n == 1 && m->covered)
			return true; /* everything but "/" is below "/" */
		if (strncmp(m->path, canon, n) == 0 && m->path[n] == '/')
			return true;
	}
	return false;
}

static struct mount *mount_alloc(const struct fs_type *t, const char *device, unsigned flags,
				 const char *canon)
{
	struct mount *m = kzalloc(sizeof(*m));

	if (!m)
		return NULL;
	m->path = kmalloc(strlen(canon) + 1);
	if (!m->path) {
		kfree(m);
		return NULL;
	}
	strlcpy(m->path, canon, strlen(canon) + 1);
	mutex_init(&m->lock, "vfs_mount.fs");
	m->type = t->name;
	m->ops = t->ops;
	m->vops = t->ops->vnode_ops;
	strlcpy(m->device, device ? device : "", sizeof(m->device));
	m->flags = flags & VFS_MOUNT_RO;
	list_init(&m->link);
	return m;
}

static void mount_free(struct mount *m)
{
	kfree(m->path);
	kfree(m);
}

/* Ask the filesystem to set @m up and give it its root vnode. */
static int mount_start(struct mount *m)
{
	struct vfs_child root;
	int rc = m->ops->mount(m, &root);

	if (rc)
		return rc;
	if (root.type != VNODE_DIR) {
		rc = -EINVAL;
	} else {
		mutex_lock(&m->lock);
		m->root = vnode_get(m, &root);
		mutex_unlock(&m->lock);
		if (m->root)
			return 0;
		rc = -ENOMEM;
	}
	mutex_lock(&m->lock);
	m->ops->unmount(m);
	mutex_unlock(&m->lock);
	return rc;
}

/* Is @vn a mount's root (the target of some mount)? */
static bool is_mount_root(const struct vnode *vn)
{
	return vn == vn->mnt->root;
}

/* Mount @m on the directory @canon names; caller holds vfs_mount_lock. */
static int mount_attach(struct mount *m, const char *canon)
{
	struct vnode *dir;
	int rc = vfs_walk(canon, &dir);

	if (rc)
		return rc;
	if (dir->type != VNODE_DIR) {
		vnode_put(dir);
		return -ENOTDIR;
	}
	if (is_mount_root(dir)) {
		vnode_put(dir);
		return -EBUSY; /* already a mount point (or "/") */
	}
	rc = mount_start(m);
	if (rc) {
		vnode_put(dir);
		return rc;
	}
	/*
	 * Cover the directory under its filesystem's lock, the one a removal
	 * holds while it checks for a mount point: either the removal saw
	 * the mount, or we see that the directory is gone.
	 */
	mutex_lock(&dir->mnt->lock);
	if (!dir->dead)
		vnode_set_mounted(dir, m);
	mutex_unlock(&dir->mnt->lock);
	if (!vnode_is_mount_point(dir)) {
		mutex_lock(&m->lock);
		m->ops->unmount(m);
		mutex_unlock(&m->lock);
		vnode_put(m->root);
		vnode_evict_mount(m);
		vnode_put(dir);
		return -ENOENT;
	}
	m->covered = dir; /* the walk's reference becomes the mount's */
	m->parent = dir->mnt;
	m->parent->children++;
	list_add_tail(&m->link, &mounts);
	return 0;
}

#define LABEL_PREFIX "LABEL="

/*
 * A device given as LABEL=<label> is the one whose volume of type @t has
 * that label: replace *@device by its name (in @buf, VFS_DEVICE_MAX
 * bytes).  Any other name is left alone.  0, -EINVAL (the type cannot
 * find labels), -ENXIO, -EEXIST.
 */
static int resolve_label(const struct fs_type *t, const char **device, char *buf)
{
	const char *label = *device + strlen(LABEL_PREFIX);
	int rc;

	if (strncmp(*device, LABEL_PREFIX, strlen(LABEL_PREFIX)) != 0)
		return 0;
	if (!t->ops->find_label || !*label)
		return -EINVAL;
	rc = t->ops->find_label(label, buf, VFS_DEVICE_MAX);
	if (rc == 0) {
		pr_info("vfs: %s is %s", *device, buf);
		*device = buf;
	} else if (rc == -ENXIO) {
		pr_err("vfs: no %s volume is labelled '%s'", t->name, label);
	}
	return rc;
}

int vfs_mount(const char *type, const char *device, const char *path, unsigned flags)
{
	const struct fs_type *t;
	struct mount *m = NULL;
	char *canon = kmalloc(VFS_PATH_MAX);
	char labelled[VFS_DEVICE_MAX];
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = vfs_path_canon(path, canon, VFS_PATH_MAX, NULL);
	if (rc)
		goto out_free_canon;
	vfs_mount_table_lock();
	t = type_find(type);
	rc = -ENODEV;
	if (!t)
		goto out_unlock;
	rc = -EINVAL;
	if (t->ops->needs_device && (!device || !*device))
		goto out_unlock;
	if (t->ops->needs_device && (rc = resolve_label(t, &device, labelled)))
		goto out_unlock;
	rc = -ENOMEM;
	m = mount_alloc(t, t->ops->needs_device ? device : NULL, flags, canon);
	if (!m)
		goto out_unlock;
	rc = mount_attach(m, canon);
	if (rc)
		mount_free(m);
	else
		pr_info("vfs: mounted %s%s%s on %s%s", t->name, m->device[0] ? " " : "", m->device,
			m->path, vfs_readonly(m) ? " (read-only)" : "");
out_unlock:
	vfs_mount_table_unlock();
out_free_canon:
	kfree(canon);
	return rc;
}

/* Take @m apart once it is detached; caller holds vfs_mount_lock. */
static int mount_teardown(struct mount *m)
{
	int rc;

	mutex_lock(&m->lock);
	rc = vfs_readonly(m) ? 0 : m->ops->sync(m);
	if (m->ops->unmount(m) && !rc)
		rc = -EIO;
	mutex_unlock(&m->lock);
	list_del(&m->link);
	m->parent->children--;
	vnode_put(m->root);
	vnode_evict_mount(m);
	BUG_ON(m->active != 0);
	vnode_put(m->covered);
	if (rc)
		pr_err("vfs: %s on %s unmounted with error %s", m->type, m->path, errno_name(rc));
	else
		pr_info("vfs: unmounted %s from %s", m->type, m->path);
	mount_free(m);
	return rc;
}

int vfs_umount(const char *path)
{
	struct vnode *vn;
	struct mount *m;
	int rc;

	vfs_mount_table_lock();
	rc = vfs_walk(path, &vn);
	if (rc)
		goto out_unlock;
	m = vn->mnt;
	if (!is_mount_root(vn))
		rc = -EINVAL;
	else if (!m->covered || m->children)
		rc = -EBUSY;
	else
		rc = vnode_detach_if_idle(m, 1);
	vnode_put(vn);
	if (!rc)
		rc = mount_teardown(m);
out_unlock:
	vfs_mount_table_unlock();
	return rc;
}

int vfs_mount_info(unsigned idx, struct vfs_mount_info *info, char *path, size_t cap)
{
	struct mount *m, *found = NULL;
	unsigned i = 0;

	vfs_mount_table_lock();
	list_for_each_entry(m, &mounts, link) {
		if (i++ == idx) {
			found = m;
			break;
		}
	}
	if (found) {
		memset(info, 0, sizeof(*info));
		strlcpy(info->type, found->type, sizeof(info->type));
		strlcpy(info->device, found->device, sizeof(info->device));
		strlcpy(path, found->path, cap);
		info->flags = found->flags;
		mutex_lock(&found->lock);
		info->statfs_rc = found->ops->statfs(found, &info->st);
		mutex_unlock(&found->lock);
	}
	vfs_mount_table_unlock();
	return found ? 0 : -ENOENT;
}

int vfs_sync_all(void)
{
	struct mount *m;
	int first = 0;

	vfs_mount_table_lock();
	list_for_each_entry(m, &mounts, link) {
		int rc;

		if (vfs_readonly(m))
			continue;
		mutex_lock(&m->lock);
		rc = m->ops->sync(m);
		mutex_unlock(&m->lock);
		if (rc) {
			pr_err("vfs: sync of %s on %s failed: %s", m->type, m->path, errno_name(rc));
			if (!first)
				first = rc;
		}
	}
	vfs_mount_table_unlock();
	return first;
}

/* ------------------------------------------------------------- boot */

KPARAM_MULTI(mount, "mount", NULL,
	     "mount=<disk>:<path>[:ro] mounts a nanofs volume at boot (repeatable); "
	     "<disk> may be LABEL=<label>");

/*
 * Split "<disk>:<path>[:ro]" into its parts (in @buf, @cap bytes).
 * 0 or -EINVAL.
 */
int vfs_parse_mount_param(const char *spec, char *buf, size_t cap, const char **disk,
			  const char **path, bool *ro)
{
	char *colon, *last;

	if (strlcpy(buf, spec, cap) >= cap)
		return -EINVAL;
	colon = strchr(buf, ':');
	if (!colon || colon == buf || colon[1] != '/')
		return -EINVAL;
	*colon = '\0';
	*disk = buf;
	*path = colon + 1;
	*ro = false;
	last = strrchr(colon + 1, ':');
	if (last) {
		if (strcmp(last, ":ro") != 0)
			return -EINVAL;
		*last = '\0';
		*ro = true;
	}
	return strlen(*disk) < VFS_DEVICE_MAX ? 0 : -EINVAL;
}

#ifdef NOS_KERNEL
/*
 * Make the directory @path in @buf (@cap bytes) and every missing parent
 * (the root ramfs is empty at boot, so mount=vda:/srv/data needs /srv too).
 * Returns how many were made, the deepest last (0: it was there already),
 * and leaves @buf holding @path.
 */
static int make_mount_point(const char *path, char *buf, size_t cap)
{
	int made = 0;

	if (strlcpy(buf, path, cap) >= cap)
		return 0;
	for (char *p = buf + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (p[-1] != '/' && vfs_stat(buf, NULL) == -ENOENT && vfs_mkdir(buf) == 0)
			made++;
		*p = c;
		if (!c)
			return made;
	}
}

/* Take away the @made deepest directories of @buf that make_mount_point() made. */
static void unmake_mount_point(char *buf, int made)
{
	while (made-- > 0) {
		char *slash;

		vfs_remove(buf);
		while ((slash = strrchr(buf, '/')) && slash[1] == '\0' && slash != buf)
			*slash = '\0';            /* a trailing slash is no component */
		if (!(slash = strrchr(buf, '/')) || slash == buf)
			return;
		*slash = '\0';
	}
}
#endif

static void vfs_mount_params(void)
{
#ifdef NOS_KERNEL /* the host tests have no kernel command line */
	const char *spec;

	for (unsigned i = 0; (spec = param_get_nth("mount", i)) != NULL; i++) {
		const char *disk, *path;
		char buf[160], dirs[160];
		bool ro;
		int made;
		int rc = vfs_parse_mount_param(spec, buf, sizeof(buf), &disk, &path, &ro);

		if (rc) {
			pr_err("vfs: mount=%s: expected mount=<disk>:<path>[:ro]; ignored", spec);
			continue;
		}
		/* the root ramfs is empty at boot: make the mount point and its
		 * parents (and take them away again when the mount fails) */
		made = make_mount_point(path, dirs, sizeof(dirs));
		rc = vfs_mount("nanofs", disk, path, ro ? VFS_MOUNT_RO : 0);
		if (rc)
			unmake_mount_point(dirs, made);
		if (rc == -ENODEV)
			pr_err("vfs: mount=%s: filesystem type nanofs is not available; boot goes on",
			       spec);
		else if (rc)
			pr_err("vfs: mount=%s: cannot mount %s on %s: %s; boot goes on", spec, disk,
			       path, errno_name(rc));
	}
#endif
}

/* Mount the root ramfs: the one mount without a covered directory. */
static int vfs_mount_root(void)
{
	const struct fs_type *t = type_find("ramfs");
	struct mount *m;
	int rc;

	if (!t)
		return -ENODEV;
	m = mount_alloc(t, NULL, 0, "/");
	if (!m)
		return -ENOMEM;
	rc = mount_start(m);
	if (rc) {
		mount_free(m);
		return rc;
	}
	list_add_tail(&m->link, &mounts);
	root_mount = m;
	return 0;
}

/* Filesystem types whose glue is linked in register here (weak: absent). */
__attribute__((weak)) void nanofs_vfs_register(void)
{
}

void vfs_init(void)
{
	int rc;

	mount_lock_init();
	if (root_mount)
		return; /* the host tests call it once per test */
	rc = ramfs_register();
	if (rc && rc != -EEXIST)
		panic("vfs: cannot register ramfs: %s", errno_name(rc));
	nanofs_vfs_register();
	vfs_mount_table_lock();
	rc = vfs_mount_root();
	vfs_mount_table_unlock();
	if (rc)
		panic("vfs: cannot mount the root ramfs: %s", errno_name(rc));
	pr_info("vfs: ramfs mounted on /");
	vfs_mount_params();
}
