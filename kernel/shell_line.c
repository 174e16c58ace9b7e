/*
 * shell_line.c — the line editor behind the interactive shell.
 *
 * shell_line_feed() is a small state machine.  A byte first settles the
 * bookkeeping left by the previous one (a CR waiting to swallow its LF, a
 * finished line waiting to be cleared), then goes to the escape-sequence
 * parser if a sequence is open, and otherwise to the key handler.
 *
 * Escape sequences follow ECMA-48 loosely, enough to recognise what
 * terminals and the keyboard driver send:
 *   ESC [ <parameter bytes 0x20-0x3f>* <final byte 0x40-0x7e>   (CSI)
 *   ESC O <key>                                                  (SS3)
 *   ESC <printable>                                              (Alt+key)
 * Only CSI A/B without parameters and SS3 A/B mean something (Up/Down);
 * everything else that parses is swallowed.  A control byte or a byte
 * >= 0x80 in the middle of a sequence ends the sequence and is then
 * handled as if no sequence had been open, so a stray ESC can never eat
 * the Enter that follows it.
 *
 * The invariant the tests check after every byte: buf[0..len) holds only
 * printable ASCII, buf[len] == '\0', len <= CONFIG_SHELL_LINE_MAX, and the
 * bytes echoed so far, applied to a dumb terminal, leave exactly buf on
 * the current screen line with the cursor right after it.
 */
#include "kernel/shell_line.h"
#include "compiler.h"
#include "lib/string.h"

/* "\b \b" repeated, so erasing a long line costs few echo calls. */
#define SL_ERASE_CHUNK 32

static bool sl_printable(u8 c)
{
	return c >= 0x20 && c < 0x7f;
}

static void sl_echo(struct shell_line *sl, const char *buf, size_t len)
{
	if (len)
		sl->echo(sl->echo_ctx, buf, len);
}

/* Remove the last @n characters from the buffer and from the screen. */
static void sl_erase(struct shell_line *sl, size_t n)
{
	char rub[SL_ERASE_CHUNK * 3];
	size_t i, step;

	n = MIN(n, sl->len);
	sl->len -= n;
	sl->buf[sl->len] = '\0';
	for (i = 0; i < SL_ERASE_CHUNK; i++)
		memcpy(rub + 3 * i, "\b \b", 3);
	while (n) {
		step = MIN(n, (size_t)SL_ERASE_CHUNK);
		sl_echo(sl, rub, 3 * step);
		n -= step;
	}
}

static void sl_insert(struct shell_line *sl, char c)
{
	if (sl->len >= CONFIG_SHELL_LINE_MAX) {
		sl->overflow = true; /* refused: no echo, not even a bell */
		return;
	}
	sl->buf[sl->len++] = c;
	sl->buf[sl->len] = '\0';
	sl_echo(sl, &c, 1);
}

/* Show @text instead of the current line (history recall). */
static void sl_replace(struct shell_line *sl, const char *text, bool overflow)
{
	size_t n = strlen(text);

	sl_erase(sl, sl->len);
	memcpy(sl->buf, text, n + 1);
	sl->len = n;
	sl->overflow = overflow;
	sl_echo(sl, sl->buf, n);
}

/* Ring index of history entry @age, which the caller checked exists. */
static unsigned sl_hist_index(const struct shell_line *sl, unsigned age)
{
	unsigned n = CONFIG_SHELL_HISTORY;

	return (sl->hist_newest + n - age) % n;
}

static char *sl_hist_slot(struct shell_line *sl, unsigned age)
{
	return sl->hist[sl_hist_index(sl, age)];
}

const char *shell_line_history(const struct shell_line *sl, unsigned age)
{
	if (age >= sl->hist_count)
		return NULL;
	return sl->hist[sl_hist_index(sl, age)];
}

static void sl_hist_add(struct shell_line *sl)
{
	if (sl->len == 0)
		return;
	if (sl->hist_count && strcmp(sl_hist_slot(sl, 0), sl->buf) == 0)
		return; /* repeating a command does not fill the ring */
	sl->hist_newest = (sl->hist_newest + 1) % CONFIG_SHELL_HISTORY;
	memcpy(sl_hist_slot(sl, 0), sl->buf, sl->len + 1);
	if (sl->hist_count < CONFIG_SHELL_HISTORY)
		sl->hist_count++;
}

