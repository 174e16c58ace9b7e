/*
 * shell_line.h — the shell's line editor, as a pure state machine.
 *
 * The editor turns a stream of input bytes (keyboard or serial terminal)
 * into command lines.  It does no I/O of its own: the caller feeds it one
 * byte at a time with shell_line_feed() and it answers through the echo
 * callback given to shell_line_init() with the bytes that make the screen
 * show the line being typed.  Keeping it free of devices is what lets the
 * host unit tests drive it with scripted and random byte streams.
 *
 * Keys:
 *   printable ASCII      appended to the line (there is no cursor movement:
 *                        Left/Right are swallowed like any other sequence)
 *   Backspace, DEL       erase the last character
 *   Ctrl-U               erase the whole line
 *   Ctrl-C               discard the line (echo "^C" and a newline)
 *   Enter (CR, LF, CRLF) finish the line; CR LF counts as one Enter
 *   Up / Down            walk the history (ESC [ A/B or ESC O A/B); Down
 *                        past the newest entry brings back the line that
 *                        was being typed before Up was first pressed
 * Every other escape sequence is swallowed whole; other control bytes and
 * bytes >= 0x80 are ignored.  Nothing ever reaches the buffer but
 * printable ASCII.
 *
 * Echo uses only printable bytes, ' ', '\b' and '\n': the VGA console does
 * not interpret ANSI sequences, so erasing is "\b \b" per character.
 *
 * A line holds at most CONFIG_SHELL_LINE_MAX characters.  Input beyond that
 * is refused without echo and the line is marked overflowed, so that Enter
 * reports SHELL_LINE_TOO_LONG instead of handing over a silently truncated
 * command.  Ctrl-U, Ctrl-C and recalling history start afresh and clear
 * the mark; plain Backspace does not (the refused bytes are still lost).
 *
 * History keeps the last CONFIG_SHELL_HISTORY finished lines that are
 * non-empty, not too long and different from the newest entry.  Storage is
 * static, inside struct shell_line (about 35 KiB with the defaults), so a
 * struct shell_line belongs in static storage, never on a kernel stack.
 *
 * Not thread-safe: one editor per input stream, used by one task.
 */
#ifndef NOS_SHELL_LINE_H
#define NOS_SHELL_LINE_H

#include "types.h"
#include "config.h"

/* What shell_line_feed() made of the byte. */
enum shell_line_event {
	SHELL_LINE_PENDING,   /* consumed; the line is not finished yet */
	SHELL_LINE_READY,     /* Enter: shell_line_text() is the line */
	SHELL_LINE_CANCELLED, /* Ctrl-C: the line was thrown away */
	SHELL_LINE_TOO_LONG,  /* Enter after input was refused: do not run */
};

/* Receives echo bytes; @buf is valid only during the call. */
typedef void (*shell_echo_fn)(void *ctx, const char *buf, size_t len);

/* Where the editor stands inside an escape sequence. */
enum shell_esc_state {
	SHELL_ESC_NONE,  /* not in a sequence */
	SHELL_ESC_START, /* got ESC */
	SHELL_ESC_CSI,   /* got ESC [, reading parameters up to a final byte */
	SHELL_ESC_SS3,   /* got ESC O, the next byte is the key */
};

struct shell_line {
	shell_echo_fn echo;
	void *echo_ctx;

	/* The line being edited; buf[len] is always '\0'. */
	char buf[CONFIG_SHELL_LINE_MAX + 1];
	size_t len;
	bool overflow; /* input was refused since the line began */
	bool finished; /* the last byte ended the line; next one starts anew */
	bool after_cr; /* the last byte was CR: a following LF is swallowed */

	u8 esc;          /* enum shell_esc_state */
	bool esc_params; /* the CSI sequence has parameter bytes */

	/* History ring: hist[newest] is the latest of hist_count entries. */
	char hist[CONFIG_SHELL_HISTORY][CONFIG_SHELL_LINE_MAX + 1];
	unsigned hist_count;
	unsigned hist_newest;
	/* 0 while editing a fresh line, n while showing the n-th newest entry. */
	unsigned hist_pos;
	/* The fresh line, kept while browsing so Down can bring it back. */
	char saved[CONFIG_SHELL_LINE_MAX + 1];
	bool saved_overflow;
};

/* Empty the editor and its history; echo goes to @echo(@ctx, ...). */
void shell_line_init(struct shell_line *sl, shell_echo_fn echo, void *ctx);

/*
 * Consume one input byte, echoing through the callback.  After a result
 * other than SHELL_LINE_PENDING the finished line stays readable through
 * shell_line_text() until the next call, which starts a new line.
 */
enum shell_line_event shell_line_feed(struct shell_line *sl, u8 byte);

/* The current (or just finished) line, NUL-terminated, printable ASCII. */
const char *shell_line_text(const struct shell_line *sl);

/* History entry @age (0 = newest), or NULL when there are not that many. */
const char *shell_line_history(const struct shell_line *sl, unsigned age);

#endif
