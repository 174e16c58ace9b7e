/*
 * httpd.c — the HTTP file server (net/httpd.h): its tasks, its connection
 * loop and its responses.  Kernel-only: it lives in tasks and the VFS; the
 * parts a host test would want (request heads, Range arithmetic, paths,
 * escaping) are the pure net/http_req.c and net/http_path.c.
 *
 * The life of a connection.  The acceptor takes it off the listener and,
 * if fewer than HTTPD_CONN_MAX are open, appends it to the queue with the
 * time of its accept; otherwise it writes a 503 itself and closes it.  A
 * worker takes the oldest queued connection and keeps it until it ends:
 *
 *	read a head   bytes go into w->in and through http_req_feed(); what
 *	              follows a complete head stays in w->in for the next
 *	              request (pipelining: answered in order, one by one)
 *	answer it     an error, a 301, a listing, or a file streamed from
 *	              the VFS in HD_CHUNK pieces behind its head
 *	go on or end  keep-alive unless the client asked to close, the
 *	              request had a body we did not read, the server is
 *	              stopping, or other connections wait for a worker
 *
 * Ends.  A connection ends one of three ways.  Quietly (the client closed
 * between requests, or an idle keep-alive connection timed out or gave
 * way to a waiting one): tcp_close().  After a response that said
 * "Connection: close": tcp_shutdown(), then reading and dropping what the
 * client still sends until its FIN (at most HTTPD_LINGER_NS), then
 * tcp_close() — closing with unread bytes would reset the connection and
 * could destroy the response before the client read it.  Abruptly (the
 * client vanished, a send stalled for HTTPD_SEND_NS, a file shrank under
 * a response whose length was promised, or the server stops): tcp_abort().
 *
 * Waits.  Every TCP call waits at most HD_SLICE_NS, and the loops around
 * them check the deadline, hd.quit and the queue between slices; stop
 * also interrupts every task, so a wait ends with -EINTR at once.
 *
 * Locks.  "httpd" (hd.lock), a leaf spinlock, guards [l]: the queue and
 * the counts of open connections.  Never held across TCP, VFS or task
 * calls.  "httpd ctl" (hd.ctl), a mutex, serialises start and stop and
 * guards [c]; stop holds it while it joins the tasks.  [a]: atomics
 * (counters, the quit flag).  [I]: fixed while the server runs.  [w]: the
 * worker that owns it.
 */
#ifdef NOS_KERNEL

#include "net/httpd.h"
#include "errno.h"
#include "fs/vfs.h"
#include "kernel/mutex.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/waitq.h"
#include "lib/calendar.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/http_path.h"
#include "net/http_req.h"
#include "net/tcp.h"

#define HD_NS_PER_MS 1000000ull
#define HD_NS_PER_S 1000000000ull
#define HTTPD_HEAD_NS (10 * HD_NS_PER_S)     /* a request head, from accept or first byte */
#define HTTPD_IDLE_NS (10 * HD_NS_PER_S)     /* keep-alive: the next request's first byte */
#define HTTPD_SEND_NS (30 * HD_NS_PER_S)     /* a send making no progress */
#define HTTPD_LINGER_NS (2 * HD_NS_PER_S)    /* after our FIN, waiting for the client's */
#define HD_SLICE_NS (250 * HD_NS_PER_MS)     /* the longest single TCP wait */
#define HD_REFUSE_NS (100 * HD_NS_PER_MS)    /* the acceptor's 503: one small send */
#define HD_REFUSE_DRAIN 16                   /* ...and at most this many reads of its request */
#define HD_BACKLOG 32
#define HD_SNDBUF TCP_BUF_DEFAULT            /* 512 KiB measured no faster under TCG */
#define HD_RCVBUF (64u << 10)                /* requests are heads: a small window will do */
#define HD_IN_BUF 16384                      /* request bytes read at once */
#define HD_CHUNK (64u << 10)                 /* file bytes read and sent at once */
#define HD_HEAD_ROOM 2048                    /* a response head, in front of the data */
#define HD_LIST_FLUSH (16u << 10)            /* listing bytes per chunk */
#define HD_CHUNK_LINE 16                     /* room for a chunk-size line "ffff\r\n" */
#define HD_SCRATCH 1600                      /* one name escaped (255 * 6 + NUL) */

