/*
 * host_list.c — the host runner's list_corrupted() (lib/list.h): a unit
 * test that corrupts a list is a failed run, so say where and stop.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/list.h"

void list_corrupted(const struct list_head *node, const char *what)
{
	fprintf(stderr, "list corruption at %p: %s\n", (const void *)node, what);
	abort();
}
