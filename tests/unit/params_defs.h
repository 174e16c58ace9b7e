/*
 * params_defs.h — the parameters the parser's tests declare
 * (test_params.c, tests/fuzz/fuzz_params.c): a choice, a flag, a free
 * value and a repeatable one.
 */
#ifndef NOS_TESTS_PARAMS_DEFS_H
#define NOS_TESTS_PARAMS_DEFS_H

#include "kernel/params.h"

static const struct kparam def_console = { "console", "serial|vga", "", false };
static const struct kparam def_selftest = { "selftest", "", "", false };
static const struct kparam def_root = { "root", NULL, "", false };
static const struct kparam def_mount = { .name = "mount", .choices = NULL, .multi = true };
static const struct kparam *const defs[] = { &def_console, &def_selftest, &def_root,
					     &def_mount };

#endif