/* How a connection goes on after a step. */
enum hd_next { HD_KEEP, HD_QUIET, HD_CLOSE, HD_ABORT };

struct hd_pending {
	struct tcp_conn *c;
	u64 accepted_ns;
};

struct hd_worker {
	unsigned idx;               /* [I] */
	struct task *task;          /* [c] */
	struct tcp_conn *c;         /* [w] the connection being served */
	u64 head_deadline;          /* [w] */
	u64 nreq;                   /* [w] requests answered on it */
	bool keep;                  /* [w] the response says keep-alive */
	size_t in_off, in_len;      /* [w] unparsed bytes are in[in_off, in_len) */
	u8 in[HD_IN_BUF];           /* [w] */
	struct http_req req;        /* [w] */
	char path[HTTP_TARGET_MAX + 2];  /* [w] the decoded path from the target */
	char full[VFS_PATH_MAX];    /* [w] the served directory and path */
	char scratch[HD_SCRATCH];   /* [w] */
	size_t tx_len;              /* [w] listing bytes gathered at tx + HD_CHUNK_LINE */
	u8 tx[HD_HEAD_ROOM + HD_CHUNK]; /* [w] a head and data behind it */
};

static struct {
	spinlock_t lock;            /* "httpd" */
	struct mutex ctl;           /* "httpd ctl" */
	bool ctl_ready;             /* [l] ctl and the waitq initialised */
	bool running;               /* [l] */
	bool quit;                  /* [a] tasks leave; set before they are interrupted */
	u16 port;                   /* [l] */
	char dir[HTTPD_DIR_MAX];    /* [I] canonical; "" for "/" so paths join by appending */
	struct tcp_listener *listener; /* [c] */
	struct task *acceptor;      /* [c] */
	struct hd_worker *workers[HTTPD_WORKERS]; /* [c] */
	struct hd_pending queue[HTTPD_CONN_MAX];  /* [l] a ring of accepted connections */
	unsigned qhead, qcount;     /* [l] */
	unsigned open, serving;     /* [l] queued + served; served */
	unsigned conn_max;          /* [l] open at most; 0 reads as HTTPD_CONN_MAX */
	struct waitq work_wait;     /* workers wait here for the queue */
	struct httpd_stats stats;   /* [a] */
} hd = { .lock = SPINLOCK_INIT("httpd") };

static const u16 hd_codes[HTTPD_NCODES] = HTTPD_CODES;

#define HD_ADD(field, n) __atomic_fetch_add(&hd.stats.field, (n), __ATOMIC_RELAXED)

static bool hd_quitting(void)
{
	return __atomic_load_n(&hd.quit, __ATOMIC_ACQUIRE);
}

static void hd_count_code(int code)
{
	HD_ADD(requests, 1);
	for (unsigned i = 0; i < HTTPD_NCODES; i++)
		if (hd_codes[i] == code) {
			HD_ADD(by_code[i], 1);
			return;
		}
	HD_ADD(other_codes, 1);
}

int httpd_code_at(unsigned i)
{
	return i < HTTPD_NCODES ? hd_codes[i] : 0;
}

/* ------------------------------------------------------------- sending */

/*
 * Queue all @len bytes at @buf on @c, waiting for room in slices: 0, or
 * -ETIMEDOUT when HTTPD_SEND_NS passed without progress, -EINTR when the
 * server stops, or the connection's error.
 */
