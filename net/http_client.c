/*
 * http_client.c — http_get(): one URL, its redirects, a streamed body
 * (see http_client.h for the contract).
 *
 * A download is a chain of exchanges, one per URL, each on its own
 * connection (we ask for "Connection: close", so nothing is reused):
 *
 *	resolve -> connect -> send the request -> read the head -> redirect?
 *	   ^                                                         | yes
 *	   +------------- the Location, resolved against the URL ----+
 *	                                                             | no
 *	                          on_head -> the body to the sink -> done
 *
 * The bytes of a response land in one receive buffer and go through the
 * incremental parser (net/http_msg.h) in place: body spans are handed to
 * the sink straight out of that buffer, so nothing is copied and nothing
 * grows with the body.  The request itself is written into the same
 * buffer before any response byte can arrive.
 *
 * Timeouts: the head's is one deadline for the whole head (a server that
 * trickles its header lines cannot stretch it), the body's restarts at
 * every read (a slow but live download goes on for as long as it moves).
 *
 * Closing: after a complete response the connection is closed gracefully;
 * after a redirect, an error, a skipped body or Ctrl-C it is reset
 * (tcp_abort), which frees it at once, as nothing more is wanted from it.
 */
#include "net/http_client.h"
#include "net/dns.h"
#include "net/tcp.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NS_PER_S 1000000000ull

/* One download's working state, kmalloc'd: the parser alone is ~10 KiB. */
struct http_get_state {
	const struct http_options *o;
	struct http_result *r;
	struct http_url url;        /* the URL being fetched */
	struct http_url next;       /* where a redirect points */
	struct http_resp resp;
	u8 *buf;                    /* HTTP_CLIENT_BUF bytes */
	struct tcp_conn *c;
	bool head_seen;
	bool complete;              /* the parser saw the whole final response */
};

/* The result of one exchange. */
enum exchange_end { EXCHANGE_FINAL, EXCHANGE_REDIRECT };

void http_options_default(struct http_options *o)
{
	memset(o, 0, sizeof(*o));
	o->max_redirects = HTTP_REDIRECTS_MAX;
	o->connect_timeout_ns = HTTP_CONNECT_TIMEOUT_NS;
	o->head_timeout_ns = HTTP_HEAD_TIMEOUT_NS;
	o->idle_timeout_ns = HTTP_IDLE_TIMEOUT_NS;
}

/* Record a failure of @step; returns @err for the caller to pass on. */
static int fail(struct http_get_state *st, enum http_step step, int err)
{
	st->r->step = step;
	st->r->err = err;
	return err;
}

static int fail_timeout(struct http_get_state *st, enum http_step step, int err, u64 timeout)
{
	if (err == -ETIMEDOUT)
		st->r->timeout_ns = timeout;
	return fail(st, step, err);
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 ||
	       status == 308;
}

/* ------------------------------------------------------ connecting */

static int resolve(struct http_get_state *st, struct ip_addr *dst)
{
	int rc;

	if (st->url.host_is_ipv4) {
		*dst = ip_v4(st->url.ipv4);
		return 0;
	}
	rc = dns_resolve(st->url.host, dst, st->o->resolve_timeout_ns);
	return rc ? fail(st, HTTP_STEP_RESOLVE, rc) : 0;
}

/* "GET target HTTP/1.1" and the fields, into st->buf: the length. */
static size_t build_request(struct http_get_state *st)
{
	char auth[HTTP_HOST_MAX + 8];

	http_url_authority(&st->url, auth, sizeof(auth));
	return (size_t)snprintf((char *)st->buf, HTTP_CLIENT_BUF,
				"%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " HTTP_USER_AGENT
				"\r\nAccept: */*\r\nConnection: close\r\n\r\n",
				st->o->head ? "HEAD" : "GET", st->url.target, auth);
}

static int send_all(struct http_get_state *st, size_t len)
{
	size_t off = 0;

	while (off < len) {
		s64 n = tcp_send(st->c, st->buf + off, len - off, st->o->idle_timeout_ns);

		if (n < 0)
			return fail_timeout(st, HTTP_STEP_SEND, (int)n, st->o->idle_timeout_ns);
		off += (size_t)n;
		if (off < len && task_interrupted())
			return fail(st, HTTP_STEP_SEND, -EINTR);
	}
	return 0;
}

