/*
 * dns.c — the resolver: cache, retries, server choice (see dns.h).  The
 * bytes on the wire are net/dns_msg.c's business.
 *
 * A lookup is: normalise the name (lower case, no trailing dot: the cache
 * key); try the cache; else open a socket on a random port, and for each
 * try send the query to the next server and read what comes until that
 * try's deadline, keeping only a well-formed answer to our question from
 * one of our servers; then cache what the answer says and return it.
 *
 * The cache is a plain array (32 entries: a scan costs less than any
 * index would) under one spinlock, copied in and out whole.
 */
#include "net/dns.h"
#include "net/netdev.h"
#include "net/udp.h"
#include "errno.h"
#include "kernel/params.h"
#include "kernel/random.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NS_PER_S 1000000000ull

KPARAM(dns, "dns", "on|off", "dns=off: look no names up (dotted quads still work)");

/* Legend: all [c] the cache lock. */
struct dns_entry {
	char name[DNS_NAME_MAX + 1];    /* "" when free */
	int status;                     /* 0, -ENOENT, -ENODATA */
	u8 naddrs;
	u32 addrs[DNS_CACHE_ADDRS];
	u64 expires_ns, used_ns;
};

static struct {
	spinlock_t lock;
	struct dns_entry e[DNS_CACHE_SIZE];
} cache = { .lock = SPINLOCK_INIT("dns cache") };

static bool enabled = true;
static struct dns_stats stats; /* [a] (cached: computed) */

#define STAT_INC(field) __atomic_fetch_add(&stats.field, 1, __ATOMIC_RELAXED)

void dns_set_enabled(bool on)
{
	__atomic_store_n(&enabled, on, __ATOMIC_RELAXED);
}

