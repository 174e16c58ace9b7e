/*
 * udpshell.c — the UDP shell server: its start and stop, the key, the
 * socket's handler (wire checks, authentication, the log of refused
 * sources) and the status.  Sessions and replies are udpshell_session.c's,
 * running commands udpshell_job.c's; the design is in udpshell_priv.h.
 *
 * Input.  ush_input() runs in the NET_RX SoftIrq with the datagram.  It
 * refuses, in this order, what the wire format rejects (udpshell_proto.c),
 * then — when a key is set — a request without a tag or with a wrong one.
 * Each refusal is counted by reason; authentication failures are also
 * logged, once per source address and reason (the last USH_LOG_SOURCES
 * pairs are remembered) and at most one line per USH_LOG_GAP_NS, so a
 * flood from forged addresses cannot fill the log.  What passes becomes a struct
 * ush_req for the session layer, which applies the counter rules.  The
 * netbuf is put before the handler returns: the request's line is copied
 * out by whoever keeps it.
 *
 * Start and stop run under the "udpshell ctl" mutex.  Stop first moves the
 * state to STOPPING (new requests are dropped, sinks refuse output), then
 * interrupts the running commands, waits for the runners (ops->close),
 * closes the socket and forgets the sessions.
 */
#include "net/udpshell_priv.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "lib/parse.h"
#include "lib/string.h"

struct ush_server ush = {
	.lock = SPINLOCK_INIT("udpshell"),
	.keep_reply = USH_KEEP_REPLY,
	.keep_total = USH_KEEP_TOTAL,
};

/* ush_admit()'s answer for a datagram that arrives while the server is not on. */
#define USH_NOT_ON USH_DROP_COUNT

static const char *const ush_drop_names[USH_DROP_COUNT - USH_BAD_COUNT] = {
	[USH_DROP_NO_AUTH - USH_BAD_COUNT] = "no tag",
	[USH_DROP_BAD_TAG - USH_BAD_COUNT] = "bad tag",
	[USH_DROP_OLD - USH_BAD_COUNT] = "old counter",
	[USH_DROP_WINDOW - USH_BAD_COUNT] = "bad window",
	[USH_DROP_NO_CLOCK - USH_BAD_COUNT] = "no clock",
};

/* For the log: why a request was refused, in words. */
static const char *ush_drop_why(unsigned why)
{
	switch (why) {
	case USH_DROP_NO_AUTH: return "no tag, and a key is set";
	case USH_DROP_BAD_TAG: return "wrong tag (another key, or altered on the way)";
	case USH_DROP_OLD: return "counter not newer than the session's (a replay?)";
	case USH_DROP_WINDOW: return "counter too far from our clock for a new session";
	case USH_DROP_NO_CLOCK: return "our wall clock is not set, so no new session can be checked";
	default: return ush_drop_name(why);
	}
}

const char *ush_drop_name(unsigned why)
{
	if (why < USH_BAD_COUNT)
		return ush_bad_name((enum ush_bad)why);
	if (why < USH_DROP_COUNT)
		return ush_drop_names[why - USH_BAD_COUNT];
	return "?";
}

