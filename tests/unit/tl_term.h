/*
 * tl_term.h — a model of a dumb terminal for the line editor's echo
 * (test_shell_line.c, tests/fuzz/fuzz_shell_parse.c): printable bytes and
 * ' ' write at the cursor, '\b' moves it left, '\n' starts a new row,
 * anything else is a violation (bad).  Only lib/: the boot tests use it too.
 */
#ifndef NOS_TESTS_TL_TERM_H
#define NOS_TESTS_TL_TERM_H

#include "config.h"
#include "lib/format.h"

#define TL_RAW_MAX 8192

struct tl_term {
	char raw[TL_RAW_MAX]; /* every echoed byte, while it fits */
	size_t raw_len;
	char row[CONFIG_SHELL_LINE_MAX + 8]; /* the current row, room for "^C" */
	size_t col;                          /* the cursor */
	size_t end;                          /* written extent of the row */
	unsigned rows;                       /* '\n' seen */
	bool bad; /* echo did something a dumb terminal cannot show */
};

static inline void tl_term_byte(struct tl_term *t, char c)
{
	if (c == '\n') {
		t->rows++;
		t->col = t->end = 0;
	} else if (c == '\b') {
		if (t->col == 0)
			t->bad = true;
		else
			t->col--;
	} else if (c >= 0x20 && c < 0x7f && t->col < sizeof(t->row)) {
		t->row[t->col++] = c;
		t->end = MAX(t->end, t->col);
	} else {
		t->bad = true;
	}
}

#endif
