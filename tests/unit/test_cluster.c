/*
 * test_cluster.c — lib/cluster.c: the tightest group survives a majority of
 * disturbed measurements, where a plain median does not.
 */
#include "lib/cluster.h"
#include "lib/ktest.h"

#define ARRAY_N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

KTEST(cluster, sort_orders_ascending)
{
	u64 v[] = { 5, 1, 4, 1, 9, 2, 6, 0 };

	cluster_sort(v, ARRAY_N(v));
	for (unsigned i = 1; i < ARRAY_N(v); i++)
		KT_EXPECT(v[i - 1] <= v[i]);
	KT_EXPECT_EQ(v[0], 0);
	KT_EXPECT_EQ(v[ARRAY_N(v) - 1], 9);
}

/* The calibration that once went wrong: 5 rounds of a 2 GHz TSC, three of
 * them stretched or shrunk by host preemption. */
KTEST(cluster, survives_a_majority_of_outliers)
{
	u64 v[] = { 5617910000, 2020090000, 9500000000, 2021000000, 1200000000,
		    2019500000, 7000000000 };
	u64 width, mid;

	cluster_sort(v, ARRAY_N(v));
	mid = cluster_median(v, ARRAY_N(v), 3, &width);
	KT_EXPECT_EQ(mid, 2020090000);
	KT_EXPECT_EQ(width, 2021000000 - 2019500000);
	KT_EXPECT(v[ARRAY_N(v) / 2] != mid); /* the plain median is an outlier */
}

KTEST(cluster, edges)
{
	u64 one[] = { 42 }, same[] = { 7, 7, 7, 7 }, width;

	KT_EXPECT_EQ(cluster_median(one, 1, 1, &width), 42);
	KT_EXPECT_EQ(width, 0);
	KT_EXPECT_EQ(cluster_median(same, 4, 3, &width), 7);
	KT_EXPECT_EQ(width, 0);
	KT_EXPECT_EQ(cluster_median(one, 1, 2, &width), 0);
	KT_EXPECT_EQ(width, ~0ULL);
	KT_EXPECT_EQ(cluster_median(one, 1, 0, &width), 0);
}

KTEST(cluster, random_noise_around_a_true_value)
{
	for (unsigned round = 0; round < 200; round++) {
		u64 v[15], width, mid;
		unsigned good = 0;

		for (unsigned i = 0; i < ARRAY_N(v); i++) {
			u64 r = ktest_rand(kt);

			/* every third value is exact (+-0.1 %), the rest anywhere in 0.3x..3x */
			if (i % 3 == 0) {
				v[i] = 2000000000ULL + (r % 4000000) - 2000000;
				good++;
			} else {
				v[i] = 600000000ULL + r % 5400000000ULL;
			}
		}
		cluster_sort(v, ARRAY_N(v));
		mid = cluster_median(v, ARRAY_N(v), good, &width);
		KT_EXPECT(width <= 4000000 || mid > 1990000000ULL);
		KT_EXPECT(mid >= 1990000000ULL && mid <= 2010000000ULL);
	}
}