bool dns_enabled(void)
{
	return __atomic_load_n(&enabled, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------- cache */

static bool entry_live(const struct dns_entry *e, u64 now)
{
	return e->name[0] && now < e->expires_ns;
}

static struct dns_entry *cache_find_locked(const char *key)
{
	for (unsigned i = 0; i < DNS_CACHE_SIZE; i++)
		if (cache.e[i].name[0] && !strcmp(cache.e[i].name, key))
			return &cache.e[i];
	return NULL;
}

/* Where a new entry goes: a free one, an expired one, else the least recently used. */
static struct dns_entry *cache_victim_locked(u64 now)
{
	struct dns_entry *best = &cache.e[0];

	for (unsigned i = 0; i < DNS_CACHE_SIZE; i++) {
		struct dns_entry *e = &cache.e[i];

		if (!entry_live(e, now))
			return e;
		if (e->used_ns < best->used_ns)
			best = e;
	}
	return best;
}

/* 1 on a miss; else the cached status with @res filled. */
static int cache_get(const char *key, struct dns_result *res)
{
	u64 now = time_ns();
	struct dns_entry *e;
	int rc = 1;

	spin_lock(&cache.lock);
	e = cache_find_locked(key);
	if (e && entry_live(e, now)) {
		e->used_ns = now;
		rc = e->status;
		res->naddrs = e->naddrs;
		for (unsigned i = 0; i < e->naddrs; i++)
			res->addrs[i] = ip_v4(e->addrs[i]);
		res->ttl = (u32)((e->expires_ns - now + NS_PER_S - 1) / NS_PER_S);
		res->cached = true;
	}
	spin_unlock(&cache.lock);
	return rc;
}

/* Remember the outcome @status of looking @key up (0, -ENOENT, -ENODATA) for res->ttl. */
static void cache_put(const char *key, int status, const struct dns_result *res)
{
	u64 now = time_ns();
	struct dns_entry *e;

	spin_lock(&cache.lock);
	e = cache_find_locked(key);
	if (!res->ttl) {
		if (e)
			e->name[0] = '\0';
	} else {
		if (!e)
			e = cache_victim_locked(now);
		strlcpy(e->name, key, sizeof(e->name));
		e->status = status;
		e->naddrs = (u8)MIN(res->naddrs, (unsigned)DNS_CACHE_ADDRS);
		for (unsigned i = 0; i < e->naddrs; i++)
			e->addrs[i] = res->addrs[i].v4;
		e->expires_ns = now + (u64)res->ttl * NS_PER_S;
		e->used_ns = now;
	}
	spin_unlock(&cache.lock);
}

void dns_flush(void)
{
	spin_lock(&cache.lock);
	for (unsigned i = 0; i < DNS_CACHE_SIZE; i++)
		cache.e[i].name[0] = '\0';
	spin_unlock(&cache.lock);
}

/* ----------------------------------------------------------- servers */

static unsigned add_server(struct ip_addr *out, unsigned n, unsigned max, const struct ip_addr *a)
{
	if (!ip_is_v4(a) || !a->v4 || n >= max)
		return n;
	for (unsigned i = 0; i < n; i++)
		if (ip_eq(&out[i], a))
			return n;
	out[n] = *a;
	return n + 1;
}

static unsigned add_dev_servers(struct netdev *dev, struct ip_addr *out, unsigned n, unsigned max)
{
	struct netdev_ipv4 cfg;

	netdev_get_ipv4(dev, &cfg);
	for (unsigned i = 0; i < NETDEV_DNS_MAX; i++)
		n = add_server(out, n, max, &cfg.dns[i]);
	return n;
}

unsigned dns_servers(struct ip_addr *out, unsigned max)
{
	struct netdev *def = netdev_default();
	unsigned n = 0;

	if (def)
		n = add_dev_servers(def, out, n, max);
	for (unsigned i = 0; i < netdev_count(); i++)
		if (netdev_at(i) != def)
			n = add_dev_servers(netdev_at(i), out, n, max);
	return n;
}

/* ------------------------------------------------------------ queries */

/* One lookup's working state (on the heap: the reply is 2 KiB). */
struct query {
	const char *name;
	u16 id;
	struct udp_sock *sock;
	struct ip_addr servers[DNS_SERVERS_MAX];
	unsigned nservers;
	u8 msg[DNS_QUERY_MAX];
	int msg_len;
	struct dns_reply reply;
	struct ip_addr from;
};

static bool from_a_server(const struct query *q, const struct udp_meta *m)
{
	if (m->sport != DNS_PORT)
		return false;
	for (unsigned i = 0; i < q->nservers; i++)
		if (ip_eq(&q->servers[i], &m->src))
			return true;
	return false;
}

/* Read until the answer comes or @deadline: 0 (q->reply set), -ETIMEDOUT, -EINTR. */
static int await_answer(struct query *q, u64 deadline)
{
	for (;;) {
		u64 now = time_ns();
		struct udp_meta m;
		struct netbuf *nb;
		int rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = udp_recv(q->sock, &nb, &m, deadline - now);
		if (rc)
			return rc;
		rc = from_a_server(q, &m) ? dns_msg_parse(nb->data, nb->len, q->id, q->name, &q->reply)
					   : -EPROTO;
		nb_put(nb);
		if (!rc) {
			q->from = m.src;
			return 0;
		}
		STAT_INC(ignored);
	}
}

/* What the answer means: the lookup's status, with @res filled. */
static int answer_status(const struct dns_reply *r, struct dns_result *res)
{
	res->naddrs = MIN(r->naddrs, (unsigned)DNS_ADDRS_MAX);
	for (unsigned i = 0; i < res->naddrs; i++)
		res->addrs[i] = ip_v4(r->addrs[i]);
	res->ncnames = r->ncnames;
	memcpy(res->cnames, r->cnames, sizeof(res->cnames));
	if (r->rcode == DNS_RCODE_NOERROR && r->naddrs) {
		res->ttl = MIN(r->ttl, DNS_TTL_MAX);
		return 0;
	}
	if (r->rcode == DNS_RCODE_NXDOMAIN || (r->rcode == DNS_RCODE_NOERROR && !r->truncated)) {
		res->ttl = r->has_soa ? MIN(r->ttl, DNS_NEG_TTL_MAX) : DNS_NEG_TTL_DEFAULT;
		return r->rcode == DNS_RCODE_NXDOMAIN ? -ENOENT : -ENODATA;
	}
	res->ttl = 0;
	return -EIO; /* SERVFAIL, REFUSED, NOTIMP, a truncated answer without addresses */
}

/* The wait of try @i (0-based): 20%, 30%, 50% of @budget. */
static u64 try_share(unsigned i, u64 budget)
{
	static const u8 pct[DNS_TRIES] = { 20, 30, 50 };

	return budget / 100 * pct[i < DNS_TRIES ? i : DNS_TRIES - 1];
}

/* Send the query for try @i and wait for its answer: 0, -ETIMEDOUT, -EIO, -EINTR, send errors. */
static int one_try(struct query *q, unsigned i, u64 until, struct dns_result *res)
{
	const struct ip_addr *server = &q->servers[i % q->nservers];
	int rc;

	STAT_INC(queries);
	rc = udp_sendto_bytes(q->sock, server, DNS_PORT, q->msg, (size_t)q->msg_len);
	if (rc)
		return rc;
	rc = await_answer(q, until);
	if (rc)
		return rc;
	res->server = q->from;
	return answer_status(&q->reply, res);
}

static int run_query(struct query *q, u64 budget, struct dns_result *res)
{
	u64 start = time_ns(), until = start;
	int rc = -ETIMEDOUT;

	for (unsigned i = 0; i < DNS_TRIES; i++) {
		until = MIN(until + try_share(i, budget), start + budget);
		rc = one_try(q, i, until, res);
		if (rc != -ETIMEDOUT && rc != -EIO)
			break;
		if (rc == -EIO)
			STAT_INC(failures);
	}
	if (rc == -ETIMEDOUT)
		STAT_INC(timeouts);
	return rc;
}

static int query_servers(const char *key, u64 budget, struct dns_result *res)
{
	struct query *q = kzalloc(sizeof(*q));
	u16 id;
	int rc;

	if (!q)
		return -ENOMEM;
	q->name = key;
	q->nservers = dns_servers(q->servers, DNS_SERVERS_MAX);
	random_bytes(&id, sizeof(id));
	q->id = id;
	q->msg_len = dns_msg_query(q->msg, sizeof(q->msg), q->id, key);
	rc = !q->nservers ? -ENXIO : q->msg_len < 0 ? q->msg_len : udp_open(0, 8, &q->sock);
	if (!rc)
		rc = run_query(q, budget, res);
	udp_close(q->sock);
	kfree(q);
	if (!rc || rc == -ENOENT || rc == -ENODATA)
		STAT_INC(answers);
	if (rc == -ENOENT)
		STAT_INC(nxdomain);
	return rc;
}

/* @name in lower case without a trailing dot, into @key (DNS_NAME_MAX + 1). */
static void name_key(const char *name, char *key)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n; i++)
		key[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
	key[n] = '\0';
}

int dns_lookup(const char *name, struct dns_result *res, u64 timeout_ns, unsigned flags)
{
	char key[DNS_NAME_MAX + 1];
	struct ip_addr a;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!ip_parse(name, &a)) {
		res->naddrs = 1;
		res->addrs[0] = a;
		return 0;
	}
	if (dns_name_check(name))
		return -EINVAL;
	if (!dns_enabled())
		return -EOPNOTSUPP;
	STAT_INC(lookups);
	name_key(name, key);
	if (!(flags & DNS_F_NOCACHE)) {
		rc = cache_get(key, res);
		if (rc <= 0) {
			STAT_INC(cache_hits);
			if (rc)
				STAT_INC(negative_hits);
			return rc;
		}
	}
	rc = query_servers(key, timeout_ns ? MIN(timeout_ns, DNS_TIMEOUT_NS) : DNS_TIMEOUT_NS, res);
	if (!rc || rc == -ENOENT || rc == -ENODATA)
		cache_put(key, rc, res);
	return rc;
}

