/*
 * host_list.c — the host runner's list_corrupted() (lib/list.h): a list
 * found corrupted is a kernel bug, so it panics — which the host shim turns
 * into a failure of the test that corrupted it (the run goes on).
 */
#include "kernel/panic.h"
#include "lib/list.h"

void list_corrupted(const struct list_head *node, const char *what)
{
	panic("list corruption at %p: %s", (const void *)node, what);
}