static int open_and_ask(struct http_get_state *st)
{
	struct http_result *r = st->r;
	int rc;

	strlcpy(r->host, st->url.host, sizeof(r->host));
	r->port = st->url.port;
	http_url_format(&st->url, r->url, sizeof(r->url));
	rc = resolve(st, &r->addr);
	if (rc)
		return rc;
	rc = tcp_connect(&r->addr, st->url.port, st->o->connect_timeout_ns, &st->c);
	if (rc) {
		st->c = NULL;
		return fail_timeout(st, HTTP_STEP_CONNECT, rc, st->o->connect_timeout_ns);
	}
	tcp_set_nodelay(st->c, true); /* the request is all we send: no reason to hold it */
	return send_all(st, build_request(st));
}

/* -------------------------------------------------------- responses */

/* A parser error: a bad response, or a truncated one. */
static int parse_fail(struct http_get_state *st, int ev)
{
	st->r->perr = st->resp.err;
	return fail(st, st->head_seen ? HTTP_STEP_BODY : HTTP_STEP_HEAD, ev);
}

/* The head of a redirect: where to go next, in st->next. */
static int take_redirect(struct http_get_state *st)
{
	struct http_resp *p = &st->resp;
	int rc;

	if (p->location_long) {
		st->r->why = "Location too long";
		return fail(st, HTTP_STEP_REDIRECT, -EINVAL);
	}
	rc = http_url_resolve(&st->url, p->location, &st->next, &st->r->why);
	return rc ? fail(st, HTTP_STEP_REDIRECT, rc) : 0;
}

/*
 * The head of the final response: tell the caller.  0 to read the body,
 * HTTP_HEAD_SKIP to stop here, or the error.
 */
static int take_final_head(struct http_get_state *st)
{
	struct http_result *r = st->r;
	struct http_resp *p = &st->resp;
	int rc;

	r->status = p->status;
	strlcpy(r->reason, p->reason, sizeof(r->reason));
	r->has_length = p->has_length && p->framing != HTTP_FRAME_CHUNKED;
	r->length = r->has_length ? p->length : 0;
	r->chunked = p->framing == HTTP_FRAME_CHUNKED;
	if (!st->o->on_head)
		return 0;
	rc = st->o->on_head(st->o->arg, r);
	if (rc < 0)
		return fail(st, HTTP_STEP_SINK, rc);
	return rc == HTTP_HEAD_SKIP ? HTTP_HEAD_SKIP : 0;
}

static int deliver(struct http_get_state *st, const u8 *at, size_t len)
{
	int rc = 0;

	if (!len)
		return 0;
	if (st->o->sink)
		rc = st->o->sink(st->o->arg, at, len);
	if (rc)
		return fail(st, HTTP_STEP_SINK, rc < 0 ? rc : -EIO);
	st->r->received += len;
	return 0;
}

/*
 * One receive: the count, 0 at EOF, or the error.  The head's wait is
 * bounded by @head_deadline, a body read by the idle timeout.
 */
static s64 receive(struct http_get_state *st, u64 head_deadline)
{
	u64 now = time_ns(), wait = st->o->idle_timeout_ns;
	s64 n;

	if (!st->head_seen && st->o->head_timeout_ns) {
		if (now >= head_deadline)
			return fail_timeout(st, HTTP_STEP_HEAD, -ETIMEDOUT, st->o->head_timeout_ns);
		wait = head_deadline - now;
	}
	n = tcp_recv(st->c, st->buf, HTTP_CLIENT_BUF, wait);
	if (n > 0 && task_interrupted())
		n = -EINTR;
	if (n < 0)
		return fail_timeout(st, st->head_seen ? HTTP_STEP_BODY : HTTP_STEP_HEAD, (int)n,
				    st->head_seen ? st->o->idle_timeout_ns : st->o->head_timeout_ns);
	return n;
}

/*
 * React to one parser event: 1 to go on, or how the exchange ended (0 with
 * *@end set) or its error.  @chunk is the buffer the event's span is in.
 */
static int on_event(struct http_get_state *st, int ev, const u8 *chunk, const struct http_span *b,
		    enum exchange_end *end)
{
	int rc;

