/*
 * fuzz_params.c — checks that kernel/params.c's command-line parser takes any line and keeps only declared, well-formed words from it.
 *
 * The input, up to its first NUL, is the Multiboot2 command line: it is
 * copied into a heap block of exactly its length plus the NUL (so ASan
 * sees a read past the terminator) and parsed against the declarations of
 * test_params.c — a choice ("console", serial|vga), a flag ("selftest"),
 * a free value ("root") and a repeatable one ("mount").
 *
 * Checks beyond "no crash": the result is the number of reports, at least
 * one of them when the line is longer than PARAM_CMDLINE_MAX - 1; at most
 * PARAM_MAX words are kept; each kept word names a declaration, has a
 * value that fits it (none for the flag, one of the choices, non-empty
 * for the others), contains no white space, and occurs in the line as
 * "name=value" (or "name" for the flag); a parameter that is not
 * repeatable is kept at most once; params_lookup() finds each one's last
 * value and params_lookup_nth() every occurrence of "mount" in order.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "kernel/params.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#include "tests/unit/params_defs.h"

struct reports {
	unsigned count;
	bool too_long;
};

static void collect(const char *msg, void *arg)
{
	struct reports *r = arg;

	r->count++;
	if (strstr(msg, "longer than"))
		r->too_long = true;
}

static const struct kparam *def_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++)
		if (defs[i]->name == name)
			return defs[i];
	return NULL;
}

/* Is @v one of the '|'-separated @choices? */
static bool is_choice(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *c = choices; c;) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);

		if (len == n && !strncmp(c, v, n))
			return true;
		c = bar ? bar + 1 : NULL;
	}
	return false;
}

/* Does the word "@name[=@value]" occur in @line? */
static bool in_line(const char *line, const char *name, const char *value, bool flag)
{
	char word[PARAM_CMDLINE_MAX + 16];

	snprintf(word, sizeof(word), flag ? "%s" : "%s=%s", name, value);
	return strstr(line, word) != NULL;
}

static void check_word(struct ktest_ctx *kt, const struct param_set *set, unsigned i,
		       const char *line)
{
	const struct kparam *def = def_of(set->name[i]);
	const char *v = set->value[i];

	KT_ASSERT(def != NULL && v != NULL);
	for (const char *c = v; *c; c++)
		KT_EXPECT(*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r');
	if (def->choices && !def->choices[0])
		KT_EXPECT_STREQ(v, "");
	else if (def->choices)
		KT_EXPECT(is_choice(def->choices, v));
	else
		KT_EXPECT(v[0] != '\0');
	KT_EXPECT(in_line(line, def->name, v, def->choices && !def->choices[0]));
	if (!def->multi) {
		for (unsigned j = 0; j < set->count; j++)
			KT_EXPECT(j == i || set->name[j] != def->name);
		KT_EXPECT(params_lookup(set, def->name) == v);
	}
}

KTEST(fuzz, params)
{
	static struct param_set set;
	struct reports rep = { 0 };
	size_t len = strnlen((const char *)fuzz_data, fuzz_size);
	char *line = kmalloc(len + 1);
	unsigned mounts = 0;
	int rc;

	memcpy(line, fuzz_data, len);
	line[len] = '\0';
	rc = params_parse(&set, defs, ARRAY_SIZE(defs), line, collect, &rep);
	KT_EXPECT(rc >= 0);
	KT_EXPECT_EQ((unsigned)rc, rep.count);
	KT_EXPECT_EQ(rep.too_long, len >= PARAM_CMDLINE_MAX);
	KT_ASSERT(set.count <= PARAM_MAX);
	for (unsigned i = 0; i < set.count; i++) {
		check_word(kt, &set, i, line);
		if (set.name[i] == def_mount.name)
			KT_EXPECT(params_lookup_nth(&set, "mount", mounts++) == set.value[i]);
	}
	KT_EXPECT(params_lookup_nth(&set, "mount", mounts) == NULL);
	kfree(line);
}
