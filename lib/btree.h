/*
 * btree.h — an ordered map from u64 keys to void * values, kept in a B-tree.
 *
 * Why a B-tree: lookups, inserts and removals are O(log n) with a small
 * height (each node holds up to 15 keys), nodes are a few hundred bytes so
 * they come from the kernel's pool allocator, and keys can be walked in
 * order from any starting point — which a hash table cannot do.
 *
 * Keys are unique.  Values are opaque: the tree stores the pointer and never
 * dereferences it; NULL is a valid value.  The tree owns its nodes, the
 * caller owns the values (btree_destroy() hands each one back).
 *
 * Memory: nodes come from the struct lib_allocator given to btree_init()
 * (lib_default_allocator, i.e. lib_alloc()/lib_free(), when NULL).  Only
 * btree_insert() allocates; when an allocation fails it returns -ENOMEM and
 * the tree is still a valid tree holding exactly what it held before.
 * Removal never allocates and so never fails for want of memory.
 *
 * Concurrency: none.  The caller serialises every call on one tree,
 * lookups included if a writer may run at the same time.  A callback passed
 * to btree_iterate() must not modify the tree.
 */
#ifndef NOS_LIB_BTREE_H
#define NOS_LIB_BTREE_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"
#include "lib/alloc.h"

struct btree_node;

struct btree {
	struct btree_node *root;            /* NULL when empty */
	size_t count;                       /* number of keys */
	const struct lib_allocator *alloc;  /* where nodes come from */
};

/*
 * Visitor for btree_iterate() and btree_destroy(): return 0 to continue,
 * anything else to stop (btree_destroy() ignores the result).
 */
typedef int (*btree_visit_fn)(void *arg, u64 key, void *val);

/* Make @t an empty tree that allocates through @alloc (NULL: lib_alloc). */
void btree_init(struct btree *t, const struct lib_allocator *alloc);

/*
 * Add @key -> @val.  Returns 0, -EEXIST when @key is already present (the
 * old value is kept), or -ENOMEM (the tree is unchanged).
 */
int btree_insert(struct btree *t, u64 key, void *val);

/*
 * Find @key.  Returns 0 and stores its value in *@val (if @val is not
 * NULL), or -ENOENT.
 */
int btree_lookup(const struct btree *t, u64 key, void **val);

/*
 * Remove @key.  Returns 0 and stores the removed value in *@val (if @val is
 * not NULL), or -ENOENT.  The value is the caller's to free.
 */
int btree_remove(struct btree *t, u64 key, void **val);

/* Number of keys in the tree. */
static inline size_t btree_count(const struct btree *t)
{
	return t->count;
}

/*
 * Find the smallest key >= @key.  Returns 0 and stores it in *@found and
 * its value in *@val (either pointer may be NULL), or -ENOENT when every
 * key is smaller.
 */
int btree_lower_bound(const struct btree *t, u64 key, u64 *found, void **val);

/*
 * Call @fn(@arg, key, value) for every key >= @from in ascending order.
 * Stops early when @fn returns non-zero and returns that value; returns 0
 * after visiting everything.
 */
int btree_iterate(const struct btree *t, u64 from, btree_visit_fn fn, void *arg);

/*
 * Free every node, first calling @free_val(@arg, key, value) for each entry
 * when @free_val is not NULL.  Leaves @t empty and ready for reuse.
 */
void btree_destroy(struct btree *t, btree_visit_fn free_val, void *arg);

/*
 * Verify the B-tree invariants: key order inside nodes and between
 * subtrees, fill limits of every node, all leaves at one depth, and
 * @t->count.  Returns 0, or -EINVAL at the first violation.  For tests and
 * debugging; it visits every node.
 */
int btree_check(const struct btree *t);

#endif
