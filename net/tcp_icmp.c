/*
 * tcp_icmp.c — what TCP does with an ICMP error about one of its segments
 * (icmp.c's handler table hands them over).
 *
 * RFC 1122 4.2.3.9, RFC 5927.  The quote names the connection (our
 * address and port are its source) and the sequence number of the segment; one outside [snd_una, snd_max]
 * cannot be about anything still unacknowledged and is ignored (RFC 5927
 * 4.1: it may be forged).  While the connection is being opened (SYN_SENT,
 * SYN_RECEIVED) net, host or protocol/port unreachable and the
 * administratively prohibited codes are hard: the connection fails with
 * the matching error at once, no RST sent.  Everything else, and every
 * error once synchronized, is soft: remembered until an ACK makes
 * progress, and reported instead of -ETIMEDOUT should the retries run out
 * (tcp_conn_drop).  Fragmentation needed is ignored: no path MTU discovery.
 */
#include "net/tcp_priv.h"
#include "net/icmp.h"
#include "errno.h"
#include "lib/byteorder.h"

/*
 * What ICMP @type/@code means to a connection: the error (0: ignore it),
 * and in *@hard whether it ends a connection being opened.  The errors
 * are Linux's (icmp_err_convert) but for protocol unreachable, refused
 * here like a closed port.
 */
static int icmp_to_errno(u8 type, u8 code, bool *hard)
{
	*hard = false;
	if (type == ICMP_TIME_EXCEEDED)
		return -EHOSTUNREACH;
	if (type != ICMP_DEST_UNREACH)
		return 0;
	switch (code) {
	case ICMP_UNREACH_NEEDFRAG:
		return 0;
	case ICMP_UNREACH_NET:
	case ICMP_UNREACH_NET_PROHIB:
		*hard = true;
		return -ENETUNREACH;
	case ICMP_UNREACH_HOST:
	case ICMP_UNREACH_HOST_PROHIB:
	case ICMP_UNREACH_ADMIN_PROHIB:
		*hard = true;
		return -EHOSTUNREACH;
	case ICMP_UNREACH_PROTO:
	case ICMP_UNREACH_PORT:
		*hard = true;
		return -ECONNREFUSED;
	case 6:  /* destination network unknown */
	case 11: /* network unreachable for the type of service */
		return -ENETUNREACH;
	default:
		return -EHOSTUNREACH;
	}
}

/* Could a segment starting at @seq be unacknowledged data of @c (lock held)? */
static bool icmp_seq_ok(const struct tcp_conn *c, u32 seq)
{
	if (c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT)
		return false;
	return SEQ_GEQ(seq, c->snd_una) && SEQ_LEQ(seq, c->snd_max);
}

void tcp_icmp_error(const struct icmp_error *e)
{
	bool hard;
	int err = icmp_to_errno(e->type, e->code, &hard);
	u32 seq = get_be32(e->l4 + 4);
	struct tcp_conn *c;

	if (!err)
		return;
	c = tcp_lookup(&e->src, get_be16(e->l4), &e->dst, get_be16(e->l4 + 2));
	if (!c)
		return;
	spin_lock(&c->lock);
	if (icmp_seq_ok(c, seq)) {
		TCP_STAT_INC(icmp_errors);
		if (hard && (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED))
			tcp_conn_drop(c, err);
		else
			c->soft_error = err;
	}
	tcp_unlock(c);
	tcp_conn_put(c);
}
