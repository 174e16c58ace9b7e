/*
 * fuzz_dhcp_msg.c — the DHCP message decoder (net/dhcp_msg.c) on arbitrary
 * bytes: the input is the UDP payload of a reply, as net/dhcp.c hands it
 * to dhcp_msg_parse().  libFuzzer's buffer is exactly the input's size, so
 * a read past the message's end is an ASan report.
 *
 * Beyond "no crash", a round trip: a message that parses is built again
 * (dhcp_msg_build()) and the result must parse to the same message —
 * every field the decoder fills (options in sname/file, repeated options,
 * hostname bytes replaced by '?' all come out in the first decode, so the
 * second must agree with it).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "net/dhcp_msg.h"

static bool same_msg(const struct dhcp_msg *a, const struct dhcp_msg *b)
{
	return a->op == b->op && a->type == b->type && a->xid == b->xid &&
	       a->secs == b->secs && a->flags == b->flags && a->ciaddr == b->ciaddr &&
	       a->yiaddr == b->yiaddr && a->siaddr == b->siaddr && a->giaddr == b->giaddr &&
	       !memcmp(&a->chaddr, &b->chaddr, sizeof(a->chaddr)) && a->has == b->has &&
	       a->mask == b->mask && a->router == b->router && a->server_id == b->server_id &&
	       a->requested_ip == b->requested_ip && a->lease_s == b->lease_s &&
	       a->t1_s == b->t1_s && a->t2_s == b->t2_s && a->mtu == b->mtu &&
	       a->ndns == b->ndns && !memcmp(a->dns, b->dns, a->ndns * sizeof(a->dns[0])) &&
	       a->nparams == b->nparams && !memcmp(a->params, b->params, a->nparams) &&
	       !strcmp(a->hostname, b->hostname);
}

KTEST(fuzz, dhcp_msg)
{
	struct dhcp_msg m, again;
	u8 buf[DHCP_MSG_MAX];
	int rc = dhcp_msg_parse(fuzz_data, fuzz_size, &m);
	int n;

	KT_ASSERT(rc == 0 || rc == -EBADMSG);
	if (rc)
		return;
	KT_EXPECT(m.ndns <= DHCP_DNS_MAX);
	KT_EXPECT(m.nparams <= DHCP_PARAMS_MAX);
	KT_EXPECT(strlen(m.hostname) <= DHCP_HOSTNAME_MAX);
	n = dhcp_msg_build(&m, buf, sizeof(buf));
	if (n == -EMSGSIZE)
		return; /* many options: more than we ever build */
	KT_ASSERT(n > 0 && (size_t)n <= sizeof(buf));
	KT_ASSERT_EQ(dhcp_msg_parse(buf, (size_t)n, &again), 0);
	if (!same_msg(&m, &again))
		ktest_fail(kt, __FILE__, __LINE__, "a parsed message built again parses "
			   "differently (type %u has %#x/%#x ndns %u/%u nparams %u/%u)",
			   m.type, m.has, again.has, m.ndns, again.ndns, m.nparams, again.nparams);
}
