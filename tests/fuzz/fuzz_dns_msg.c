/*
 * fuzz_dns_msg.c — checks that net/dns_msg.c's reply parser survives any datagram and reports only answers taken from it.
 *
 * The input is a DNS reply's UDP payload, as net/dns.c hands it to
 * dns_msg_parse().  So that random bytes get past the question check, the
 * query it is taken to answer is read from the input itself: the id is its
 * first two bytes and the name the one at offset 12, when that reads
 * (dns_name_read()) and is a name one could ask for (dns_name_check());
 * otherwise "host.test".  libFuzzer's buffer is exactly the input's size,
 * so a read past the message is an ASan report.
 *
 * Beyond "no crash": the result is 0, -EPROTO or -EBADMSG; when it is 0,
 * the counts are within their limits, every address reported is four bytes
 * that occur in the message (in network order), and every CNAME is a
 * printable name of at most DNS_NAME_MAX characters whose labels each
 * occur in the message (case aside: the parser compares names so).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/dns_msg.h"

static u8 fold(u8 c)
{
	return c >= 'A' && c <= 'Z' ? (u8)(c - 'A' + 'a') : c;
}

/* Do the @n bytes at @s occur in the input (ASCII case folded when @nocase)? */
static bool in_input(const void *s, size_t n, bool nocase)
{
	const u8 *p = s;

	for (size_t i = 0; n && i + n <= fuzz_size; i++) {
		size_t j = 0;

		while (j < n && (nocase ? fold(fuzz_data[i + j]) == fold(p[j])
					: fuzz_data[i + j] == p[j]))
			j++;
		if (j == n)
			return true;
	}
	return n == 0;
}

/* Is every label of @name a run of bytes in the input? */
static bool labels_in_input(const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		if (!in_input(name, n, true))
			return false;
		name += n + (dot != NULL);
	}
	return true;
}

KTEST(fuzz, dns_msg)
{
	struct dns_reply *r = kzalloc(sizeof(*r));
	char name[DNS_NAME_MAX + 1] = "host.test";
	u16 id = fuzz_size >= 2 ? get_be16(fuzz_data) : 0;
	int rc;

	if (fuzz_size > DNS_HLEN &&
	    (dns_name_read(fuzz_data, fuzz_size, DNS_HLEN, name, sizeof(name), NULL) ||
	     dns_name_check(name)))
		memcpy(name, "host.test", sizeof("host.test"));
	rc = dns_msg_parse(fuzz_data, fuzz_size, id, name, r);
	KT_ASSERT(rc == 0 || rc == -EPROTO || rc == -EBADMSG);
	if (rc)
		goto out;
	KT_EXPECT(r->naddrs <= DNS_ADDRS_MAX);
	KT_EXPECT(r->ncnames <= DNS_CNAME_MAX);
	for (unsigned i = 0; i < r->naddrs && i < DNS_ADDRS_MAX; i++) {
		u8 be[4];

		put_be32(be, r->addrs[i]);
		if (!in_input(be, 4, false))
			ktest_fail(kt, __FILE__, __LINE__, "address %u (%#x) is not in the message",
				   i, r->addrs[i]);
	}
	for (unsigned i = 0; i < r->ncnames && i < DNS_CNAME_MAX; i++) {
		size_t n = strnlen(r->cnames[i], DNS_NAME_MAX + 1);

		KT_EXPECT(n <= DNS_NAME_MAX);
		for (size_t j = 0; j < n; j++)
			KT_EXPECT(r->cnames[i][j] > ' ' && r->cnames[i][j] < 0x7f);
		if (n <= DNS_NAME_MAX && !labels_in_input(r->cnames[i]))
			ktest_fail(kt, __FILE__, __LINE__, "CNAME %u \"%s\" is not from the message",
				   i, r->cnames[i]);
	}
out:
	kfree(r);
}