static int hd_send(struct tcp_conn *c, const void *buf, size_t len)
{
	const u8 *p = buf;
	u64 deadline = time_ns() + HTTPD_SEND_NS;

	while (len) {
		s64 n = tcp_send(c, p, len, HD_SLICE_NS);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			HD_ADD(bytes_sent, (u64)n);
			deadline = time_ns() + HTTPD_SEND_NS;
			continue;
		}
		if (n != -ETIMEDOUT)
			return (int)n;
		if (hd_quitting())
			return -EINTR;
		if (time_ns() >= deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

/* "Date: Tue, 01 Dec 2026 16:18:13 GMT\r\n" when the wall clock is set, else "". */
static void hd_date(char *buf, size_t cap)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct civil_time t;
	s64 ns;
	int wd;

	buf[0] = '\0';
	if (time_wall(&ns) || calendar_from_unix(ns / (s64)HD_NS_PER_S, &t))
		return;
	wd = calendar_weekday(&t);
	if (wd < 0)
		return;
	snprintf(buf, cap, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[wd], t.day,
		 months[t.month - 1], t.year, t.hour, t.min, t.sec);
}

/*
 * Write the head of a @code response into w->tx: the status line, our
 * fields, @extra and @extra2 (complete "Name: value\r\n" lines, or "")
 * and the connection's fate from w->keep.  Returns its length; the
 * callers bound their fields so that it always fits in HD_HEAD_ROOM.
 */
static size_t hd_head(struct hd_worker *w, int code, const char *extra, const char *extra2)
{
	char date[48];
	const char *conn = "";
	int n;

	hd_date(date, sizeof(date));
	if (!w->keep)
		conn = "Connection: close\r\n";
	else if (w->req.minor == 0)
		conn = "Connection: keep-alive\r\n";
	n = snprintf((char *)w->tx, HD_HEAD_ROOM, "HTTP/1.1 %d %s\r\nServer: nos-httpd/1\r\n"
		     "%s%s%s%s\r\n", code, http_status_text(code), date, extra, extra2, conn);
	return (size_t)MIN(n, (int)HD_HEAD_ROOM - 1);
}

/* A complete short response: @code, @extra fields, and a one-line text body. */
static enum hd_next hd_reply(struct hd_worker *w, int code, const char *extra)
{
	char fields[96], body[64];
	int blen = snprintf(body, sizeof(body), "%d %s\n", code, http_status_text(code));
	size_t n;

	snprintf(fields, sizeof(fields), "Content-Type: text/plain; charset=utf-8\r\n"
		 "Content-Length: %d\r\n", blen);
	n = hd_head(w, code, extra, fields);
	if (w->req.method != HTTP_HEAD) {
		memcpy(w->tx + n, body, (size_t)blen);
		n += (size_t)blen;
	}
	hd_count_code(code);
	if (hd_send(w->c, w->tx, n))
		return HD_ABORT;
	return w->keep ? HD_KEEP : HD_CLOSE;
}

/* ------------------------------------------------------------- files */

static const struct {
	const char *ext;
	const char *type;
} hd_types[] = {
	{ "txt", "text/plain; charset=utf-8" },  { "log", "text/plain; charset=utf-8" },
	{ "md", "text/plain; charset=utf-8" },   { "c", "text/plain; charset=utf-8" },
	{ "h", "text/plain; charset=utf-8" },    { "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },   { "css", "text/css" },
	{ "js", "text/javascript" },             { "json", "application/json" },
	{ "xml", "application/xml" },            { "png", "image/png" },
	{ "jpg", "image/jpeg" },                 { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },                  { "svg", "image/svg+xml" },
	{ "pdf", "application/pdf" },            { "gz", "application/gzip" },
	{ "tar", "application/x-tar" },          { "zip", "application/zip" },
};

/* The Content-Type for the file at @path, by its extension. */
static const char *hd_type_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot && dot[1])
		for (size_t i = 0; i < ARRAY_SIZE(hd_types); i++)
			if (strcasecmp(dot + 1, hd_types[i].ext) == 0)
				return hd_types[i].type;
	return "application/octet-stream";
}

/* Send @len bytes of @vn from @off, the first behind the @hlen-byte head already in tx. */
static int hd_stream(struct hd_worker *w, struct vnode *vn, size_t hlen, u64 off, u64 len)
{
	size_t at = hlen;

	for (;;) {
		size_t want = (size_t)MIN(len, (u64)(sizeof(w->tx) - at));
		s64 n = want ? vfs_read(vn, off, w->tx + at, want) : 0;

		if (n < 0 || (n == 0 && want))
			return n < 0 ? (int)n : -EIO; /* the file shrank: the length was a lie */
		if (hd_send(w->c, w->tx, at + (size_t)n))
			return -EPIPE;
		off += (u64)n;
		len -= (u64)n;
		if (!len)
			return 0;
		at = 0;
	}
}

