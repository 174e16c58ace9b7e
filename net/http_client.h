/*
 * http_client.h — a streaming HTTP/1.1 client: GET (or HEAD) one http://
 * URL over TCP, following redirects, and hand the body to the caller as it
 * arrives.  This is what `wget` is made of.
 *
 * One call, http_get(), does the whole exchange and sleeps until it is
 * over.  For each step of a redirect chain it resolves the host (a dotted
 * quad directly, a name through net/dns.h), opens a fresh connection,
 * sends
 *
 *	GET /target HTTP/1.1
 *	Host: host[:port]             (the port only when it is not 80)
 *	User-Agent: nos-wget/1
 *	Accept: * / *                 (without the spaces)
 *	Connection: close
 *
 * and feeds whatever arrives to the incremental parser of net/http_msg.h.
 * A 301, 302, 303, 307 or 308 with a Location is followed (absolute or
 * relative, resolved against the URL it came from) up to max_redirects
 * times; a redirect's body is never read.  Any other response is final:
 * its head goes to the caller's on_head, its body to the sink, a receive
 * buffer (HTTP_CLIENT_BUF bytes) at a time, so a body of any size costs
 * the same memory.  The body is delivered for every final status (a 404's
 * page too); on_head decides whether it is wanted.
 *
 * Every wait is bounded, each by its own timeout from the options: the
 * name lookup, the connection, sending the request, the response head
 * (from the request sent to the empty line), and every read of the body
 * (an idle timeout: no byte for that long).  Ctrl-C interrupts any of
 * them (the TCP and DNS calls return -EINTR).  The connection is closed
 * gracefully after a complete response and reset after anything else.
 *
 * Errors: the call returns 0 once a final response was received whole
 * (whatever its status), else a negative errno, and the result says which
 * step failed and why (http_client_strerror() makes the message):
 *   bad URL        -EINVAL          (URL parser's reason in r->why)
 *   https          -EPROTONOSUPPORT
 *   no such host   the resolver's errors (-ENOENT, -ENODATA, -ENXIO,
 *                  -EOPNOTSUPP for dns=off, -ETIMEDOUT ...)
 *   connect        -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH, -ETIMEDOUT
 *   no answer      -ETIMEDOUT while waiting for the head or a body read
 *   bad response   -EBADMSG, -EMSGSIZE, -EOPNOTSUPP (parser's reason)
 *   truncated      -EPIPE: the connection ended before Content-Length or
 *                  the last chunk
 *   redirects      -ERANGE: more than max_redirects; -EINVAL: a Location
 *                  that is not a usable http:// URL (the reason in r->why)
 *   the sink       whatever error the sink or on_head returned
 *   Ctrl-C         -EINTR
 *
 * Context: a task; it sleeps.  Nothing is shared between calls, so
 * several sessions may download at once.  Memory: the receive buffer and
 * the parser's state are kmalloc'd for the duration of the call.
 */
#ifndef NOS_NET_HTTP_CLIENT_H
#define NOS_NET_HTTP_CLIENT_H

#include "net/http_msg.h"
#include "net/http_url.h"
#include "net/inet.h"
#include "types.h"

#define HTTP_CLIENT_BUF (64u << 10)          /* receive buffer */
#define HTTP_REDIRECTS_MAX 5
#define HTTP_CONNECT_TIMEOUT_NS (10ull * 1000000000ull)
#define HTTP_HEAD_TIMEOUT_NS (30ull * 1000000000ull)
#define HTTP_IDLE_TIMEOUT_NS (30ull * 1000000000ull)
#define HTTP_USER_AGENT "nos-wget/1"

/* The step a request failed in (r->step). */
enum http_step {
	HTTP_STEP_NONE,             /* no failure */
	HTTP_STEP_URL,              /* parsing the URL */
	HTTP_STEP_RESOLVE,          /* looking the host up */
	HTTP_STEP_CONNECT,
	HTTP_STEP_SEND,             /* sending the request */
	HTTP_STEP_HEAD,             /* waiting for / parsing the response head */
	HTTP_STEP_BODY,             /* receiving / parsing the body */
	HTTP_STEP_REDIRECT,         /* a bad Location, or too many redirects */
	HTTP_STEP_SINK,             /* the caller's on_head or sink refused */
};

struct http_result;

/*
 * Body bytes for the caller: @len bytes at @buf, valid only during the
 * call.  0 to go on, or a negative errno to stop the download with it.
 */
typedef int (*http_sink_fn)(void *arg, const void *buf, size_t len);

/*
 * The final response's head has arrived (r->status, r->reason,
 * r->has_length / r->length are set): 0 to receive the body,
 * HTTP_HEAD_SKIP to end successfully without it, or a negative errno to
 * fail with it.
 */
#define HTTP_HEAD_SKIP 1
typedef int (*http_head_fn)(void *arg, const struct http_result *r);

struct http_options {
	bool head;                  /* HEAD instead of GET */
	unsigned max_redirects;     /* redirects followed before -ERANGE */
	u64 resolve_timeout_ns;     /* 0: DNS_TIMEOUT_NS */
	u64 connect_timeout_ns;     /* these three: 0 is no limit (as in tcp.h) */
	u64 head_timeout_ns;        /* request sent -> end of the response head */
	u64 idle_timeout_ns;        /* sending, and each body read */
	http_head_fn on_head;       /* may be NULL: the body is wanted */
	http_sink_fn sink;          /* may be NULL: the body is read and dropped */
	void *arg;                  /* for on_head and sink */
};

/* Fill @o with the defaults above: GET, 5 redirects, no callbacks. */
void http_options_default(struct http_options *o);

struct http_result {
	int status;                 /* the final response's, 0 if none came */
	char reason[HTTP_REASON_MAX + 1];
	bool has_length;
	u64 length;                 /* Content-Length, when has_length */
	bool chunked;
	u64 received;               /* body bytes handed to the sink */
	u64 time_ns;                /* start of the call -> its end */
	unsigned redirects;         /* followed */
	char url[HTTP_URL_MAX + 1]; /* the last URL asked for */
	char host[HTTP_HOST_MAX + 1]; /* its host, */
	struct ip_addr addr;        /* the address it resolved to */
	u16 port;                   /* and the port */
	/* on failure */
	enum http_step step;
	int err;                    /* the negative errno returned */
	enum http_err perr;         /* the parser's reason, for a bad response */
	const char *why;            /* a URL or Location refusal's reason */
	u64 timeout_ns;             /* the timeout that ran out, for -ETIMEDOUT */
};

/*
 * GET (or HEAD) @url with @opts (NULL: the defaults) and fill *@r.  See
 * the top for what is returned.
 */
int http_get(const char *url, const struct http_options *opts, struct http_result *r);

/*
 * The failure in @r as one line of text without a trailing newline, e.g.
 * "connection refused by 10.0.2.2:8080", "too many redirects (5)",
 * "bad response: chunk size is not hex".  As snprintf().
 */
int http_client_strerror(const struct http_result *r, char *buf, size_t cap);

#endif