	switch (ev) {
	case HTTP_EV_HEAD:
		st->head_seen = true;
		if (is_redirect(st->resp.status) && st->resp.has_location) {
			*end = EXCHANGE_REDIRECT;
			return take_redirect(st);
		}
		rc = take_final_head(st);
		if (rc == HTTP_HEAD_SKIP) {
			*end = EXCHANGE_FINAL;
			return 0;
		}
		return rc ? rc : 1;
	case HTTP_EV_BODY:
		rc = deliver(st, chunk + b->off, b->len);
		return rc ? rc : 1;
	case HTTP_EV_DONE:
		st->complete = true;
		*end = EXCHANGE_FINAL;
		return 0;
	default:
		return parse_fail(st, ev);
	}
}

/* Read and parse the response on st->c until it ends: as on_event(). */
static int read_response(struct http_get_state *st, enum exchange_end *end)
{
	u64 head_deadline = time_ns() + st->o->head_timeout_ns;
	struct http_resp *p = &st->resp;

	http_resp_init(p, st->o->head ? HTTP_RESP_NO_BODY : 0);
	st->head_seen = false;
	for (;;) {
		s64 n = receive(st, head_deadline);
		size_t off = 0;
		int rc = 1;

		if (n < 0)
			return (int)n;
		if (n == 0)
			return on_event(st, http_resp_eof(p), st->buf, &(struct http_span){ 0, 0 },
					end);
		while (rc == 1) {
			struct http_span body = { 0, 0 };
			size_t used = 0;
			int ev = http_resp_feed(p, st->buf + off, (size_t)n - off, &used, &body);
			const u8 *chunk = st->buf + off;

			off += used;
			if (ev == HTTP_EV_MORE)
				break;
			rc = on_event(st, ev, chunk, &body, end);
		}
		if (rc != 1)
			return rc;
	}
}

/*
 * One URL: 0 with *@end set, or the error.  The connection is gone after:
 * closed when the response was read whole, reset otherwise.
 */
static int exchange(struct http_get_state *st, enum exchange_end *end)
{
	int rc;

	st->complete = false;
	rc = open_and_ask(st);
	if (!rc)
		rc = read_response(st, end);
	if (!rc && st->complete)
		tcp_close(st->c);
	else
		tcp_abort(st->c);
	st->c = NULL;
	return rc;
}

/* ------------------------------------------------------------ the call */

static int url_fail(struct http_get_state *st, int rc)
{
	return fail(st, HTTP_STEP_URL, rc);
}

static int follow_chain(struct http_get_state *st)
{
	for (;;) {
		enum exchange_end end = EXCHANGE_FINAL;
		int rc = exchange(st, &end);

		if (rc || end == EXCHANGE_FINAL)
			return rc;
		if (st->r->redirects >= st->o->max_redirects)
			return fail(st, HTTP_STEP_REDIRECT, -ERANGE);
		st->r->redirects++;
		st->url = st->next;
	}
}

int http_get(const char *url, const struct http_options *opts, struct http_result *r)
{
	struct http_options defaults;
	struct http_get_state *st;
	u64 start = time_ns();
	int rc;

	memset(r, 0, sizeof(*r));
	if (!opts) {
		http_options_default(&defaults);
		opts = &defaults;
	}
	strlcpy(r->url, url, sizeof(r->url));
	st = kmalloc(sizeof(*st));
	if (!st)
		return r->err = -ENOMEM;
	memset(st, 0, sizeof(*st));
	st->o = opts;
	st->r = r;
	st->buf = kmalloc(HTTP_CLIENT_BUF);
	if (!st->buf) {
		rc = fail(st, HTTP_STEP_NONE, -ENOMEM);
		goto out_free_state;
	}
	rc = http_url_parse(url, &st->url, &r->why);
	rc = rc ? url_fail(st, rc) : follow_chain(st);
	kfree(st->buf);
out_free_state:
	kfree(st);
	r->time_ns = time_ns() - start;
	return rc;
}

/* --------------------------------------------------------- messages */

static const char *resolve_text(int rc)
{
	switch (rc) {
	case -ENOENT: return "no such host";
	case -ENODATA: return "the name has no IPv4 address";
	case -ETIMEDOUT: return "no DNS server answered";
	case -ENXIO: return "no DNS server configured";
	case -EOPNOTSUPP: return "name lookups are off (dns=off)";
	case -EINVAL: return "not a valid host name";
	default: return errno_name(rc);
	}
}

