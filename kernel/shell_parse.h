/*
 * shell_parse.h — split a shell command line into words.
 *
 * The rules are a small, predictable subset of the POSIX shell's:
 *   - blanks (space, tab, CR, LF, VT, FF) separate words;
 *   - '...' groups everything up to the next ' literally;
 *   - "..." groups too; inside it \" and \\ stand for " and \, and a
 *     backslash before any other byte is kept (so "C:\dir" survives);
 *   - outside quotes a backslash takes the next byte literally ("a\ b" is
 *     one word);
 *   - quotes join with what touches them: ab"c d"e is the one word "abc de";
 *   - "" and '' make an empty word.
 * There is no variable expansion, globbing or redirection.
 *
 * Parsing is done in place: quotes and escape backslashes are removed by
 * moving bytes left, and each word gets a '\0', so argv points into the
 * caller's line.  The line is modified even when parsing fails.
 *
 * Pure code with no kernel dependency: built for the host unit tests too.
 */
#ifndef NOS_SHELL_PARSE_H
#define NOS_SHELL_PARSE_H

#include "types.h"

/* Most words on one line, the command name included. */
#define SHELL_ARGV_MAX 32

struct shell_args {
	int argc;
	char *argv[SHELL_ARGV_MAX + 1]; /* argv[argc] == NULL on success */
	const char *error; /* on failure: why, as a phrase for the user */
};

/*
 * Split @line into @args.  Returns 0 (argc is 0 for an empty or blank
 * line), -EINVAL for an unterminated quote or a backslash at the end of
 * the line, -E2BIG for more than SHELL_ARGV_MAX words; on failure
 * args->error says which, e.g. "unterminated double quote".
 */
int shell_parse(char *line, struct shell_args *args);

#endif
