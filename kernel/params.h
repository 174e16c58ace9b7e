/*
 * params.h — kernel parameters from the Multiboot2 command line.
 *
 * The command line is a space-separated list of `name` and `name=value`
 * words.  A subsystem declares each parameter it reads with KPARAM() next
 * to the code that uses it; the parser accepts only declared names, checks
 * the value against the declared choices, and reports everything else
 * (unknown name, bad value, a value given to a flag, a missing value) through
 * a report callback — the kernel sends those lines to dmesg — and ignores it.
 * When a parameter is given twice the last one wins, unless it is declared
 * with KPARAM_MULTI(): then every word is kept, in command-line order, and
 * read back with params_lookup_nth() / param_get_nth().
 *
 * The parser is pure (no kernel services) so the host unit tests run it; a
 * `struct param_set` holds one parsed command line.
 */
#ifndef NOS_PARAMS_H
#define NOS_PARAMS_H

#include "types.h"
#include "compiler.h"

/* As long as the boot loader's copy (boot/mb2.h MB2_CMDLINE_MAX), so no word
 * the loader passed is lost between the two. */
#define PARAM_CMDLINE_MAX 4096
#define PARAM_MAX 32

struct kparam {
	const char *name;
	/*
	 * NULL: any non-empty value; "": a flag that takes no value;
	 * otherwise the accepted values separated by '|', e.g. "serial|vga".
	 */
	const char *choices;
	const char *help;
	bool multi; /* repeatable: each occurrence kept (KPARAM_MULTI) */
};

#define KPARAM(ident_, name_, choices_, help_)                                 \
	static const struct kparam kparam_desc_##ident_ = {                    \
		.name = name_, .choices = choices_, .help = help_,             \
	};                                                                     \
	static const struct kparam *const kparam_ptr_##ident_                  \
		__section("kparams") __used __aligned(8) = &kparam_desc_##ident_

/* A parameter that may be given several times, e.g. mount=vda:/a mount=vdb:/b. */
#define KPARAM_MULTI(ident_, name_, choices_, help_)                           \
	static const struct kparam kparam_desc_##ident_ = {                    \
		.name = name_, .choices = choices_, .help = help_, .multi = true, \
	};                                                                     \
	static const struct kparam *const kparam_ptr_##ident_                  \
		__section("kparams") __used __aligned(8) = &kparam_desc_##ident_

struct param_set {
	char buf[PARAM_CMDLINE_MAX]; /* the words, NUL-separated */
	unsigned count;
	const char *name[PARAM_MAX];
	const char *value[PARAM_MAX]; /* "" for a flag */
};

typedef void (*param_report_fn)(const char *msg, void *arg);

/*
 * Parse @cmdline against the @ndefs declarations in @defs into @set.
 * Every rejected word is reported once through @report.  Returns the number
 * of rejected words (0 when all were accepted).
 */
int params_parse(struct param_set *set, const struct kparam *const *defs, size_t ndefs,
		 const char *cmdline, param_report_fn report, void *arg);

/* Value of @name in @set: "" for a flag, NULL when absent. */
const char *params_lookup(const struct param_set *set, const char *name);
/* The @n-th (0, 1, ...) value of @name in command-line order; NULL past the
 * last.  For a parameter that is not KPARAM_MULTI, only n = 0 can match. */
const char *params_lookup_nth(const struct param_set *set, const char *name, unsigned n);

/* The kernel's own parameters (parsed once at boot by params_init). */
void params_init(const char *cmdline);
const char *param_get(const char *name);
const char *param_get_nth(const char *name, unsigned n);
/* True when @name is present and (when @value is not NULL) equals @value. */
bool param_is(const char *name, const char *value);

#endif
