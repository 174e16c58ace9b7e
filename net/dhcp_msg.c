/*
 * dhcp_msg.c — building and parsing DHCP messages (see dhcp_msg.h for the
 * layout and the rules for hostile input).
 *
 * Parsing is two steps: the fixed part (length, op, hardware type, cookie),
 * then the option fields.  Each field is walked by opts_walk() with its own
 * bounds, so an option can never be read past the field it sits in, let
 * alone past the message; each option is checked for its length by
 * opt_take() before a byte of its value is used.  Building writes through
 * a small cursor (struct wr) that refuses to step past the buffer's end, so
 * a caller's too-small buffer is an error, never an overflow.
 */
#include "net/dhcp_msg.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/string.h"

#define OFF_XID 4
#define OFF_SECS 8
#define OFF_FLAGS 10
#define OFF_CIADDR 12
#define OFF_YIADDR 16
#define OFF_SIADDR 20
#define OFF_GIADDR 24
#define OFF_CHADDR 28
#define OFF_SNAME 44
#define SNAME_LEN 64
#define OFF_FILE 108
#define FILE_LEN 128
#define OFF_MAGIC 236

#define OVERLOAD_FILE 1u
#define OVERLOAD_SNAME 2u

static const char *const type_names[] = {
	[DHCP_DISCOVER] = "DISCOVER", [DHCP_OFFER] = "OFFER", [DHCP_REQUEST] = "REQUEST",
	[DHCP_DECLINE] = "DECLINE",   [DHCP_ACK] = "ACK",     [DHCP_NAK] = "NAK",
	[DHCP_RELEASE] = "RELEASE",   [DHCP_INFORM] = "INFORM",
};

const char *dhcp_type_name(u8 type)
{
	return type && type < ARRAY_SIZE(type_names) ? type_names[type] : "?";
}

/* ------------------------------------------------------------- parsing */

/* A list of IPv4 addresses (router, DNS): @n kept at most. */
static u8 take_addrs(const u8 *v, u8 len, u32 *out, u8 have, u8 n)
{
	for (u8 i = 0; i + 4 <= len && have < n; i += 4)
		out[have++] = get_be32(v + i);
	return have;
}

/* A 4-byte option into *@field with its presence bit; ignored at another length. */
static void take_u32(struct dhcp_msg *m, u32 bit, u32 *field, const u8 *v, u8 len)
{
	if (len != 4)
		return;
	*field = get_be32(v);
	m->has |= bit;
}

/* Option 26: two bytes, at least DHCP_MTU_MIN; ignored otherwise. */
static void take_mtu(struct dhcp_msg *m, const u8 *v, u8 len)
{
	if (len != 2 || get_be16(v) < DHCP_MTU_MIN)
		return;
	m->mtu = get_be16(v);
	m->has |= DHCP_HAS_MTU;
}

