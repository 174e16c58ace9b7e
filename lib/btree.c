/*
 * btree.c — the B-tree behind btree.h.
 *
 * Shape.  With minimum degree T, every node but the root holds between T-1
 * and 2T-1 keys, the root between 1 and 2T-1, an internal node with n keys
 * has n+1 children, and all leaves are at the same depth.  Within a node the
 * keys are sorted; child[i] holds exactly the keys between keys[i-1] and
 * keys[i].  Each key's value sits beside it (vals[i]), internal nodes
 * included.  Leaves are allocated without the child array, which they never
 * use; a node never changes between leaf and internal.
 *
 * Both updates work top-down, in one pass from the root, so no node needs a
 * parent pointer and no step ever has to walk back up.
 *
 * Insert: before stepping into a full child, split it around its median key
 * (the median moves up into the parent, which is known not to be full
 * because the same rule was applied to it).  The key then always lands in a
 * leaf with room.  A full root is split by giving it a new parent first —
 * the only way the tree grows taller.  Splits happen before the key is
 * placed; if an allocation fails half way, the splits already done are
 * ordinary splits of a valid tree and the key is simply not added.
 *
 * Remove: before stepping into a child, make sure it holds at least T keys,
 * so that taking one key out of it later cannot underflow it.  A child with
 * only T-1 keys borrows one through the parent from a sibling that has T
 * or more, or else is merged with a sibling and the parent key between
 * them.  A key found in an internal node is replaced by its predecessor
 * (or successor) from a child that can spare a key, and that key is then
 * removed from the child; when neither neighbour child can spare one, the
 * two are merged around the key and the removal continues in the merged
 * node.  When a merge empties the root, its only child becomes the root —
 * the only way the tree grows shorter.
 */
#include "lib/btree.h"
#include "lib/string.h"
#include "compiler.h"
#include "errno.h"

/* Minimum degree; a build may lower it (-DBTREE_T=2) to stress rebalancing. */
#ifndef BTREE_T
#define BTREE_T 8
#endif
#define BTREE_MAX_KEYS (2 * BTREE_T - 1)

struct btree_node {
	u32 nkeys;
	bool leaf;
	u64 keys[BTREE_MAX_KEYS];
	void *vals[BTREE_MAX_KEYS];
	struct btree_node *child[BTREE_MAX_KEYS + 1]; /* internal nodes only */
};

#define BTREE_LEAF_BYTES offsetof(struct btree_node, child)

/* ---- nodes -------------------------------------------------------------- */

static struct btree_node *node_alloc(struct btree *t, bool leaf)
{
	size_t size = leaf ? BTREE_LEAF_BYTES : sizeof(struct btree_node);
	struct btree_node *n = t->alloc->alloc(t->alloc->ctx, size);

	if (n) {
		n->nkeys = 0;
		n->leaf = leaf;
	}
	return n;
}

static void node_free(struct btree *t, struct btree_node *n)
{
	t->alloc->free(t->alloc->ctx, n);
}

