/*
 * cluster.h — the robust middle of noisy measurements.
 *
 * Timing a clock against another under emulation gives values that are
 * mostly right and sometimes wildly wrong, in either direction, when the
 * host preempts the guest mid-measurement.  A plain median fails once half
 * the values are disturbed; the tightest group of k values does not, as
 * long as k undisturbed ones exist: they agree with each other, and the
 * disturbed ones agree with nothing.  Pure; also built on the host.
 */
#ifndef NOS_LIB_CLUSTER_H
#define NOS_LIB_CLUSTER_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

/* Sort @n values ascending (insertion sort: for a few dozen values). */
void cluster_sort(u64 *v, unsigned n);

/*
 * In ascending @sorted[0..@n), the median of the tightest run of @k values
 * (k >= 1, k <= n), and through @width that run's max - min.  When runs tie,
 * the lowest wins.  Returns 0 (and width ~0) when @k is 0 or above @n.
 */
u64 cluster_median(const u64 *sorted, unsigned n, unsigned k, u64 *width);

#endif