int dns_resolve(const char *name, struct ip_addr *out, u64 timeout_ns)
{
	struct dns_result *res;
	struct ip_addr a;
	int rc;

	if (!ip_parse(name, &a)) {
		*out = a;
		return 0;
	}
	res = kmalloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	rc = dns_lookup(name, res, timeout_ns, 0);
	if (!rc)
		*out = res->addrs[0];
	kfree(res);
	return rc;
}

void dns_get_stats(struct dns_stats *out)
{
	u64 now = time_ns();

	*out = (struct dns_stats){
		.lookups = __atomic_load_n(&stats.lookups, __ATOMIC_RELAXED),
		.cache_hits = __atomic_load_n(&stats.cache_hits, __ATOMIC_RELAXED),
		.negative_hits = __atomic_load_n(&stats.negative_hits, __ATOMIC_RELAXED),
		.queries = __atomic_load_n(&stats.queries, __ATOMIC_RELAXED),
		.answers = __atomic_load_n(&stats.answers, __ATOMIC_RELAXED),
		.nxdomain = __atomic_load_n(&stats.nxdomain, __ATOMIC_RELAXED),
		.timeouts = __atomic_load_n(&stats.timeouts, __ATOMIC_RELAXED),
		.failures = __atomic_load_n(&stats.failures, __ATOMIC_RELAXED),
		.ignored = __atomic_load_n(&stats.ignored, __ATOMIC_RELAXED),
	};
	spin_lock(&cache.lock);
	for (unsigned i = 0; i < DNS_CACHE_SIZE; i++)
		out->cached += entry_live(&cache.e[i], now);
	spin_unlock(&cache.lock);
}