/* Up (@older) or Down (!@older); a no-op at either end of the history. */
static void sl_hist_walk(struct shell_line *sl, bool older)
{
	if (older && sl->hist_pos >= sl->hist_count)
		return;
	if (!older && sl->hist_pos == 0)
		return;
	if (sl->hist_pos == 0) {
		memcpy(sl->saved, sl->buf, sl->len + 1);
		sl->saved_overflow = sl->overflow;
	}
	if (older)
		sl->hist_pos++;
	else
		sl->hist_pos--;
	if (sl->hist_pos == 0)
		sl_replace(sl, sl->saved, sl->saved_overflow);
	else
		sl_replace(sl, sl_hist_slot(sl, sl->hist_pos - 1), false);
}

static void sl_key(struct shell_line *sl, u8 final)
{
	if (final == 'A')
		sl_hist_walk(sl, true);
	else if (final == 'B')
		sl_hist_walk(sl, false);
}

/*
 * Feed @c to the open escape sequence.  Returns true when the byte was part
 * of it, false when it ended the sequence without belonging to it and must
 * be handled as an ordinary byte.
 */
static bool sl_escape(struct shell_line *sl, u8 c)
{
	u8 state = sl->esc;

	sl->esc = SHELL_ESC_NONE;
	if (!sl_printable(c))
		return false;
	if (state == SHELL_ESC_START && c == '[') {
		sl->esc = SHELL_ESC_CSI;
		sl->esc_params = false;
	} else if (state == SHELL_ESC_START && c == 'O') {
		sl->esc = SHELL_ESC_SS3;
	} else if (state == SHELL_ESC_SS3) {
		sl_key(sl, c);
	} else if (state == SHELL_ESC_CSI && c <= 0x3f) {
		sl->esc = SHELL_ESC_CSI; /* parameter or intermediate byte */
		sl->esc_params = true;
	} else if (state == SHELL_ESC_CSI && !sl->esc_params) {
		sl_key(sl, c);
	}
	return true; /* includes ESC + printable (Alt+key) */
}

static enum shell_line_event sl_enter(struct shell_line *sl)
{
	sl->finished = true;
	sl_echo(sl, "\n", 1);
	if (sl->overflow)
		return SHELL_LINE_TOO_LONG;
	sl_hist_add(sl);
	return SHELL_LINE_READY;
}

static enum shell_line_event sl_cancel(struct shell_line *sl)
{
	sl->finished = true;
	sl->len = 0;
	sl->buf[0] = '\0';
	sl_echo(sl, "^C\n", 3);
	return SHELL_LINE_CANCELLED;
}

static enum shell_line_event sl_byte(struct shell_line *sl, u8 c)
{
	switch (c) {
	case '\r':
		sl->after_cr = true;
		return sl_enter(sl);
	case '\n':
		return sl_enter(sl);
	case 0x03: /* Ctrl-C */
		return sl_cancel(sl);
	case 0x08: /* Backspace */
	case 0x7f: /* DEL, what most terminals send for Backspace */
		sl_erase(sl, 1);
		break;
	case 0x15: /* Ctrl-U */
		sl_erase(sl, sl->len);
		sl->overflow = false;
		break;
	case 0x1b:
		sl->esc = SHELL_ESC_START;
		break;
	default:
		if (sl_printable(c))
			sl_insert(sl, (char)c);
		break;
	}
	return SHELL_LINE_PENDING;
}

/* Start a new, empty line after the previous one was handed over. */
static void sl_begin(struct shell_line *sl)
{
	sl->finished = false;
	sl->len = 0;
	sl->buf[0] = '\0';
	sl->overflow = false;
	sl->hist_pos = 0;
}

void shell_line_init(struct shell_line *sl, shell_echo_fn echo, void *ctx)
{
	memset(sl, 0, sizeof(*sl));
	sl->echo = echo;
	sl->echo_ctx = ctx;
	sl->hist_newest = CONFIG_SHELL_HISTORY - 1;
}

enum shell_line_event shell_line_feed(struct shell_line *sl, u8 byte)
{
	if (sl->after_cr) {
		sl->after_cr = false;
		if (byte == '\n')
			return SHELL_LINE_PENDING; /* the LF of a CR LF pair */
	}
	if (sl->finished)
		sl_begin(sl);
	if (sl->esc != SHELL_ESC_NONE && sl_escape(sl, byte))
		return SHELL_LINE_PENDING;
	return sl_byte(sl, byte);
}

const char *shell_line_text(const struct shell_line *sl)
{
	return sl->buf;
}