void ush_count_drop(unsigned why)
{
	if (why < USH_DROP_COUNT)
		__atomic_fetch_add(&ush.stats.drops[why], 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ the log */

/* Lock held: should a failure @why from @a be logged now?  Remembers the pair if so. */
static bool ush_log_claim(const struct ip_addr *a, unsigned why, u64 now)
{
	unsigned n = MIN(ush.nlogged, (unsigned)USH_LOG_SOURCES), at;

	for (unsigned i = 0; i < n; i++)
		if (ush.logged_why[i] == why && ip_eq(&ush.logged[i], a))
			return false;
	if (ush.nlogged && now - ush.last_log_ns < USH_LOG_GAP_NS)
		return false; /* not remembered: it may be logged later */
	at = ush.nlogged % USH_LOG_SOURCES;
	ush.logged[at] = *a;
	ush.logged_why[at] = (u8)why;
	ush.nlogged++;
	ush.last_log_ns = now;
	return true;
}

void ush_auth_fail(const struct ip_addr *addr, u16 port, unsigned why, u64 now)
{
	char text[IP_STR_MAX];
	bool log;

	ush_count_drop(why);
	spin_lock(&ush.lock);
	log = ush_log_claim(addr, why, now);
	spin_unlock(&ush.lock);
	if (log)
		pr_warn("udpshell: dropped a request from %s:%u: %s (logged once per source and "
			"reason)",
			ip_format(addr, text), port, ush_drop_why(why));
}

/* -------------------------------------------------------------- input */

/* The request's line: the payload without the line end a client may have sent. */
static void ush_req_line(struct ush_req *r, const struct ush_pkt *p)
{
	u32 len = p->h.len;

	while (len && (p->payload[len - 1] == '\n' || p->payload[len - 1] == '\r'))
		len--;
	r->line = (const char *)p->payload;
	r->len = len;
}

/* Authenticate @p and describe it in @r: 0, USH_NOT_ON or an auth drop reason. */
static unsigned ush_admit(const struct ush_pkt *p, const struct udp_meta *from, struct ush_req *r)
{
	const struct ush_ops *ops;
	enum ush_state state;

	memset(r, 0, sizeof(*r));
	r->addr = from->src;
	r->port = from->sport;
	r->seq = p->h.seq;
	r->now_ns = time_ns();
	ush_req_line(r, p);
	spin_lock(&ush.lock);
	state = ush.state;
	ops = ush.ops;
	r->auth = ush.keyed;
	r->key_gen = ush.key_gen;
	if (r->auth)
		r->key = ush.key;
	spin_unlock(&ush.lock);
	if (state != USH_ON)
		return USH_NOT_ON;
	if (!r->auth)
		return 0;
	if (!(p->h.flags & USH_F_AUTH))
		return USH_DROP_NO_AUTH;
	if (!ush_verify(&r->key, p))
		return USH_DROP_BAD_TAG;
	r->counter = p->counter;
	memcpy(r->tag, p->tag, USH_SEEN_TAG);
	r->wall_rc = ops->wall_ns(&r->wall_ns);
	return 0;
}

/* The socket's handler (NET_RX SoftIrq): owns @nb. */
static void ush_input(void *arg, struct netbuf *nb, const struct udp_meta *from)
{
	struct ush_req r;
	struct ush_pkt p;
	unsigned why;

	USH_COUNT(rx);
	why = ush_parse(nb->data, nb->len, &p);
	if (why == USH_OK)
		why = ush_check_request(&p);
	if (why != USH_OK) {
		ush_count_drop(why);
		nb_put(nb);
		return;
	}
	why = ush_admit(&p, from, &r);
	if (why == 0)
		ush_session_request(&r); /* r.line points into nb until here */
	else if (why != USH_NOT_ON)
		ush_auth_fail(&r.addr, r.port, why, r.now_ns);
	nb_put(nb);
	crypto_memzero(&r.key, sizeof(r.key));
}

int ush_send(const void *pkt, size_t n, const struct ip_addr *addr, u16 port, bool may_sleep)
{
	struct udp_sock *s = __atomic_load_n(&ush.sock, __ATOMIC_ACQUIRE);
	int rc = -ENOTCONN;

	for (unsigned tries = 1; s; tries++) {
		rc = udp_sendto_bytes(s, addr, port, pkt, n);
		if (rc != -ENOBUFS || !may_sleep || tries >= USH_SEND_TRIES)
			break;
		sched_sleep_ns(USH_BACKOFF_NS);
	}
	if (rc)
		USH_COUNT(send_errors);
	return rc;
}

/* ---------------------------------------------------------- start, stop */

/* Take the ctl mutex, setting it up on first use. */
static void ush_ctl_lock(void)
{
	spin_lock(&ush.lock);
	if (!ush.ctl_ready) {
		mutex_init(&ush.ctl, "udpshell ctl");
		ush.ctl_ready = true;
	}
	spin_unlock(&ush.lock);
	mutex_lock(&ush.ctl);
}

static void ush_log_started(u16 port, bool keyed)
{
	if (keyed)
		pr_info("udpshell: listening on UDP port %u; requests must carry an HMAC-SHA256 tag",
			port);
	else
		pr_warn("udpshell: listening on UDP port %u without a key: anyone who can reach it "
			"runs commands", port);
}

int ush_start_with(u16 port, const struct ush_ops *ops)
{
	struct udp_sock *sock;
	bool keyed;
	int rc;

	if (!port)
		return -EINVAL;
	ush_ctl_lock();
	rc = ush.state == USH_OFF ? ops->open() : -EALREADY;
	if (rc)
		goto out;
	rc = udp_bind(port, ush_input, NULL, &sock);
	if (rc) {
		ops->close();
		goto out;
	}
	__atomic_store_n(&ush.sock, sock, __ATOMIC_RELEASE);
	spin_lock(&ush.lock);
	ush.ops = ops;
	ush.port = port;
	ush.state = USH_ON;
	keyed = ush.keyed;
	spin_unlock(&ush.lock);
	ush_log_started(port, keyed);
out:
	mutex_unlock(&ush.ctl);
	return rc;
}

/* Lock held: the jobs in use now, into @out; how many. */
static unsigned ush_jobs_in_use(struct ush_job **out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < USH_RUN_MAX; i++)
		if (ush.jobs[i].in_use)
			out[n++] = &ush.jobs[i];
	return n;
}

int ush_stop_server(void)
{
	struct ush_job *running[USH_RUN_MAX];
	const struct ush_ops *ops;
	unsigned n = 0;
	bool on;
	u16 port;

	ush_ctl_lock();
	spin_lock(&ush.lock);
	ops = ush.ops;
	port = ush.port;
	on = ush.state == USH_ON; /* STOPPING only ever under ctl, which we hold */
	if (on) {
		ush.state = USH_STOPPING;
		n = ush_jobs_in_use(running);
	}
	spin_unlock(&ush.lock);
	if (!on) {
		mutex_unlock(&ush.ctl);
		return -ENOENT;
	}
	for (unsigned i = 0; i < n; i++)
		ops->interrupt(running[i]);
	ops->close();
	udp_close(__atomic_exchange_n(&ush.sock, NULL, __ATOMIC_ACQ_REL));
	ush_sessions_reset();
	spin_lock(&ush.lock);
	ush.state = USH_OFF;
	ush.ops = NULL;
	ush.port = 0;
	spin_unlock(&ush.lock);
	mutex_unlock(&ush.ctl);
	pr_info("udpshell: stopped (port %u closed)", port);
	return 0;
}

/* ----------------------------------------------------------------- key */

void udpshell_set_key(const u8 *key)
{
	struct ush_key k;
	bool on;
	u16 port;

	memset(&k, 0, sizeof(k));
	if (key)
		ush_key_init(&k, key);
	spin_lock(&ush.lock);
	ush.keyed = key != NULL;
	ush.key = k;
	ush.key_gen++;
	on = ush.state == USH_ON;
	port = ush.port;
	spin_unlock(&ush.lock);
	crypto_memzero(&k, sizeof(k));
	if (key)
		pr_info("udpshell: key set; requests must carry an HMAC-SHA256 tag");
	else if (on)
		pr_warn("udpshell: key removed: anyone who can reach UDP port %u runs commands", port);
}

int udpshell_parse_key(const char *hex, u8 key[USH_KEY_LEN])
{
	size_t len;

	if (!hex || strlen(hex) != 2 * USH_KEY_LEN)
		return -EINVAL;
	if (parse_hex_bytes(hex, key, USH_KEY_LEN, &len) || len != USH_KEY_LEN)
		return -EINVAL;
	return 0;
}

/* -------------------------------------------------------------- status */

static void ush_stats_copy(struct udpshell_stats *out)
{
	const u64 *src = (const u64 *)&ush.stats;
	u64 *dst = (u64 *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(u64); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void udpshell_get_status(struct udpshell_status *out)
{
	u64 now = time_ns();

	memset(out, 0, sizeof(*out));
	spin_lock(&ush.lock);
	out->running = ush.state == USH_ON;
	out->port = ush.port;
	out->keyed = ush.keyed;
	out->stored_bytes = ush.stored;
	for (unsigned i = 0; i < USH_SESSIONS; i++) {
		out->sessions += ush_session_live(&ush.sessions[i], now);
		out->running_cmds += ush.sessions[i].used && ush.sessions[i].job;
	}
	spin_unlock(&ush.lock);
	ush_stats_copy(&out->stats);
}

unsigned udpshell_sessions(struct udpshell_session_info *out, unsigned max)
{
	u64 now = time_ns();
	unsigned n = 0;

	spin_lock(&ush.lock);
	for (unsigned i = 0; i < USH_SESSIONS && n < max; i++) {
		const struct ush_session *s = &ush.sessions[i];

		if (!ush_session_live(s, now))
			continue;
		out[n++] = (struct udpshell_session_info){
			.addr = s->addr, .port = s->port, .idle_ns = now - s->last_ns,
			.seq = s->last_seq, .running = s->job != NULL,
			.chunks = s->reply.nchunks, .kept = s->reply.nkept,
			.kept_bytes = s->reply.bytes,
		};
	}
	spin_unlock(&ush.lock);
	return n;
}
