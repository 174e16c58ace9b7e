/*
 * shell_priv.h — what the shell core's files share and nobody else uses.
 *
 * The core is split so that the host unit tests can build the pure parts:
 *   shell_line.c   line editor (no I/O)
 *   shell_parse.c  tokenizer (no I/O)
 *   shell_exec.c   sessions, output, dispatch, `help` (I/O only through
 *                  the session's write callback)
 *   shell.c        the console loop, the only file that touches console_*
 */
#ifndef NOS_SHELL_PRIV_H
#define NOS_SHELL_PRIV_H

#include "kernel/shell.h"

/* Print "line too long (max N characters)" for @sh; returns -EINVAL. */
int sh_report_too_long(struct sh *sh);

#endif
