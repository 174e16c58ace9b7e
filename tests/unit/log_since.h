/*
 * log_since.h — for tests that run on the host and at boot alike: which
 * warnings a case made.  The kernel log holds every case's messages (and,
 * at boot, the kernel's own), so a case takes a mark when it begins and
 * counts the messages containing a string that were logged after it,
 * through dmesg_for_each(), the kernel's interface, which the host shim
 * provides over the current test's messages.
 */
#ifndef NOS_TESTS_LOG_SINCE_H
#define NOS_TESTS_LOG_SINCE_H

#include "types.h"

/* How many messages have been logged so far: a mark for logged_since(). */
u64 log_mark(void);
/* Messages containing @needle logged after @mark and still in the ring. */
unsigned logged_since(u64 mark, const char *needle);

#endif
