/*
 * params.c — parsing and lookup of kernel parameters (see params.h).
 *
 * The words are copied into the set's own buffer and split in place, so the
 * parsed names and values stay valid after the boot information is gone.
 * Validation is table-driven: a word is accepted only when a declaration
 * says how to read it.  The kernel-wide set and its declarations (the
 * "kparams" section) are at the end of the file; everything above them is
 * pure and runs in the host unit tests.
 */
#include "kernel/params.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/string.h"

static void report(param_report_fn fn, void *arg, const char *fmt, ...) __printf(3, 4);

static void report(param_report_fn fn, void *arg, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(msg, arg);
}

static const struct kparam *find_def(const struct kparam *const *defs, size_t n,
				     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(defs[i]->name, name) == 0)
			return defs[i];
	return NULL;
}

/* Is @value one of the '|'-separated @choices? */
static bool choice_ok(const char *choices, const char *value)
{
	size_t len = strlen(value);

	while (*choices) {
		const char *bar = strchr(choices, '|');
		size_t n = bar ? (size_t)(bar - choices) : strlen(choices);

		if (n == len && strncmp(choices, value, n) == 0)
			return true;
		if (!bar)
			break;
		choices = bar + 1;
	}
	return false;
}

static int check_value(const struct kparam *def, const char *value, param_report_fn fn,
		       void *arg)
{
	if (def->choices && !*def->choices) {
		if (!value)
			return 0;
		report(fn, arg, "params: '%s' takes no value; '%s=%s' ignored", def->name,
		       def->name, value);
		return -EINVAL;
	}
	if (!value || !*value) {
		report(fn, arg, "params: '%s' needs a value (%s=%s); ignored", def->name,
		       def->name, def->choices ? def->choices : "...");
		return -EINVAL;
	}
	if (def->choices && !choice_ok(def->choices, value)) {
		report(fn, arg, "params: bad value '%s' for %s= (expected %s); ignored", value,
		       def->name, def->choices);
		return -EINVAL;
	}
	return 0;
}

static void set_store(struct param_set *set, const char *name, const char *value, bool multi)
{
	for (unsigned i = 0; i < set->count && !multi; i++) {
		if (strcmp(set->name[i], name) == 0) {
			set->value[i] = value; /* the last one wins */
			return;
		}
	}
	set->name[set->count] = name;
	set->value[set->count++] = value;
}

/* Accept or reject one word (NUL-terminated, inside set->buf). */
static int parse_word(struct param_set *set, const struct kparam *const *defs, size_t n,
		      char *word, param_report_fn fn, void *arg)
{
	char *eq = strchr(word, '=');
	const struct kparam *def;

	if (eq)
		*eq = '\0';
	def = find_def(defs, n, word);
	if (!def) {
		report(fn, arg, "params: unknown parameter '%s' ignored", word);
		return -ENOENT;
	}
	if (check_value(def, eq ? eq + 1 : NULL, fn, arg))
		return -EINVAL;
	if (set->count == PARAM_MAX && (def->multi || !params_lookup(set, word))) {
		report(fn, arg, "params: more than %d parameters; '%s' ignored", PARAM_MAX, word);
		return -E2BIG;
	}
	set_store(set, def->name, eq ? eq + 1 : "", def->multi);
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int params_parse(struct param_set *set, const struct kparam *const *defs, size_t ndefs,
		 const char *cmdline, param_report_fn fn, void *arg)
{
	int rejected = 0;
	char *p;

	set->count = 0;
	if (strlcpy(set->buf, cmdline ? cmdline : "", sizeof(set->buf)) >= sizeof(set->buf)) {
		report(fn, arg, "params: command line longer than %d bytes; the rest ignored",
		       PARAM_CMDLINE_MAX - 1);
		rejected++;
	}
	for (p = set->buf; *p;) {
		char *word;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		word = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
		if (parse_word(set, defs, ndefs, word, fn, arg))
			rejected++;
	}
	return rejected;
}

const char *params_lookup(const struct param_set *set, const char *name)
{
	for (unsigned i = 0; i < set->count; i++)
		if (strcmp(set->name[i], name) == 0)
			return set->value[i];
	return NULL;
}

const char *params_lookup_nth(const struct param_set *set, const char *name, unsigned n)
{
	for (unsigned i = 0; i < set->count; i++)
		if (strcmp(set->name[i], name) == 0 && n-- == 0)
			return set->value[i];
	return NULL;
}

#ifdef NOS_KERNEL
#include "kernel/printk.h"

extern const struct kparam *const __start_kparams[];
extern const struct kparam *const __stop_kparams[];

static struct param_set kernel_params;

static void params_to_dmesg(const char *msg, void *arg)
{
	pr_warn("%s", msg);
}

void params_init(const char *cmdline)
{
	params_parse(&kernel_params, __start_kparams, __stop_kparams - __start_kparams,
		     cmdline, params_to_dmesg, NULL);
}

const char *param_get(const char *name)
{
	return params_lookup(&kernel_params, name);
}

const char *param_get_nth(const char *name, unsigned n)
{
	return params_lookup_nth(&kernel_params, name, n);
}

bool param_is(const char *name, const char *value)
{
	const char *v = param_get(name);

	return v && (!value || strcmp(v, value) == 0);
}
#endif