static const char *conn_text(int rc)
{
	switch (rc) {
	case -ECONNREFUSED: return "connection refused";
	case -ECONNRESET: return "connection reset";
	case -ECONNABORTED: return "connection aborted";
	case -EHOSTUNREACH: return "host unreachable";
	case -ENETUNREACH: return "network unreachable (no route)";
	case -EADDRNOTAVAIL: return "no local port free";
	case -ENOMEM: return "out of memory";
	default: return errno_name(rc);
	}
}

static unsigned secs(u64 ns)
{
	return (unsigned)((ns + NS_PER_S / 2) / NS_PER_S);
}

static int io_text(const struct http_result *r, char *buf, size_t cap, const char *doing,
		   const char *where)
{
	if (r->err == -ETIMEDOUT)
		return snprintf(buf, cap, "timed out %s %s (%u s)", doing, where,
				secs(r->timeout_ns));
	return snprintf(buf, cap, "%s %s: %s", doing, where, conn_text(r->err));
}

static int body_text(const struct http_result *r, char *buf, size_t cap, const char *where)
{
	if (r->perr == HTTP_ERR_TRUNCATED && r->has_length)
		return snprintf(buf, cap, "truncated body: %s closed after %llu of %llu bytes",
				where, (unsigned long long)r->received,
				(unsigned long long)r->length);
	if (r->perr == HTTP_ERR_TRUNCATED)
		return snprintf(buf, cap, "truncated body: %s closed before the last chunk "
				"(%llu bytes received)", where, (unsigned long long)r->received);
	if (r->perr != HTTP_ERR_NONE)
		return snprintf(buf, cap, "bad response from %s: %s", where, http_err_str(r->perr));
	if (r->err == -ETIMEDOUT)
		return snprintf(buf, cap, "timed out: no data from %s for %u s", where,
				secs(r->timeout_ns));
	return io_text(r, buf, cap, "receiving from", where);
}

static int head_text(const struct http_result *r, char *buf, size_t cap, const char *where)
{
	if (r->perr != HTTP_ERR_NONE)
		return snprintf(buf, cap, "bad response from %s: %s", where, http_err_str(r->perr));
	if (r->err == -ETIMEDOUT)
		return snprintf(buf, cap, "timed out waiting for the response from %s (%u s)",
				where, secs(r->timeout_ns));
	return io_text(r, buf, cap, "waiting for the response from", where);
}

static int redirect_text(const struct http_result *r, char *buf, size_t cap)
{
	if (r->err == -ERANGE)
		return snprintf(buf, cap, "too many redirects (more than %u)", r->redirects);
	if (r->err == -EPROTONOSUPPORT)
		return snprintf(buf, cap, "redirected to https, which is not supported");
	return snprintf(buf, cap, "bad redirect Location: %s", r->why ? r->why : "refused");
}

int http_client_strerror(const struct http_result *r, char *buf, size_t cap)
{
	char where[IP_STR_MAX + 8], ip[IP_STR_MAX];

	snprintf(where, sizeof(where), "%s:%u", ip_format(&r->addr, ip), r->port);
	if (r->err == -EINTR)
		return snprintf(buf, cap, "interrupted");
	switch (r->step) {
	case HTTP_STEP_NONE:
		return snprintf(buf, cap, "%s", r->err ? errno_name(r->err) : "no error");
	case HTTP_STEP_URL:
		if (r->err == -EPROTONOSUPPORT)
			return snprintf(buf, cap, "https is not supported (only http:// URLs)");
		return snprintf(buf, cap, "bad URL: %s", r->why ? r->why : "refused");
	case HTTP_STEP_RESOLVE:
		return snprintf(buf, cap, "cannot resolve '%s': %s", r->host, resolve_text(r->err));
	case HTTP_STEP_CONNECT:
		if (r->err == -ECONNREFUSED)
			return snprintf(buf, cap, "connection refused by %s", where);
		return io_text(r, buf, cap, "connecting to", where);
	case HTTP_STEP_SEND:
		return io_text(r, buf, cap, "sending the request to", where);
	case HTTP_STEP_HEAD:
		return head_text(r, buf, cap, where);
	case HTTP_STEP_BODY:
		return body_text(r, buf, cap, where);
	case HTTP_STEP_REDIRECT:
		return redirect_text(r, buf, cap);
	case HTTP_STEP_SINK:
		return snprintf(buf, cap, "stopped by the receiver: %s", errno_name(r->err));
	}
	return snprintf(buf, cap, "%s", errno_name(r->err));
}