static enum hd_next hd_file(struct hd_worker *w)
{
	char fields[400];
	struct vfs_stat st;
	struct vnode *vn;
	u64 off = 0, len;
	size_t hlen;
	int code, rc = vfs_open(w->full, 0, &vn);

	if (rc)
		return hd_reply(w, rc == -ENOENT || rc == -ENOTDIR ? 404 : 500, "");
	if (vfs_fstat(vn, &st)) {
		vfs_close(vn);
		return hd_reply(w, 500, "");
	}
	code = http_range_select(&w->req.range, st.size, &off, &len);
	if (code == 416) {
		vfs_close(vn);
		snprintf(fields, sizeof(fields), "Content-Range: bytes */%llu\r\n",
			 (unsigned long long)st.size);
		return hd_reply(w, 416, fields);
	}
	if (code == 200) {
		off = 0;
		len = st.size;
		fields[0] = '\0';
	} else {
		snprintf(fields, sizeof(fields), "Content-Range: bytes %llu-%llu/%llu\r\n",
			 (unsigned long long)off, (unsigned long long)(off + len - 1),
			 (unsigned long long)st.size);
	}
	snprintf(fields + strlen(fields), sizeof(fields) - strlen(fields),
		 "Content-Type: %s\r\nContent-Length: %llu\r\nAccept-Ranges: bytes\r\n",
		 hd_type_of(w->full), (unsigned long long)len);
	hlen = hd_head(w, code, fields, "");
	hd_count_code(code);
	if (w->req.method == HTTP_HEAD)
		rc = hd_send(w->c, w->tx, hlen) ? -EPIPE : 0;
	else
		rc = hd_stream(w, vn, hlen, off, len);
	vfs_close(vn);
	if (rc)
		return HD_ABORT;
	return w->keep ? HD_KEEP : HD_CLOSE;
}

/* ---------------------------------------------------------- listings */

/*
 * A listing goes out as it is made: chunked (HTTP/1.1), or delimited by
 * the close (HTTP/1.0).  Its bytes gather at tx + HD_CHUNK_LINE, leaving
 * room for the chunk-size line in front, and go out every HD_LIST_FLUSH.
 */
struct hd_list {
	struct hd_worker *w;
	bool chunked;
	int err;                    /* the first send error: the rest is skipped */
};

static void hd_list_flush(struct hd_list *l)
{
	struct hd_worker *w = l->w;
	u8 *data = w->tx + HD_CHUNK_LINE;
	char line[HD_CHUNK_LINE];
	int n = 0;

	if (l->err || !w->tx_len)
		return;
	if (l->chunked) {
		n = snprintf(line, sizeof(line), "%zx\r\n", w->tx_len);
		memcpy(data - n, line, (size_t)n);
		memcpy(data + w->tx_len, "\r\n", 2);
	}
	l->err = hd_send(w->c, data - n, w->tx_len + (size_t)n + (l->chunked ? 2 : 0));
	w->tx_len = 0;
}

static void hd_list_put(struct hd_list *l, const char *s, size_t len)
{
	struct hd_worker *w = l->w;

	while (len && !l->err) {
		size_t room = HD_LIST_FLUSH - w->tx_len, n = MIN(room, len);

		memcpy(w->tx + HD_CHUNK_LINE + w->tx_len, s, n);
		w->tx_len += n;
		s += n;
		len -= n;
		if (w->tx_len == HD_LIST_FLUSH)
			hd_list_flush(l);
	}
}

static void hd_list_str(struct hd_list *l, const char *s)
{
	hd_list_put(l, s, strlen(s));
}

/* @len bytes at @s, HTML-escaped (or percent-encoded when @href), in slices. */
static void hd_list_escaped(struct hd_list *l, const char *s, size_t len, bool href)
{
	char *out = l->w->scratch;

	while (len) {
		size_t n = MIN(len, (size_t)255), m;

		m = href ? http_pct_encode(s, n, out, HD_SCRATCH, true)
			 : http_html_escape(s, n, out, HD_SCRATCH);
		hd_list_put(l, out, MIN(m, (size_t)HD_SCRATCH - 1));
		s += n;
		len -= n;
	}
}