static void take_hostname(struct dhcp_msg *m, const u8 *v, u8 len)
{
	size_t n = MIN((size_t)len, (size_t)DHCP_HOSTNAME_MAX);

	for (size_t i = 0; i < n; i++)
		m->hostname[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
	m->hostname[n] = '\0';
}

static void take_params(struct dhcp_msg *m, const u8 *v, u8 len)
{
	for (u8 i = 0; i < len && m->nparams < DHCP_PARAMS_MAX; i++)
		m->params[m->nparams++] = v[i];
}

/* One option of @len bytes at @v; *@overload collects option 52. */
static void opt_take(struct dhcp_msg *m, u8 code, const u8 *v, u8 len, u8 *overload)
{
	switch (code) {
	case DHCP_OPT_MSG_TYPE:
		if (len == 1)
			m->type = v[0];
		break;
	case DHCP_OPT_OVERLOAD:
		if (len == 1 && overload)
			*overload = v[0] & (OVERLOAD_FILE | OVERLOAD_SNAME);
		break;
	case DHCP_OPT_MASK: take_u32(m, DHCP_HAS_MASK, &m->mask, v, len); break;
	case DHCP_OPT_SERVER_ID: take_u32(m, DHCP_HAS_SERVER_ID, &m->server_id, v, len); break;
	case DHCP_OPT_REQUESTED_IP:
		take_u32(m, DHCP_HAS_REQUESTED_IP, &m->requested_ip, v, len);
		break;
	case DHCP_OPT_LEASE: take_u32(m, DHCP_HAS_LEASE, &m->lease_s, v, len); break;
	case DHCP_OPT_T1: take_u32(m, DHCP_HAS_T1, &m->t1_s, v, len); break;
	case DHCP_OPT_T2: take_u32(m, DHCP_HAS_T2, &m->t2_s, v, len); break;
	case DHCP_OPT_MTU: take_mtu(m, v, len); break;
	case DHCP_OPT_ROUTER:
		if (len >= 4 && len % 4 == 0 && !(m->has & DHCP_HAS_ROUTER)) {
			m->router = get_be32(v);
			m->has |= DHCP_HAS_ROUTER;
		}
		break;
	case DHCP_OPT_DNS:
		if (len >= 4 && len % 4 == 0)
			m->ndns = take_addrs(v, len, m->dns, m->ndns, DHCP_DNS_MAX);
		break;
	case DHCP_OPT_HOSTNAME:
		if (len)
			take_hostname(m, v, len);
		break;
	case DHCP_OPT_PARAMS: take_params(m, v, len); break;
	case DHCP_OPT_CLIENT_ID: m->has |= DHCP_HAS_CLIENT_ID; break;
	default: break; /* not ours to understand */
	}
}

/*
 * Walk the options in the @len bytes at @p: 0 at END or at the field's end,
 * -EBADMSG when an option's length byte or value would run past it.
 * @overload is NULL inside sname/file (no second overload).
 */
static int opts_walk(struct dhcp_msg *m, const u8 *p, size_t len, u8 *overload)
{
	size_t i = 0;

	while (i < len) {
		u8 code = p[i], olen;

		if (code == DHCP_OPT_END)
			return 0;
		if (code == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (i + 2 > len)
			return -EBADMSG;
		olen = p[i + 1];
		if (olen > len - i - 2)
			return -EBADMSG;
		opt_take(m, code, p + i + 2, olen, overload);
		i += 2u + olen;
	}
	return 0;
}

static int parse_fixed(const u8 *p, size_t len, struct dhcp_msg *m)
{
	if (len < DHCP_OPTIONS_OFF || get_be32(p + OFF_MAGIC) != DHCP_MAGIC)
		return -EBADMSG;
	if ((p[0] != DHCP_OP_REQUEST && p[0] != DHCP_OP_REPLY) || p[1] != 1 || p[2] != MAC_LEN)
		return -EBADMSG;
	m->op = p[0];
	m->xid = get_be32(p + OFF_XID);
	m->secs = get_be16(p + OFF_SECS);
	m->flags = get_be16(p + OFF_FLAGS);
	m->ciaddr = get_be32(p + OFF_CIADDR);
	m->yiaddr = get_be32(p + OFF_YIADDR);
	m->siaddr = get_be32(p + OFF_SIADDR);
	m->giaddr = get_be32(p + OFF_GIADDR);
	memcpy(m->chaddr.b, p + OFF_CHADDR, MAC_LEN);
	return 0;
}

int dhcp_msg_parse(const u8 *p, size_t len, struct dhcp_msg *out)
{
	u8 overload = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_fixed(p, len, out);
	if (!rc)
		rc = opts_walk(out, p + DHCP_OPTIONS_OFF, len - DHCP_OPTIONS_OFF, &overload);
	if (!rc && (overload & OVERLOAD_FILE))
		rc = opts_walk(out, p + OFF_FILE, FILE_LEN, NULL);
	if (!rc && (overload & OVERLOAD_SNAME))
		rc = opts_walk(out, p + OFF_SNAME, SNAME_LEN, NULL);
	if (!rc && !out->type)
		rc = -EBADMSG; /* BOOTP, or a DHCP message without its type */
	return rc;
}

/* ------------------------------------------------------------ building */

/* A write cursor that never passes @end; @ok goes false on the first refusal. */
struct wr {
	u8 *p, *end;
	bool ok;
};

static u8 *wr_take(struct wr *w, size_t n)
{
	u8 *at = w->p;

	if (!w->ok || n > (size_t)(w->end - w->p)) {
		w->ok = false;
		return NULL;
	}
	w->p += n;
	return at;
}

static void wr_opt(struct wr *w, u8 code, const void *val, u8 len)
{
	u8 *at = wr_take(w, 2u + len);

	if (!at)
		return;
	at[0] = code;
	at[1] = len;
	memcpy(at + 2, val, len);
}

static void wr_opt_u32(struct wr *w, u8 code, u32 v)
{
	u8 b[4];

	put_be32(b, v);
	wr_opt(w, code, b, 4);
}

static void wr_opt_addrs(struct wr *w, u8 code, const u32 *a, u8 n)
{
	u8 b[4 * DHCP_DNS_MAX];

	n = MIN(n, (u8)DHCP_DNS_MAX);
	for (u8 i = 0; i < n; i++)
		put_be32(b + 4 * i, a[i]);
	wr_opt(w, code, b, (u8)(4 * n));
}

static void build_fixed(const struct dhcp_msg *m, u8 *p)
{
	memset(p, 0, DHCP_OPTIONS_OFF);
	p[0] = m->op ? m->op : DHCP_OP_REQUEST;
	p[1] = 1;
	p[2] = MAC_LEN;
	put_be32(p + OFF_XID, m->xid);
	put_be16(p + OFF_SECS, m->secs);
	put_be16(p + OFF_FLAGS, m->flags);
	put_be32(p + OFF_CIADDR, m->ciaddr);
	put_be32(p + OFF_YIADDR, m->yiaddr);
	put_be32(p + OFF_SIADDR, m->siaddr);
	put_be32(p + OFF_GIADDR, m->giaddr);
	memcpy(p + OFF_CHADDR, m->chaddr.b, MAC_LEN);
	put_be32(p + OFF_MAGIC, DHCP_MAGIC);
}

/* The client's options: who it is and what it asks for. */
static void build_client_opts(const struct dhcp_msg *m, struct wr *w)
{
	if (m->has & DHCP_HAS_CLIENT_ID) {
		u8 id[1 + MAC_LEN] = { 1 };

		memcpy(id + 1, m->chaddr.b, MAC_LEN);
		wr_opt(w, DHCP_OPT_CLIENT_ID, id, sizeof(id));
	}
	if (m->has & DHCP_HAS_REQUESTED_IP)
		wr_opt_u32(w, DHCP_OPT_REQUESTED_IP, m->requested_ip);
	if (m->hostname[0])
		wr_opt(w, DHCP_OPT_HOSTNAME, m->hostname,
		       (u8)strnlen(m->hostname, DHCP_HOSTNAME_MAX));
	if (m->nparams)
		wr_opt(w, DHCP_OPT_PARAMS, m->params, MIN(m->nparams, (u8)DHCP_PARAMS_MAX));
}

/* The server's options: what it grants. */
static void build_server_opts(const struct dhcp_msg *m, struct wr *w)
{
	if (m->has & DHCP_HAS_SERVER_ID)
		wr_opt_u32(w, DHCP_OPT_SERVER_ID, m->server_id);
	if (m->has & DHCP_HAS_LEASE)
		wr_opt_u32(w, DHCP_OPT_LEASE, m->lease_s);
	if (m->has & DHCP_HAS_T1)
		wr_opt_u32(w, DHCP_OPT_T1, m->t1_s);
	if (m->has & DHCP_HAS_T2)
		wr_opt_u32(w, DHCP_OPT_T2, m->t2_s);
	if (m->has & DHCP_HAS_MASK)
		wr_opt_u32(w, DHCP_OPT_MASK, m->mask);
	if (m->has & DHCP_HAS_ROUTER)
		wr_opt_u32(w, DHCP_OPT_ROUTER, m->router);
	if (m->ndns)
		wr_opt_addrs(w, DHCP_OPT_DNS, m->dns, m->ndns);
	if (m->has & DHCP_HAS_MTU) {
		u8 b[2];

		put_be16(b, m->mtu);
		wr_opt(w, DHCP_OPT_MTU, b, 2);
	}
}

int dhcp_msg_build(const struct dhcp_msg *m, u8 *buf, size_t cap)
{
	struct wr w = { buf, buf + cap, true };
	u8 *fixed, *end;
	size_t len;

	if (!m->type)
		return -EINVAL;
	fixed = wr_take(&w, DHCP_OPTIONS_OFF);
	if (!fixed)
		return -EMSGSIZE;
	build_fixed(m, fixed);
	wr_opt(&w, DHCP_OPT_MSG_TYPE, &m->type, 1);
	build_client_opts(m, &w);
	build_server_opts(m, &w);
	end = wr_take(&w, 1);
	if (!end)
		return -EMSGSIZE;
	*end = DHCP_OPT_END;
	len = (size_t)(w.p - buf);
	if (len < DHCP_MSG_MIN && cap >= DHCP_MSG_MIN) {
		memset(w.p, 0, DHCP_MSG_MIN - len);
		len = DHCP_MSG_MIN;
	}
	return (int)len;
}
