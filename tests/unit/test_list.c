/*
 * test_list.c — lib/list.h: order of insertion at both ends, deletion
 * during iteration, moves between lists, and a random mix of operations
 * checked against an array model of the list's order.
 */
#include "lib/ktest.h"
#include "lib/list.h"

struct item {
	int id;
	struct list_head node;
};

#define NITEMS 32

static struct item items[NITEMS];

static void items_init(void)
{
	int i;

	for (i = 0; i < NITEMS; i++) {
		items[i].id = i;
		list_init(&items[i].node);
	}
}

/* Check that @head holds exactly the ids in @want, in order, both ways. */
static bool list_is(const struct list_head *head, const int *want, size_t n)
{
	const struct list_head *p;
	size_t i = 0;

	for (p = head->next; p != head; p = p->next, i++) {
		if (i >= n || list_entry(p, struct item, node)->id != want[i])
			return false;
		if (p->next->prev != p)
			return false;
	}
	if (i != n)
		return false;
	for (p = head->prev; p != head; p = p->prev)
		i--;
	return i == 0 && list_count(head) == n;
}

KTEST(list, add_and_add_tail_order)
{
	struct list_head head = LIST_HEAD_INIT(head);
	static const int want[] = { 2, 1, 0, 3, 4 };

	items_init();
	KT_EXPECT(list_empty(&head));
	list_add(&items[0].node, &head);
	KT_EXPECT(list_is_singular(&head));
	list_add(&items[1].node, &head);
	KT_EXPECT(!list_is_singular(&head));
	list_add(&items[2].node, &head);
	list_add_tail(&items[3].node, &head);
	list_add_tail(&items[4].node, &head);
	KT_EXPECT(list_is(&head, want, ARRAY_SIZE(want)));
	KT_EXPECT_EQ(list_first_entry(&head, struct item, node)->id, 2);
	KT_EXPECT_EQ(list_last_entry(&head, struct item, node)->id, 4);
}

KTEST(list, del_leaves_node_unlinked)
{
	struct list_head head;
	static const int want[] = { 0, 2 };

	items_init();
	list_init(&head);
	list_add_tail(&items[0].node, &head);
	list_add_tail(&items[1].node, &head);
	list_add_tail(&items[2].node, &head);
	list_del_init(&items[1].node);
	KT_EXPECT(list_is(&head, want, 2));
	KT_EXPECT(list_empty(&items[1].node));
	list_del_init(&items[1].node); /* self-linked: deleting again is harmless */
	KT_EXPECT(list_is(&head, want, 2));
	list_del(&items[0].node);
	list_del(&items[2].node);
	KT_EXPECT(list_empty(&head));
}

/* A deleted node is poisoned, so a use after the delete faults at once. */
KTEST(list, del_poisons_the_node)
{
	struct list_head head;

	items_init();
	list_init(&head);
	list_add_tail(&items[0].node, &head);
	list_add_tail(&items[1].node, &head);
	list_del(&items[0].node);
	KT_EXPECT(items[0].node.next == LIST_POISON_NEXT);
	KT_EXPECT(items[0].node.prev == LIST_POISON_PREV);
	KT_EXPECT(head.next == &items[1].node && items[1].node.prev == &head);
	list_del(&items[1].node);
	KT_EXPECT(list_empty(&head));
}

KTEST(list, iterate_and_delete_safely)
{
	struct list_head head, *pos, *tmp;
	struct item *it, *next;
	int i, sum = 0;
	static const int odd[] = { 1, 3, 5, 7, 9 };

	items_init();
	list_init(&head);
	for (i = 0; i < 10; i++)
		list_add_tail(&items[i].node, &head);
	list_for_each(pos, &head)
		sum += list_entry(pos, struct item, node)->id;
	KT_EXPECT_EQ(sum, 45);
	list_for_each_safe(pos, tmp, &head) {
		if (list_entry(pos, struct item, node)->id % 2 == 0)
			list_del(pos);
	}
	KT_EXPECT(list_is(&head, odd, ARRAY_SIZE(odd)));
	sum = 0;
	list_for_each_entry(it, &head, node)
		sum += it->id;
	KT_EXPECT_EQ(sum, 25);
	list_for_each_entry_safe(it, next, &head, node)
		list_del(&it->node);
	KT_EXPECT(list_empty(&head));
}

KTEST(list, move_between_lists)
{
	struct list_head a, b;
	static const int want_a[] = { 1 }, want_b[] = { 2, 0 };

	items_init();
	list_init(&a);
	list_init(&b);
	list_add_tail(&items[0].node, &a);
	list_add_tail(&items[1].node, &a);
	list_add_tail(&items[2].node, &a);
	list_move_tail(&items[0].node, &b);
	list_move(&items[2].node, &b);
	KT_EXPECT(list_is(&a, want_a, 1));
	KT_EXPECT(list_is(&b, want_b, 2));
}

/* Model: the ids in list order, and whether each item is linked. */
static int model[NITEMS];
static size_t model_len;

static void model_insert(size_t at, int id)
{
	size_t i;

	for (i = model_len; i > at; i--)
		model[i] = model[i - 1];
	model[at] = id;
	model_len++;
}

static void model_remove(int id)
{
	size_t i, j;

	for (i = 0; i < model_len && model[i] != id; i++)
		;
	for (j = i; j + 1 < model_len; j++)
		model[j] = model[j + 1];
	model_len--;
}

static bool model_has(int id)
{
	size_t i;

	for (i = 0; i < model_len; i++) {
		if (model[i] == id)
			return true;
	}
	return false;
}

KTEST(list, random_against_model)
{
	struct list_head head;
	int op;

	items_init();
	list_init(&head);
	model_len = 0;
	for (op = 0; op < 5000; op++) {
		int id = (int)(ktest_rand(kt) % NITEMS);

		if (model_has(id)) {
			list_del(&items[id].node);
			model_remove(id);
		} else if (ktest_rand(kt) % 2) {
			list_add(&items[id].node, &head);
			model_insert(0, id);
		} else {
			list_add_tail(&items[id].node, &head);
			model_insert(model_len, id);
		}
		KT_ASSERT(list_is(&head, model, model_len));
	}
}

KTEST(list, splice_moves_all_and_empties_the_source)
{
	struct list_head a = LIST_HEAD_INIT(a), b = LIST_HEAD_INIT(b);
	static const int want[] = { 0, 1, 2, 3, 4 };

	items_init();
	list_splice_tail_init(&a, &b); /* empty into empty */
	KT_EXPECT(list_empty(&a) && list_empty(&b));
	list_add_tail(&items[0].node, &b);
	list_add_tail(&items[1].node, &b);
	for (int i = 2; i < 5; i++)
		list_add_tail(&items[i].node, &a);
	list_splice_tail_init(&a, &b);
	KT_EXPECT(list_empty(&a));
	KT_EXPECT(list_is(&b, want, ARRAY_SIZE(want)));
	list_splice_tail_init(&a, &b); /* empty source: no change */
	KT_EXPECT(list_is(&b, want, ARRAY_SIZE(want)));
}