static int hd_list_entry(void *arg, const char *name, size_t len, enum vnode_type type)
{
	struct hd_list *l = arg;
	const char *slash = type == VNODE_DIR ? "/" : "";

	hd_list_str(l, "<li><a href=\"");
	hd_list_escaped(l, name, len, true);
	hd_list_str(l, slash);
	hd_list_str(l, "\">");
	hd_list_escaped(l, name, len, false);
	hd_list_str(l, slash);
	hd_list_str(l, "</a></li>\n");
	return l->err;
}

static void hd_list_body(struct hd_list *l)
{
	struct hd_worker *w = l->w;
	size_t plen = strlen(w->path);
	int rc;

	hd_list_str(l, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
	hd_list_escaped(l, w->path, plen, false);
	hd_list_str(l, "</title></head>\n<body><h1>Index of ");
	hd_list_escaped(l, w->path, plen, false);
	hd_list_str(l, "</h1>\n<ul>\n");
	if (strcmp(w->path, "/") != 0)
		hd_list_str(l, "<li><a href=\"../\">../</a></li>\n");
	rc = vfs_readdir(w->full, hd_list_entry, l);
	if (rc && !l->err)
		hd_list_str(l, "<li>(the listing stopped: an error reading the directory)</li>\n");
	hd_list_str(l, "</ul></body></html>\n");
	hd_list_flush(l);
	if (l->chunked && !l->err)
		l->err = hd_send(w->c, "0\r\n\r\n", 5);
}

static enum hd_next hd_listing(struct hd_worker *w)
{
	struct hd_list l = { .w = w, .chunked = w->req.minor >= 1 };
	size_t hlen;

	if (!l.chunked)
		w->keep = false;
	hlen = hd_head(w, 200, "Content-Type: text/html; charset=utf-8\r\n",
		       l.chunked ? "Transfer-Encoding: chunked\r\n" : "");
	hd_count_code(200);
	if (hd_send(w->c, w->tx, hlen))
		return HD_ABORT;
	if (w->req.method != HTTP_HEAD) {
		w->tx_len = 0;
		hd_list_body(&l);
		if (l.err)
			return HD_ABORT;
	}
	return w->keep ? HD_KEEP : HD_CLOSE;
}

/* A directory asked for without its slash: 301 to the slash form. */
static enum hd_next hd_redirect_slash(struct hd_worker *w)
{
	static const char name[] = "Location: ";
	char *loc = w->scratch;
	size_t at = sizeof(name) - 1;
	size_t n = http_pct_encode(w->path, strlen(w->path), loc + at, HD_SCRATCH - at, true);

	if (at + n + 4 > HD_SCRATCH)
		return hd_reply(w, 414, "");
	memcpy(loc, name, at);
	memcpy(loc + at + n, "/\r\n", 4);
	return hd_reply(w, 301, loc);
}

/* -------------------------------------------------------- a request */

/* Map the target to w->full: 0, or the status to answer. */
static int hd_resolve(struct hd_worker *w)
{
	size_t dlen = strlen(hd.dir);
	int rc = http_path_from_target(w->req.target, w->req.target_len, w->path,
				       sizeof(w->path), NULL);

	if (rc == -ENAMETOOLONG)
		return 414;
	if (rc)
		return 400;
	if (dlen + strlen(w->path) + 1 > sizeof(w->full))
		return 414;
	memcpy(w->full, hd.dir, dlen);
	strlcpy(w->full + dlen, w->path, sizeof(w->full) - dlen);
	return 0;
}

static bool hd_others_wait(void)
{
	return __atomic_load_n(&hd.qcount, __ATOMIC_RELAXED) != 0;
}

static enum hd_next hd_answer(struct hd_worker *w)
{
	struct vfs_stat st;
	size_t plen;
	int code = http_req_status(&w->req), rc;

	w->keep = w->req.keep_alive && !http_req_has_body(&w->req) && !hd_quitting() &&
		  !hd_others_wait();
	if (code == 405)
		return hd_reply(w, 405, "Allow: GET, HEAD\r\n");
	if (code)
		return hd_reply(w, code, "");
	code = hd_resolve(w);
	if (code)
		return hd_reply(w, code, "");
	rc = vfs_stat(w->full, &st);
	if (rc)
		return hd_reply(w, rc == -ENOENT || rc == -ENOTDIR || rc == -ENAMETOOLONG ||
				   rc == -EINVAL ? 404 : 500, "");
	plen = strlen(w->path);
	if (st.type == VNODE_DIR)
		return w->path[plen - 1] == '/' ? hd_listing(w) : hd_redirect_slash(w);
	return hd_file(w);
}

/* Feed what w->in holds to the parser: HTTP_EV_DONE, HTTP_EV_MORE or an error. */
static int hd_feed(struct hd_worker *w)
{
	size_t used = 0;
	int ev;

	if (w->in_off == w->in_len)
		return HTTP_EV_MORE;
	ev = http_req_feed(&w->req, w->in + w->in_off, w->in_len - w->in_off, &used);
	w->in_off += used;
	return ev;
}

/*
 * Read and parse the next request head: HD_KEEP when w->req holds one;
 * else how the connection ends (with a 4xx sent first when the head was
 * bad or slow).
 */
static enum hd_next hd_read_head(struct hd_worker *w)
{
	u64 deadline = w->nreq ? time_ns() + HTTPD_IDLE_NS : w->head_deadline, now;
	bool started = !w->nreq; /* the first head's clock started at the accept */
	int ev;
	s64 n;

	http_req_init(&w->req);
	for (;;) {
		ev = hd_feed(w);
		if (ev == HTTP_EV_DONE)
			return HD_KEEP;
		if (ev < 0) {
			w->keep = false;
			return hd_reply(w, http_err_status(w->req.err), "");
		}
		now = time_ns();
		if (!started && w->req.seen_byte) {
			started = true;
			deadline = now + HTTPD_HEAD_NS;
		}
		if (now >= deadline) {
			HD_ADD(timeouts, 1);
			if (!w->req.seen_byte)
				return HD_QUIET;
			w->keep = false;
			return hd_reply(w, 408, "");
		}
		if (hd_quitting())
			return HD_ABORT;
		if (w->nreq && !w->req.seen_byte && hd_others_wait())
			return HD_QUIET; /* an idle keep-alive connection gives way */
		n = tcp_recv(w->c, w->in, sizeof(w->in), MIN(deadline - now, HD_SLICE_NS));
		if (n == 0)
			return HD_QUIET; /* closed between requests, or inside one: nobody to answer */
		if (n < 0 && n != -ETIMEDOUT)
			return HD_ABORT;
		w->in_off = 0;
		w->in_len = n > 0 ? (size_t)n : 0;
	}
}

/* ------------------------------------------------------ a connection */

/* After our FIN: drop what the client still sends until its FIN, then close. */
static void hd_linger_close(struct hd_worker *w)
{
	u64 deadline = time_ns() + HTTPD_LINGER_NS, now;
	s64 n = tcp_shutdown(w->c) ? -EPIPE : 1;

	while ((n > 0 || n == -ETIMEDOUT) && !hd_quitting() && (now = time_ns()) < deadline)
		n = tcp_recv(w->c, w->in, sizeof(w->in), MIN(deadline - now, HD_SLICE_NS));
	tcp_close(w->c);
}

static void hd_serve(struct hd_worker *w, struct tcp_conn *c, u64 accepted_ns)
{
	enum hd_next next;

	w->c = c;
	w->nreq = 0;
	w->in_off = w->in_len = 0;
	w->head_deadline = accepted_ns + HTTPD_HEAD_NS;
	tcp_set_nodelay(c, true);
	do {
		next = hd_read_head(w);
		if (next == HD_KEEP) {
			next = hd_answer(w);
			w->nreq++;
		}
	} while (next == HD_KEEP);
	if (next == HD_ABORT) {
		HD_ADD(aborted, 1);
		tcp_abort(c);
	} else if (next == HD_CLOSE) {
		hd_linger_close(w);
	} else {
		tcp_close(c);
	}
	w->c = NULL;
}

/* ----------------------------------------------------------- tasks */

static bool hd_work_cond(void *arg)
{
	return __atomic_load_n(&hd.qcount, __ATOMIC_ACQUIRE) || hd_quitting();
}

/* The oldest queued connection, or false when the server stops. */
static bool hd_take(struct hd_pending *out)
{
	for (;;) {
		waitq_wait_timeout(&hd.work_wait, hd_work_cond, NULL, HD_NS_PER_S);
		if (hd_quitting())
			return false;
		spin_lock(&hd.lock);
		if (hd.qcount) {
			*out = hd.queue[hd.qhead];
			hd.qhead = (hd.qhead + 1) % HTTPD_CONN_MAX;
			__atomic_store_n(&hd.qcount, hd.qcount - 1, __ATOMIC_RELEASE);
			hd.serving++;
			spin_unlock(&hd.lock);
			return true;
		}
		spin_unlock(&hd.lock);
	}
}

static void hd_worker_main(void *arg)
{
	struct hd_worker *w = arg;
	struct hd_pending p;

	while (hd_take(&p)) {
		hd_serve(w, p.c, p.accepted_ns);
		spin_lock(&hd.lock);
		hd.serving--;
		hd.open--;
		spin_unlock(&hd.lock);
	}
}

/* At the limit: a 503 from the acceptor itself, then close. */
static void hd_refuse(struct tcp_conn *c)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nServer: nos-httpd/1\r\n"
				  "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 24\r\n"
				  "Retry-After: 1\r\nConnection: close\r\n\r\n503 Service Unavailable\n";
	char drop[256];
	s64 n;

	HD_ADD(refused, 1);
	hd_count_code(503);
	n = tcp_send(c, msg, sizeof(msg) - 1, HD_REFUSE_NS);
	if (n > 0)
		HD_ADD(bytes_sent, (u64)n);
	if (tcp_shutdown(c))
		n = 0;
	/* what the request sent already: closing over unread bytes would reset the 503 away */
	for (unsigned i = 0; i < HD_REFUSE_DRAIN && n > 0; i++)
		n = tcp_recv(c, drop, sizeof(drop), HD_NS_PER_MS);
	tcp_close(c);
}

