/*
 * cluster.c — the tightest group of measurements (see cluster.h).
 */
#include "lib/cluster.h"

void cluster_sort(u64 *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j && v[j - 1] > v[j]; j--) {
			u64 t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

u64 cluster_median(const u64 *sorted, unsigned n, unsigned k, u64 *width)
{
	unsigned best = 0;

	*width = ~0ULL;
	if (!k || k > n)
		return 0;
	for (unsigned i = 0; i + k <= n; i++) {
		if (sorted[i + k - 1] - sorted[i] < *width) {
			*width = sorted[i + k - 1] - sorted[i];
			best = i;
		}
	}
	return sorted[best + k / 2];
}
