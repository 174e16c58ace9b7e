/*
 * httpd.h — a small HTTP/1.1 file server over TCP: how a user takes a
 * file off the machine (`curl http://VM:8080/data/log.txt`).
 *
 * One server at a time, started on a TCP port with a directory of the VFS
 * as its root.  It answers GET and HEAD for the files under that directory
 * (with Content-Length, single byte ranges and keep-alive, pipelined
 * requests in order) and lists its directories as HTML.  A request never
 * names anything outside the directory: the target goes through
 * http_path_from_target() (net/http_path.h), which refuses "..", encoded
 * or not, before anything is looked up.
 *
 * Shape: an acceptor task takes connections off the listener and queues
 * them; HTTPD_WORKERS worker tasks each serve one connection at a time,
 * to its end.  At most HTTPD_CONN_MAX connections are open (queued or
 * being served); one beyond that is answered 503 and closed by the
 * acceptor.  Every wait is bounded: a request head must arrive within
 * HTTPD_HEAD_NS (of the connection's accept, or of its first byte on a
 * reused connection), an idle keep-alive connection is closed after
 * HTTPD_IDLE_NS — or at once when other connections are waiting for a
 * worker — and a client that takes no data for HTTPD_SEND_NS is dropped.
 *
 * httpd_stop() closes the listener, interrupts and joins every task and
 * resets every connection still open: nothing of the server is left.
 * start, stop and status are task context; stop may not be called from
 * one of the server's own tasks (none runs shell commands, so it cannot).
 */
#ifndef NOS_NET_HTTPD_H
#define NOS_NET_HTTPD_H

#include "types.h"

#define HTTPD_PORT_DEFAULT 8080
#define HTTPD_WORKERS 8
#define HTTPD_CONN_MAX 32
#define HTTPD_DIR_MAX 1024          /* the served directory's path, NUL included */

/* The statuses counted one by one in struct httpd_stats; others go to "other". */
#define HTTPD_CODES { 200, 206, 301, 400, 404, 405, 408, 414, 416, 431, 500, 501, 503, 505 }
#define HTTPD_NCODES 14

struct httpd_stats {
	u64 accepted;               /* connections taken off the listener */
	u64 refused;                /* of which answered 503 at the limit */
	u64 requests;               /* responses sent (every status) */
	u64 bytes_sent;             /* heads and bodies */
	u64 timeouts;               /* connections closed for a slow or silent client */
	u64 aborted;                /* connections reset: the client went away, or a stop */
	u64 by_code[HTTPD_NCODES];  /* responses of each HTTPD_CODES status */
	u64 other_codes;
};

struct httpd_status {
	bool running;
	u16 port;
	char dir[HTTPD_DIR_MAX];
	unsigned open;              /* connections now: queued and being served */
	unsigned serving;           /* of which a worker has */
	unsigned conn_max;          /* the limit on open connections now */
	struct httpd_stats stats;   /* since boot, over every start */
};

/*
 * Serve @dir (a directory; canonicalised) on TCP @port.  0, -EALREADY
 * (running), -EADDRINUSE, -ENOENT / -ENOTDIR (@dir is not a directory),
 * -ENAMETOOLONG, -EINVAL (port 0), -ENOMEM.
 */
int httpd_start(u16 port, const char *dir);
/* Stop and wait until everything is gone: 0, or -ENOENT when not running. */
int httpd_stop(void);
void httpd_get_status(struct httpd_status *out);
/*
 * Lower (or restore) the limit on open connections, 1..HTTPD_CONN_MAX,
 * from the next accept on: 0 or -EINVAL.  For tests, which cannot open
 * HTTPD_CONN_MAX connections through QEMU's user networking within one
 * head timeout; it outlives a stop.
 */
int httpd_set_conn_limit(unsigned n);
/* The status code counted in by_code[@i] (0 <= @i < HTTPD_NCODES). */
int httpd_code_at(unsigned i);

#endif