static void hd_acceptor_main(void *arg)
{
	struct tcp_listener *l = arg;
	struct tcp_conn *c;
	bool queued;

	while (!hd_quitting()) {
		int rc = tcp_accept(l, HD_NS_PER_S, &c);

		if (rc == -ETIMEDOUT)
			continue;
		if (rc)
			break;
		HD_ADD(accepted, 1);
		spin_lock(&hd.lock);
		queued = hd.open < (hd.conn_max ? hd.conn_max : HTTPD_CONN_MAX);
		if (queued) {
			struct hd_pending *p = &hd.queue[(hd.qhead + hd.qcount) % HTTPD_CONN_MAX];

			p->c = c;
			p->accepted_ns = time_ns();
			__atomic_store_n(&hd.qcount, hd.qcount + 1, __ATOMIC_RELEASE);
			hd.open++;
		}
		spin_unlock(&hd.lock);
		if (queued)
			waitq_wake_one(&hd.work_wait);
		else
			hd_refuse(c);
	}
}

/* ------------------------------------------------------ start, stop */

static void hd_ctl_init(void)
{
	spin_lock(&hd.lock);
	if (!hd.ctl_ready) {
		mutex_init(&hd.ctl, "httpd ctl");
		waitq_init(&hd.work_wait);
		hd.ctl_ready = true;
	}
	spin_unlock(&hd.lock);
}

