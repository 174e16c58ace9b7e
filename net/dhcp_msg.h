/*
 * dhcp_msg.h — the DHCP message codec (RFC 2131 for the message, RFC 2132
 * for the options): a struct dhcp_msg to and from the bytes of a UDP
 * payload.  Pure functions over memory: no state, no locks, any context;
 * the state machine (net/dhcp.c) and the host tests share them.
 *
 * The wire layout (all multi-byte fields big-endian):
 *
 *     0   op  htype hlen hops      1 = request, 2 = reply; 1, 6, 0
 *     4   xid                      the transaction, chosen by the client
 *     8   secs flags               seconds since the exchange began; bit 15 = broadcast
 *    12   ciaddr yiaddr siaddr giaddr   client's, "your", next server's, relay's
 *    28   chaddr[16]               the client's MAC in the first 6
 *    44   sname[64]                may carry options (overload, option 52)
 *   108   file[128]                likewise
 *   236   magic cookie 99.130.83.99
 *   240   options: code, length, value ... up to END (255); PAD (0) has no length
 *
 * Parsing trusts nothing: an option whose length runs past its field, a
 * truncated fixed part, a wrong cookie or a missing message type (53) make
 * the whole message invalid (-EBADMSG); an option of a known code but a
 * wrong length is ignored as if absent, and so is an MTU (26) below the
 * least legal 68; a field that runs out without an END is accepted (the
 * options simply stop there).  Overloaded sname/file
 * fields are read after the options field, file first, as RFC 2131 §4.1
 * says; an overload option inside them is not followed again.
 *
 * Building writes the fixed part, the cookie, the options whose DHCP_HAS_*
 * bit (or non-empty value) is set, END, and pads to DHCP_MSG_MIN bytes
 * (some servers drop BOOTP messages shorter than 300 bytes).  The server
 * options (mask, router, DNS, lease, T1, T2, MTU) can be built as well,
 * which is how the host tests play the server.
 */
#ifndef NOS_NET_DHCP_MSG_H
#define NOS_NET_DHCP_MSG_H

#include "net/inet.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

#define DHCP_FIXED_LEN 236      /* op .. file */
#define DHCP_OPTIONS_OFF 240    /* after the magic cookie */
#define DHCP_MAGIC 0x63825363u
#define DHCP_MSG_MIN 300        /* what we send at least (BOOTP's size) */
#define DHCP_MSG_MAX 576        /* what we build at most (RFC 2131: 576-byte datagrams) */

#define DHCP_OP_REQUEST 1
#define DHCP_OP_REPLY 2
#define DHCP_FLAG_BROADCAST 0x8000

/* Message types (option 53). */
enum dhcp_type {
	DHCP_DISCOVER = 1, DHCP_OFFER, DHCP_REQUEST, DHCP_DECLINE,
	DHCP_ACK, DHCP_NAK, DHCP_RELEASE, DHCP_INFORM,
};

/* Option codes. */
#define DHCP_OPT_PAD 0
#define DHCP_OPT_MASK 1
#define DHCP_OPT_ROUTER 3
#define DHCP_OPT_DNS 6
#define DHCP_OPT_HOSTNAME 12
#define DHCP_OPT_MTU 26         /* Interface MTU (RFC 2132 §5.1) */
#define DHCP_OPT_REQUESTED_IP 50
#define DHCP_OPT_LEASE 51
#define DHCP_OPT_OVERLOAD 52
#define DHCP_OPT_MSG_TYPE 53
#define DHCP_OPT_SERVER_ID 54
#define DHCP_OPT_PARAMS 55
#define DHCP_OPT_T1 58
#define DHCP_OPT_T2 59
#define DHCP_OPT_CLIENT_ID 61
#define DHCP_OPT_END 255

#define DHCP_DNS_MAX 4          /* servers kept from option 6 */
#define DHCP_HOSTNAME_MAX 63
#define DHCP_PARAMS_MAX 16      /* codes kept from option 55 */
#define DHCP_LEASE_INFINITE 0xffffffffu
#define DHCP_MTU_MIN 68         /* option 26's least legal value (RFC 2132 §5.1) */

/* Which of the scalar options a message carries. */
#define DHCP_HAS_MASK (1u << 0)
#define DHCP_HAS_ROUTER (1u << 1)
#define DHCP_HAS_LEASE (1u << 2)
#define DHCP_HAS_SERVER_ID (1u << 3)
#define DHCP_HAS_REQUESTED_IP (1u << 4)
#define DHCP_HAS_T1 (1u << 5)
#define DHCP_HAS_T2 (1u << 6)
#define DHCP_HAS_CLIENT_ID (1u << 7)    /* building: send 61 = type 1 + chaddr */
#define DHCP_HAS_MTU (1u << 8)

/* A message, decoded.  Addresses are IPv4 in host byte order. */
struct dhcp_msg {
	u8 op;                          /* DHCP_OP_* */
	u8 type;                        /* enum dhcp_type (option 53) */
	u32 xid;
	u16 secs, flags;
	u32 ciaddr, yiaddr, siaddr, giaddr;
	struct mac_addr chaddr;
	u32 has;                        /* DHCP_HAS_* */
	u32 mask, router, server_id, requested_ip;
	u32 lease_s, t1_s, t2_s;        /* seconds */
	u16 mtu;                        /* option 26 */
	u32 dns[DHCP_DNS_MAX];
	u8 ndns;
	u8 nparams;
	u8 params[DHCP_PARAMS_MAX];     /* option 55 */
	char hostname[DHCP_HOSTNAME_MAX + 1];   /* option 12; "" when absent */
};

/*
 * Encode @m into @buf (@cap bytes): the message's length, or -EMSGSIZE when
 * it does not fit (nothing useful is left in @buf then).  @m->type must be
 * set (-EINVAL otherwise).
 */
int dhcp_msg_build(const struct dhcp_msg *m, u8 *buf, size_t cap);

/*
 * Decode the @len bytes at @p into *@out: 0, or -EBADMSG for anything that
 * is not a well-formed DHCP message (see the top).  @out is written even on
 * failure; do not use it then.
 */
int dhcp_msg_parse(const u8 *p, size_t len, struct dhcp_msg *out);

/* "DISCOVER", "OFFER" ...; "?" for an unknown type. */
const char *dhcp_type_name(u8 type);

#endif
