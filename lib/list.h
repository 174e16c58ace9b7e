/*
 * list.h — intrusive, circular, doubly linked lists.
 *
 * An object joins a list by embedding a struct list_head; the list itself
 * is one more struct list_head that owns no object.  Every node points to
 * its neighbours and the chain closes through the head, so an empty list is
 * a head whose next and prev point to itself, and adding or removing never
 * needs a special case for the ends.  list_entry() (container_of) goes from
 * the embedded node back to the object.
 *
 * Rules:
 *  - A head must be initialised (list_init() or LIST_HEAD_INIT) before use.
 *  - A node is on at most one list at a time through one list_head; an
 *    object on several lists embeds several list_heads.
 *  - list_del() poisons the removed node: its links become non-canonical
 *    addresses, so following them after the delete faults at once instead of
 *    walking freed memory.  list_del_init() leaves the node self-linked
 *    instead, for code that deletes a node twice or asks list_empty() of a
 *    node whether it is linked.
 *  - Deleting checks the neighbours first: a node whose neighbours do not
 *    point back at it, or one already deleted, is corruption, reported
 *    through list_corrupted() (the kernel panics with the node's address;
 *    host tests fail) before anything more is overwritten.
 *  - Removing the current node while walking needs list_for_each_safe() /
 *    list_for_each_entry_safe(); removing any other node during a walk does
 *    not work with either form.
 *  - No locking: the owner of the list serialises all access.
 *  - The list never allocates or frees; the objects' owner does.
 */
#ifndef NOS_LIB_LIST_H
#define NOS_LIB_LIST_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

struct list_head {
	struct list_head *next;
	struct list_head *prev;
};

/* What a deleted node's links hold: non-canonical, so any use faults. */
#define LIST_POISON_NEXT ((struct list_head *)0xdead000000000100ULL)
#define LIST_POISON_PREV ((struct list_head *)0xdead000000000200ULL)

/* Report a corrupted list around @node (@what says how); never returns.
 * Provided by the environment: kernel/panic.c, and the host test runner. */
__noreturn void list_corrupted(const struct list_head *node, const char *what);

/* Static initialiser: struct list_head h = LIST_HEAD_INIT(h); */
#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void list_init(struct list_head *head)
{
	head->next = head;
	head->prev = head;
}

/* Link @node between the adjacent nodes @prev and @next. */
static inline void list_link_(struct list_head *node, struct list_head *prev,
			      struct list_head *next)
{
	node->prev = prev;
	node->next = next;
	prev->next = node;
	next->prev = node;
}

/* Insert @node right after @head: the front of the list (stack order). */
static inline void list_add(struct list_head *node, struct list_head *head)
{
	list_link_(node, head, head->next);
}

/* Insert @node right before @head: the back of the list (queue order). */
static inline void list_add_tail(struct list_head *node, struct list_head *head)
{
	list_link_(node, head->prev, head);
}

/* Take @node out of its list after checking that its neighbours agree. */
static inline void list_unlink_(struct list_head *node)
{
	if (node->next == LIST_POISON_NEXT || node->prev == LIST_POISON_PREV)
		list_corrupted(node, "deleted twice");
	if (node->next->prev != node || node->prev->next != node)
		list_corrupted(node, "neighbours do not point back at it");
	node->prev->next = node->next;
	node->next->prev = node->prev;
}

/* Unlink @node from whatever list holds it and poison its links. */
static inline void list_del(struct list_head *node)
{
	list_unlink_(node);
	node->next = LIST_POISON_NEXT;
	node->prev = LIST_POISON_PREV;
}

/* Unlink @node and leave it self-linked (an empty list of its own). */
static inline void list_del_init(struct list_head *node)
{
	list_unlink_(node);
	list_init(node);
}

/* True when the list @head has no nodes (or the node @head is unlinked). */
static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

/* True when the list has exactly one node. */
static inline bool list_is_singular(const struct list_head *head)
{
	return !list_empty(head) && head->next == head->prev;
}

/* Move @node from its list to the front / back of @head. */
static inline void list_move(struct list_head *node, struct list_head *head)
{
	list_unlink_(node);
	list_add(node, head);
}

static inline void list_move_tail(struct list_head *node, struct list_head *head)
{
	list_unlink_(node);
	list_add_tail(node, head);
}

/* Move every node of @from to the back of @to, leaving @from empty. */
static inline void list_splice_tail_init(struct list_head *from, struct list_head *to)
{
	if (list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	list_init(from);
}

/* Number of nodes; walks the whole list. */
static inline size_t list_count(const struct list_head *head)
{
	const struct list_head *p;
	size_t n = 0;

	for (p = head->next; p != head; p = p->next)
		n++;
	return n;
}

/* The object of type @type whose member @member is the node @ptr. */
#define list_entry(ptr, type, member) container_of(ptr, type, member)

/* First / last object on a list that must not be empty. */
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) list_entry((head)->prev, type, member)

/* Iterate the nodes: @pos is a struct list_head *. */
#define list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* As list_for_each(), but @pos may be deleted; @tmp is scratch. */
#define list_for_each_safe(pos, tmp, head)                                     \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);       \
	     (pos) = (tmp), (tmp) = (pos)->next)

/* Iterate the objects: @pos is a pointer to the containing type. */
#define list_for_each_entry(pos, head, member)                                 \
	for ((pos) = list_entry((head)->next, __typeof__(*(pos)), member);     \
	     &(pos)->member != (head);                                         \
	     (pos) = list_entry((pos)->member.next, __typeof__(*(pos)), member))

/* As list_for_each_entry(), but @pos may be deleted; @tmp is scratch. */
#define list_for_each_entry_safe(pos, tmp, head, member)                       \
	for ((pos) = list_entry((head)->next, __typeof__(*(pos)), member),     \
	     (tmp) = list_entry((pos)->member.next, __typeof__(*(pos)), member); \
	     &(pos)->member != (head);                                         \
	     (pos) = (tmp),                                                    \
	     (tmp) = list_entry((tmp)->member.next, __typeof__(*(pos)), member))

#endif