/* Stop every task made so far, reset what is queued, close the listener. [c] */
static void hd_teardown(void)
{
	__atomic_store_n(&hd.quit, true, __ATOMIC_RELEASE);
	waitq_wake_all(&hd.work_wait);
	if (hd.acceptor) {
		task_interrupt(hd.acceptor);
		task_join(hd.acceptor);
		hd.acceptor = NULL;
	}
	for (unsigned i = 0; i < HTTPD_WORKERS; i++)
		if (hd.workers[i] && hd.workers[i]->task)
			task_interrupt(hd.workers[i]->task);
	for (unsigned i = 0; i < HTTPD_WORKERS; i++) {
		if (!hd.workers[i])
			continue;
		if (hd.workers[i]->task)
			task_join(hd.workers[i]->task);
		kfree(hd.workers[i]);
		hd.workers[i] = NULL;
	}
	/* no task is left: the queue is ours */
	while (hd.qcount) {
		tcp_abort(hd.queue[hd.qhead].c);
		HD_ADD(aborted, 1);
		hd.qhead = (hd.qhead + 1) % HTTPD_CONN_MAX;
		hd.qcount--;
	}
	hd.open = hd.serving = 0;
	tcp_listener_close(hd.listener);
	hd.listener = NULL;
}

/* The canonical form of @dir into hd.dir, if it is a directory. */
static int hd_set_dir(const char *dir)
{
	struct vfs_stat st;
	int rc = vfs_path_canon(dir, hd.dir, sizeof(hd.dir), NULL);

	if (rc)
		return rc;
	rc = vfs_stat(hd.dir, &st);
	if (rc)
		return rc;
	if (st.type != VNODE_DIR)
		return -ENOTDIR;
	if (strcmp(hd.dir, "/") == 0)
		hd.dir[0] = '\0';
	return 0;
}