/* Index of the first key >= @key in @n (n->nkeys when there is none). */
static u32 node_search(const struct btree_node *n, u64 key)
{
	u32 lo = 0, hi = n->nkeys;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (n->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Open a gap at key index @i (and child index @i + 1 when internal). */
static void node_open_gap(struct btree_node *n, u32 i)
{
	u32 tail = n->nkeys - i;

	memmove(&n->keys[i + 1], &n->keys[i], tail * sizeof(n->keys[0]));
	memmove(&n->vals[i + 1], &n->vals[i], tail * sizeof(n->vals[0]));
	if (!n->leaf)
		memmove(&n->child[i + 2], &n->child[i + 1], tail * sizeof(n->child[0]));
	n->nkeys++;
}

/* Close the gap at key index @i, dropping child @i + 1 when internal. */
static void node_close_gap(struct btree_node *n, u32 i)
{
	u32 tail = n->nkeys - i - 1;

	memmove(&n->keys[i], &n->keys[i + 1], tail * sizeof(n->keys[0]));
	memmove(&n->vals[i], &n->vals[i + 1], tail * sizeof(n->vals[0]));
	if (!n->leaf)
		memmove(&n->child[i + 1], &n->child[i + 2], tail * sizeof(n->child[0]));
	n->nkeys--;
}

/* Copy keys [@from, @from + @count) of @src to index @to of @dst (no overlap). */
static void node_copy_keys(struct btree_node *dst, u32 to,
			   const struct btree_node *src, u32 from, u32 count)
{
	memcpy(&dst->keys[to], &src->keys[from], count * sizeof(src->keys[0]));
	memcpy(&dst->vals[to], &src->vals[from], count * sizeof(src->vals[0]));
}

static void node_copy_children(struct btree_node *dst, u32 to,
			       const struct btree_node *src, u32 from, u32 count)
{
	memcpy(&dst->child[to], &src->child[from], count * sizeof(src->child[0]));
}

/* ---- lookups ------------------------------------------------------------ */

void btree_init(struct btree *t, const struct lib_allocator *alloc)
{
	t->root = NULL;
	t->count = 0;
	t->alloc = alloc ? alloc : &lib_default_allocator;
}

int btree_lookup(const struct btree *t, u64 key, void **val)
{
	const struct btree_node *n = t->root;

	while (n) {
		u32 i = node_search(n, key);

		if (i < n->nkeys && n->keys[i] == key) {
			if (val)
				*val = n->vals[i];
			return 0;
		}
		n = n->leaf ? NULL : n->child[i];
	}
	return -ENOENT;
}

int btree_lower_bound(const struct btree *t, u64 key, u64 *found, void **val)
{
	const struct btree_node *n = t->root, *best = NULL;
	u32 best_i = 0;

	/* Keys met deeper are smaller than the candidate above them. */
	while (n) {
		u32 i = node_search(n, key);

		if (i < n->nkeys) {
			best = n;
			best_i = i;
			if (n->keys[i] == key)
				break;
		}
		n = n->leaf ? NULL : n->child[i];
	}
	if (!best)
		return -ENOENT;
	if (found)
		*found = best->keys[best_i];
	if (val)
		*val = best->vals[best_i];
	return 0;
}

static int iterate_node(const struct btree_node *n, u64 from, btree_visit_fn fn,
			void *arg)
{
	u32 i;
	int rc;

	for (i = node_search(n, from); i <= n->nkeys; i++) {
		if (!n->leaf) {
			rc = iterate_node(n->child[i], from, fn, arg);
			if (rc)
				return rc;
		}
		if (i < n->nkeys) {
			rc = fn(arg, n->keys[i], n->vals[i]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int btree_iterate(const struct btree *t, u64 from, btree_visit_fn fn, void *arg)
{
	return t->root ? iterate_node(t->root, from, fn, arg) : 0;
}

/* ---- insert ------------------------------------------------------------- */

/*
 * Split the full child @i of @parent (which has room) around its median:
 * the upper half moves to a new right sibling and the median up into
 * @parent.  Returns 0 or -ENOMEM, in which case nothing changed.
 */
static int split_child(struct btree *t, struct btree_node *parent, u32 i)
{
	struct btree_node *left = parent->child[i];
	struct btree_node *right = node_alloc(t, left->leaf);

	if (!right)
		return -ENOMEM;
	node_copy_keys(right, 0, left, BTREE_T, BTREE_T - 1);
	if (!left->leaf)
		node_copy_children(right, 0, left, BTREE_T, BTREE_T);
	right->nkeys = BTREE_T - 1;
	node_open_gap(parent, i);
	parent->keys[i] = left->keys[BTREE_T - 1];
	parent->vals[i] = left->vals[BTREE_T - 1];
	parent->child[i + 1] = right;
	left->nkeys = BTREE_T - 1;
	return 0;
}

/* Give a full root a new parent and split it; the tree grows one level. */
static int grow_root(struct btree *t)
{
	struct btree_node *root = node_alloc(t, false);
	int err;

	if (!root)
		return -ENOMEM;
	root->child[0] = t->root;
	err = split_child(t, root, 0);
	if (err) {
		node_free(t, root);
		return err;
	}
	t->root = root;
	return 0;
}

/* Insert into the subtree at @n, which is not full; @key is not present. */
static int insert_nonfull(struct btree *t, struct btree_node *n, u64 key, void *val)
{
	u32 i = node_search(n, key);

	while (!n->leaf) {
		if (n->child[i]->nkeys == BTREE_MAX_KEYS) {
			int err = split_child(t, n, i);

			if (err)
				return err;
			if (key > n->keys[i])
				i++;
		}
		n = n->child[i];
		i = node_search(n, key);
	}
	node_open_gap(n, i);
	n->keys[i] = key;
	n->vals[i] = val;
	return 0;
}

int btree_insert(struct btree *t, u64 key, void *val)
{
	int err;

	if (btree_lookup(t, key, NULL) == 0)
		return -EEXIST;
	if (!t->root) {
		t->root = node_alloc(t, true);
		if (!t->root)
			return -ENOMEM;
	}
	if (t->root->nkeys == BTREE_MAX_KEYS) {
		err = grow_root(t);
		if (err)
			return err;
	}
	err = insert_nonfull(t, t->root, key, val);
	if (err)
		return err;
	t->count++;
	return 0;
}

/* ---- remove ------------------------------------------------------------- */

/* Move one key from child @i-1 through the parent into child @i. */
static void borrow_from_left(struct btree_node *parent, u32 i)
{
	struct btree_node *c = parent->child[i];
	struct btree_node *l = parent->child[i - 1];

	node_open_gap(c, 0); /* frees key slot 0 and child slot 1 */
	c->keys[0] = parent->keys[i - 1];
	c->vals[0] = parent->vals[i - 1];
	if (!c->leaf) {
		c->child[1] = c->child[0];
		c->child[0] = l->child[l->nkeys];
	}
	parent->keys[i - 1] = l->keys[l->nkeys - 1];
	parent->vals[i - 1] = l->vals[l->nkeys - 1];
	l->nkeys--;
}

/* Move one key from child @i+1 through the parent into child @i. */
static void borrow_from_right(struct btree_node *parent, u32 i)
{
	struct btree_node *c = parent->child[i];
	struct btree_node *r = parent->child[i + 1];

	c->keys[c->nkeys] = parent->keys[i];
	c->vals[c->nkeys] = parent->vals[i];
	if (!c->leaf)
		c->child[c->nkeys + 1] = r->child[0];
	c->nkeys++;
	parent->keys[i] = r->keys[0];
	parent->vals[i] = r->vals[0];
	if (!r->leaf)
		r->child[0] = r->child[1];
	node_close_gap(r, 0); /* drops key 0 and child slot 1 */
}

/*
 * Merge child @i+1 and the parent's key @i into child @i, and free child
 * @i+1.  Both children hold T-1 keys, so the result holds 2T-1.
 */
static void merge_children(struct btree *t, struct btree_node *parent, u32 i)
{
	struct btree_node *l = parent->child[i];
	struct btree_node *r = parent->child[i + 1];

	l->keys[l->nkeys] = parent->keys[i];
	l->vals[l->nkeys] = parent->vals[i];
	node_copy_keys(l, l->nkeys + 1, r, 0, r->nkeys);
	if (!l->leaf)
		node_copy_children(l, l->nkeys + 1, r, 0, r->nkeys + 1);
	l->nkeys += 1 + r->nkeys;
	node_close_gap(parent, i);
	node_free(t, r);
}

/*
 * Make sure child @i of @parent holds at least T keys before the removal
 * descends into it.  Returns the index of the child to descend into, which
 * moves left by one when the child was merged into its left sibling.
 */
static u32 fill_child(struct btree *t, struct btree_node *parent, u32 i)
{
	if (parent->child[i]->nkeys >= BTREE_T)
		return i;
	if (i > 0 && parent->child[i - 1]->nkeys >= BTREE_T) {
		borrow_from_left(parent, i);
		return i;
	}
	if (i < parent->nkeys && parent->child[i + 1]->nkeys >= BTREE_T) {
		borrow_from_right(parent, i);
		return i;
	}
	if (i < parent->nkeys) {
		merge_children(t, parent, i);
		return i;
	}
	merge_children(t, parent, i - 1);
	return i - 1;
}

/* Largest (@rightmost) or smallest entry of the subtree at @n. */
static void subtree_edge(const struct btree_node *n, bool rightmost, u32 *out_i,
			 const struct btree_node **out_n)
{
	while (!n->leaf)
		n = n->child[rightmost ? n->nkeys : 0];
	*out_n = n;
	*out_i = rightmost ? n->nkeys - 1 : 0;
}

/*
 * @key sits at index @i of the internal node @n.  Replace it with its
 * neighbour from a child that can spare a key, or merge the two children
 * around it.  Returns the node to continue in and updates *@key to the key
 * that must now be removed there.
 */
static struct btree_node *remove_internal(struct btree *t, struct btree_node *n,
					  u32 i, u64 *key)
{
	const struct btree_node *src;
	u32 si;

	if (n->child[i]->nkeys >= BTREE_T || n->child[i + 1]->nkeys >= BTREE_T) {
		bool left = n->child[i]->nkeys >= BTREE_T;

		subtree_edge(n->child[left ? i : i + 1], left, &si, &src);
		n->keys[i] = src->keys[si];
		n->vals[i] = src->vals[si];
		*key = src->keys[si];
		return n->child[left ? i : i + 1];
	}
	merge_children(t, n, i);
	return n->child[i];
}

/* Remove @key, which is present, from the subtree at the root. */
static void remove_present(struct btree *t, u64 key)
{
	struct btree_node *n = t->root;

	for (;;) {
		u32 i = node_search(n, key);
		bool here = i < n->nkeys && n->keys[i] == key;

		if (n->leaf) {
			if (here) /* always, unless the tree is corrupt */
				node_close_gap(n, i);
			return;
		}
		if (here)
			n = remove_internal(t, n, i, &key);
		else
			n = n->child[fill_child(t, n, i)];
	}
}

/* Drop an emptied root: its only child takes over, or the tree is empty. */
static void shrink_root(struct btree *t)
{
	struct btree_node *old = t->root;

	if (old->nkeys)
		return;
	t->root = old->leaf ? NULL : old->child[0];
	node_free(t, old);
}

int btree_remove(struct btree *t, u64 key, void **val)
{
	void *v;

	if (btree_lookup(t, key, &v))
		return -ENOENT;
	if (val)
		*val = v;
	remove_present(t, key);
	shrink_root(t);
	t->count--;
	return 0;
}

/* ---- teardown and checking --------------------------------------------- */

static void destroy_node(struct btree *t, struct btree_node *n,
			 btree_visit_fn free_val, void *arg)
{
	u32 i;

	for (i = 0; i <= n->nkeys; i++) {
		if (!n->leaf)
			destroy_node(t, n->child[i], free_val, arg);
		if (i < n->nkeys && free_val)
			free_val(arg, n->keys[i], n->vals[i]);
	}
	node_free(t, n);
}

void btree_destroy(struct btree *t, btree_visit_fn free_val, void *arg)
{
	if (t->root)
		destroy_node(t, t->root, free_val, arg);
	t->root = NULL;
	t->count = 0;
}

/* What check_node() carries down the tree and back. */
struct btree_walk {
	int leaf_depth; /* depth of the first leaf met, -1 before that */
	size_t keys;    /* keys counted so far */
};

/*
 * Check the subtree at @n at @depth, whose keys must lie strictly between
 * *@lo and *@hi (a NULL bound is open).
 */
static int check_node(const struct btree_node *n, bool root, int depth,
		      const u64 *lo, const u64 *hi, struct btree_walk *w)
{
	u32 i;

	if (n->nkeys > BTREE_MAX_KEYS || n->nkeys < (root ? 1u : BTREE_T - 1u))
		return -EINVAL;
	for (i = 0; i < n->nkeys; i++) {
		if ((i > 0 && n->keys[i - 1] >= n->keys[i]) ||
		    (lo && n->keys[i] <= *lo) || (hi && n->keys[i] >= *hi))
			return -EINVAL;
	}
	w->keys += n->nkeys;
	if (n->leaf) {
		if (w->leaf_depth < 0)
			w->leaf_depth = depth;
		return w->leaf_depth == depth ? 0 : -EINVAL;
	}
	for (i = 0; i <= n->nkeys; i++) {
		const u64 *clo = i > 0 ? &n->keys[i - 1] : lo;
		const u64 *chi = i < n->nkeys ? &n->keys[i] : hi;
		int err;

		if (!n->child[i])
			return -EINVAL;
		err = check_node(n->child[i], false, depth + 1, clo, chi, w);
		if (err)
			return err;
	}
	return 0;
}

int btree_check(const struct btree *t)
{
	struct btree_walk w = { .leaf_depth = -1, .keys = 0 };
	int err;

	if (!t->root)
		return t->count == 0 ? 0 : -EINVAL;
	err = check_node(t->root, true, 0, NULL, NULL, &w);
	if (err)
		return err;
	return w.keys == t->count ? 0 : -EINVAL;
}
