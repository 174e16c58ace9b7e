/*
 * shell_parse.c — the shell's tokenizer.
 *
 * Two cursors walk the line: r reads, w writes.  Removing quotes and escape
 * backslashes only ever drops bytes, so w never passes r and the words can
 * be compacted in place.  A word's terminating '\0' is written only after
 * r has stepped over the blank that ended the word, so it never overwrites
 * a byte that is still to be read.
 *
 * The scanners for each kind of quoting take the cursors by reference and
 * leave r on the first byte they did not consume.
 */
#include "kernel/shell_parse.h"
#include "compiler.h"
#include "errno.h"

struct sp_cursor {
	char *r; /* next byte to read */
	char *w; /* next byte to write; never beyond r */
};

static bool sp_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

static int sp_fail(struct shell_args *args, int err, const char *why)
{
	args->error = why;
	return err;
}

/* '...': everything up to the closing quote, literally. */
static int sp_single(struct sp_cursor *c, struct shell_args *args)
{
	c->r++;
	while (*c->r && *c->r != '\'')
		*c->w++ = *c->r++;
	if (!*c->r)
		return sp_fail(args, -EINVAL, "unterminated single quote");
	c->r++;
	return 0;
}

/* "...": like '...' except that \" and \\ are escapes. */
static int sp_double(struct sp_cursor *c, struct shell_args *args)
{
	c->r++;
	while (*c->r && *c->r != '"') {
		if (c->r[0] == '\\' && (c->r[1] == '"' || c->r[1] == '\\'))
			c->r++;
		*c->w++ = *c->r++;
	}
	if (!*c->r)
		return sp_fail(args, -EINVAL, "unterminated double quote");
	c->r++;
	return 0;
}

/* A backslash outside quotes: the next byte, whatever it is, is literal. */
static int sp_escape(struct sp_cursor *c, struct shell_args *args)
{
	if (!c->r[1])
		return sp_fail(args, -EINVAL, "backslash at end of line");
	*c->w++ = c->r[1];
	c->r += 2;
	return 0;
}

/* One word, from its first byte to the blank or '\0' that ends it. */
static int sp_word(struct sp_cursor *c, struct shell_args *args)
{
	int ret = 0;

	while (!ret && *c->r && !sp_blank(*c->r)) {
		if (*c->r == '\'')
			ret = sp_single(c, args);
		else if (*c->r == '"')
			ret = sp_double(c, args);
		else if (*c->r == '\\')
			ret = sp_escape(c, args);
		else
			*c->w++ = *c->r++;
	}
	return ret;
}

int shell_parse(char *line, struct shell_args *args)
{
	struct sp_cursor c = { .r = line, .w = line };
	int ret;

	args->argc = 0;
	args->argv[0] = NULL;
	args->error = NULL;
	for (;;) {
		while (sp_blank(*c.r))
			c.r++;
		if (!*c.r)
			return 0;
		if (args->argc == SHELL_ARGV_MAX)
			return sp_fail(args, -E2BIG, "too many words (max "
				       STRINGIFY(SHELL_ARGV_MAX) ")");
		args->argv[args->argc++] = c.w;
		args->argv[args->argc] = NULL;
		ret = sp_word(&c, args);
		if (ret)
			return ret;
		if (*c.r)
			c.r++; /* the blank; now w < r, so the '\0' is safe */
		*c.w++ = '\0';
	}
}