static int hd_spawn(void)
{
	char name[TASK_NAME_MAX];

	for (unsigned i = 0; i < HTTPD_WORKERS; i++) {
		struct hd_worker *w = kzalloc(sizeof(*w));

		if (!w)
			return -ENOMEM;
		w->idx = i;
		hd.workers[i] = w;
		snprintf(name, sizeof(name), "httpd/%u", i);
		w->task = task_create(name, hd_worker_main, w, TASK_ANY_CPU);
		if (!w->task)
			return -ENOMEM;
	}
	hd.acceptor = task_create("httpd-accept", hd_acceptor_main, hd.listener, TASK_ANY_CPU);
	return hd.acceptor ? 0 : -ENOMEM;
}

int httpd_start(u16 port, const char *dir)
{
	int rc;

	if (!port)
		return -EINVAL;
	hd_ctl_init();
	mutex_lock(&hd.ctl);
	rc = hd.running ? -EALREADY : hd_set_dir(dir);
	if (rc)
		goto out;
	rc = tcp_listen(port, HD_BACKLOG, &hd.listener);
	if (rc)
		goto out;
	tcp_listener_set_bufsize(hd.listener, HD_SNDBUF, HD_RCVBUF); /* a miss keeps the defaults */
	__atomic_store_n(&hd.quit, false, __ATOMIC_RELEASE);
	hd.qhead = hd.qcount = hd.open = hd.serving = 0;
	rc = hd_spawn();
	if (rc) {
		hd_teardown();
		goto out;
	}
	spin_lock(&hd.lock);
	hd.port = port;
	hd.running = true;
	spin_unlock(&hd.lock);
out:
	mutex_unlock(&hd.ctl);
	return rc;
}

int httpd_stop(void)
{
	hd_ctl_init();
	mutex_lock(&hd.ctl);
	if (!hd.running) {
		mutex_unlock(&hd.ctl);
		return -ENOENT;
	}
	hd_teardown();
	spin_lock(&hd.lock);
	hd.running = false;
	spin_unlock(&hd.lock);
	mutex_unlock(&hd.ctl);
	return 0;
}

int httpd_set_conn_limit(unsigned n)
{
	if (n < 1 || n > HTTPD_CONN_MAX)
		return -EINVAL;
	spin_lock(&hd.lock);
	hd.conn_max = n;
	spin_unlock(&hd.lock);
	return 0;
}

void httpd_get_status(struct httpd_status *out)
{
	memset(out, 0, sizeof(*out));
	spin_lock(&hd.lock);
	out->running = hd.running;
	out->port = hd.port;
	out->open = hd.open;
	out->serving = hd.serving;
	out->conn_max = hd.conn_max ? hd.conn_max : HTTPD_CONN_MAX;
	if (hd.running)
		strlcpy(out->dir, hd.dir[0] ? hd.dir : "/", sizeof(out->dir));
	spin_unlock(&hd.lock);
	for (unsigned i = 0; i < sizeof(out->stats) / sizeof(u64); i++)
		((u64 *)&out->stats)[i] = __atomic_load_n(&((u64 *)&hd.stats)[i], __ATOMIC_RELAXED);
}

#endif /* NOS_KERNEL */
