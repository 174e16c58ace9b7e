/*
 * http_cmds.c — the shell's HTTP client command, wget.
 *
 *   wget [-q] [-I] [-T secs] <url> [path]    also: wget -O <path> <url>
 *   wget -O - <url>                          (or: wget <url> -)
 *
 * Without a path the body is read and counted, not kept, and one line
 * sums the download up: "200 OK, 1048576 bytes in 0.42 s (2.38 MiB/s)".
 * With a path the body is streamed into that file through the VFS (any
 * mounted filesystem), created or truncated when the final response's
 * head arrives, and the same line follows with "saved to <path>".  With
 * "-O -" the body goes to the console as it comes, and nothing else is
 * printed unless something fails.  -I asks with HEAD: only the status
 * and the announced size.  -q drops the progress line.  -T sets every
 * step's timeout (connect, response head, each read) to that many seconds
 * instead of http_client.h's defaults.
 *
 * Progress: a download that lasts over a second gets a progress line once
 * a second, rewritten in place with '\r' (the serial and VGA consoles
 * both return to column 0 on it), cleared before the summary.
 *
 * A final status other than 2xx is an error ("wget: 404 Not Found"), and
 * no file is written.  On any failure after the file was opened the partial
 * file is deleted and the message says so: a file that exists after wget
 * succeeded is whole.  (An existing file of that name is replaced, so it
 * is lost on failure too.)
 *
 * Writes go through a WGET_WBUF buffer, so the filesystem sees large
 * sequential writes whatever the size of the TCP reads.  Working memory
 * is kmalloc'd: several sessions may run wget at once.
 */
#include "net/http_client.h"
#include "fs/vfs.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NS_PER_S 1000000000ull
#define WGET_WBUF (64u << 10)
#define WGET_PROGRESS_NS NS_PER_S
#define WGET_PROGRESS_WIDTH 60
#define WGET_TIMEOUT_MAX_S 3600

struct wget_args {
	const char *url;
	const char *path;           /* NULL: count only */
	bool to_console;            /* -O - */
	bool quiet;                 /* -q */
	bool head;                  /* -I */
	u64 timeout_s;              /* -T: every step's timeout, 0: the defaults */
};

struct wget {
	struct sh *sh;
	struct wget_args a;
	struct http_result r;
	struct vnode *vn;           /* the file, once opened */
	u8 *wbuf;                   /* WGET_WBUF bytes waiting for the file */
	size_t wlen;
	u64 off;                    /* bytes written to the file */
	u64 got;                    /* body bytes seen */
	int file_rc;                /* why the file failed, for the message */
	bool last_nl;               /* -O -: the body ended with a newline */
	u64 start, last_progress;
	bool progress_shown;
};

/* ------------------------------------------------------------ formats */

/* Bytes per second times 100 (no overflow below 10^11 bytes). */
static u64 rate_x100(u64 bytes, u64 ns)
{
	u64 us = ns / 1000 ? ns / 1000 : 1;

	if (bytes < 100000000000ull)
		return bytes * 100000000ull / us;
	return bytes / us * 100000000ull;
}

/* "2.38 MiB/s" for @bytes in @ns. */
static void fmt_rate(char *buf, size_t cap, u64 bytes, u64 ns)
{
	u64 hund = rate_x100(bytes, ns);

	if (hund >= 100ull << 20)
		snprintf(buf, cap, "%llu.%02llu MiB/s", (unsigned long long)(hund >> 20) / 100,
			 (unsigned long long)(hund >> 20) % 100);
	else if (hund >= 100ull << 10)
		snprintf(buf, cap, "%llu.%02llu KiB/s", (unsigned long long)(hund >> 10) / 100,
			 (unsigned long long)(hund >> 10) % 100);
	else
		snprintf(buf, cap, "%llu B/s", (unsigned long long)hund / 100);
}

/* "12.5 MiB" */
static void fmt_size(char *buf, size_t cap, u64 bytes)
{
	if (bytes >= (1ull << 20))
		snprintf(buf, cap, "%llu.%llu MiB", (unsigned long long)(bytes >> 20),
			 (unsigned long long)((bytes & 0xfffff) * 10 >> 20));
	else
		snprintf(buf, cap, "%llu KiB", (unsigned long long)(bytes >> 10));
}

/* The progress line, at most once a second, from the second second on. */
static void progress(struct wget *w)
{
	u64 now = time_ns();
	char got[24], total[24], rate[24], line[WGET_PROGRESS_WIDTH + 8];

	if (w->a.quiet || w->a.to_console || now - w->start < WGET_PROGRESS_NS ||
	    now - w->last_progress < WGET_PROGRESS_NS)
		return;
	w->last_progress = now;
	fmt_size(got, sizeof(got), w->got);
	fmt_rate(rate, sizeof(rate), w->got, now - w->start);
	if (w->r.has_length && w->r.length) {
		fmt_size(total, sizeof(total), w->r.length);
		snprintf(line, sizeof(line), "%s of %s (%llu%%), %s", got, total,
			 (unsigned long long)(w->got * 100 / w->r.length), rate);
	} else {
		snprintf(line, sizeof(line), "%s, %s", got, rate);
	}
	sh_printf(w->sh, "\r%-*s", WGET_PROGRESS_WIDTH, line);
	w->progress_shown = true;
}

/* Blank the progress line so the summary starts on a clean one. */
static void progress_clear(struct wget *w)
{
	if (w->progress_shown)
		sh_printf(w->sh, "\r%*s\r", WGET_PROGRESS_WIDTH, "");
	w->progress_shown = false;
}

/* ------------------------------------------------------------- the file */

static int file_flush(struct wget *w)
{
	s64 n;

	if (!w->wlen)
		return 0;
	n = vfs_write(w->vn, w->off, w->wbuf, w->wlen);
	if (n != (s64)w->wlen)
		return w->file_rc = n < 0 ? (int)n : -ENOSPC;
	w->off += w->wlen;
	w->wlen = 0;
	return 0;
}

static int file_take(struct wget *w, const u8 *buf, size_t len)
{
	while (len) {
		size_t n = MIN(len, (size_t)(WGET_WBUF - w->wlen));
		int rc;

		memcpy(w->wbuf + w->wlen, buf, n);
		w->wlen += n;
		buf += n;
		len -= n;
		if (w->wlen == WGET_WBUF && (rc = file_flush(w)))
			return rc;
	}
	return 0;
}

static int file_open(struct wget *w)
{
	int rc;

	w->wbuf = kmalloc(WGET_WBUF);
	if (!w->wbuf)
		return w->file_rc = -ENOMEM;
	rc = vfs_open(w->a.path, VFS_O_CREATE | VFS_O_TRUNC | VFS_O_WRITE, &w->vn);
	if (rc)
		w->vn = NULL;
	return rc ? (w->file_rc = rc) : 0;
}

/* Close the file; delete it if the download failed.  Says so. */
static void file_finish(struct wget *w, bool ok)
{
	if (!w->vn)
		return;
	vfs_close(w->vn);
	w->vn = NULL;
	if (ok)
		return;
	if (vfs_remove(w->a.path) == 0)
		sh_printf(w->sh, "wget: removed the partial file %s (%llu bytes)\n", w->a.path,
			  (unsigned long long)(w->off + w->wlen));
	else
		sh_printf(w->sh, "wget: %s is incomplete (%llu bytes) and could not be removed\n",
			  w->a.path, (unsigned long long)(w->off + w->wlen));
}

/* ------------------------------------------------------- the callbacks */

static int wget_head(void *arg, const struct http_result *r)
{
	struct wget *w = arg;

	if (r->status < 200 || r->status > 299)
		return -ENOENT; /* reported from the status in the result */
	return w->a.path ? file_open(w) : 0; /* -I: a HEAD response has no body to sink */
}

static int wget_sink(void *arg, const void *buf, size_t len)
{
	struct wget *w = arg;
	int rc = 0;

	w->got += len;
	if (w->a.to_console) {
		w->last_nl = ((const char *)buf)[len - 1] == '\n';
		rc = sh_write(w->sh, buf, len);
	} else if (w->vn) {
		rc = file_take(w, buf, len);
	}
	if (!rc)
		progress(w);
	return rc;
}

/* -------------------------------------------------------------- the end */

static void summary(struct wget *w)
{
	char rate[24], secs[24];
	const struct http_result *r = &w->r;
	u64 ms = r->time_ns / 1000000;

	if (r->redirects)
		sh_printf(w->sh, "followed %u redirect%s to %s\n", r->redirects,
			  r->redirects == 1 ? "" : "s", r->url);
	if (w->a.head) {
		if (r->has_length)
			sh_printf(w->sh, "%d %s, %llu bytes\n", r->status, r->reason,
				  (unsigned long long)r->length);
		else
			sh_printf(w->sh, "%d %s, size unknown\n", r->status, r->reason);
		return;
	}
	snprintf(secs, sizeof(secs), "%llu.%02llu", (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000 / 10));
	fmt_rate(rate, sizeof(rate), r->received, r->time_ns);
	sh_printf(w->sh, "%d %s, %llu bytes in %s s (%s)", r->status, r->reason,
		  (unsigned long long)r->received, secs, rate);
	if (w->a.path)
		sh_printf(w->sh, ", saved to %s", w->a.path);
	sh_printf(w->sh, "\n");
}

static const char *file_text(int rc)
{
	switch (rc) {
	case -ENOENT: return "no such directory";
	case -EISDIR: return "is a directory";
	case -ENOTDIR: return "not a directory";
	case -ENOSPC: return "no space left";
	case -EROFS: return "read-only filesystem";
	case -ENAMETOOLONG: return "name or path too long";
	case -EFBIG: return "file too large";
	case -ENOMEM: return "out of memory";
	case -EIO: return "I/O error";
	default: return "failed";
	}
}

/* Print why the download failed; returns the error for the shell. */
static int report_failure(struct wget *w, int rc)
{
	const struct http_result *r = &w->r;
	char msg[HTTP_URL_MAX + 160];

	if (r->step == HTTP_STEP_SINK && w->file_rc) {
		sh_printf(w->sh, "wget: %s: %s (%s)\n", w->a.path, errno_name(w->file_rc),
			  file_text(w->file_rc));
	} else if (r->step == HTTP_STEP_SINK && r->status && (r->status < 200 || r->status > 299)) {
		sh_printf(w->sh, "wget: %s: %d %s\n", r->url, r->status, r->reason);
	} else if (r->step == HTTP_STEP_SINK && w->a.to_console) {
		rc = sh_output_error(w->sh) ? sh_output_error(w->sh) : rc;
	} else {
		http_client_strerror(r, msg, sizeof(msg));
		sh_printf(w->sh, "wget: %s\n", msg);
	}
	return rc == -EINVAL ? -EPERM : rc; /* -EINVAL would add the usage line */
}

static int wget_parse(struct sh *sh, int argc, char **argv, struct wget_args *a)
{
	const char *pos[2];
	unsigned npos = 0;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q")) {
			a->quiet = true;
		} else if (!strcmp(argv[i], "-I")) {
			a->head = true;
		} else if (!strcmp(argv[i], "-T") && i + 1 < argc) {
			int rc = sh_parse_uint(sh, argv[++i], "seconds", 1, WGET_TIMEOUT_MAX_S,
					       &a->timeout_s);

			if (rc)
				return rc;
		} else if (!strcmp(argv[i], "-O") && i + 1 < argc && !a->path && !a->to_console) {
			if (!strcmp(argv[++i], "-"))
				a->to_console = true;
			else
				a->path = argv[i];
		} else if ((argv[i][0] == '-' && argv[i][1]) || npos == 2) {
			return -EINVAL;
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (npos < 1 || (npos == 2 && (a->path || a->to_console)))
		return -EINVAL;
	a->url = pos[0];
	if (npos == 2)
		a->path = strcmp(pos[1], "-") ? pos[1] : NULL;
	if (npos == 2 && !a->path)
		a->to_console = true;
	if (a->head && (a->path || a->to_console))
		return -EINVAL;
	return 0;
}

static int wget_run(struct wget *w)
{
	struct http_options o;
	int rc;

	http_options_default(&o);
	o.head = w->a.head;
	if (w->a.timeout_s) {
		o.connect_timeout_ns = w->a.timeout_s * NS_PER_S;
		o.head_timeout_ns = o.connect_timeout_ns;
		o.idle_timeout_ns = o.connect_timeout_ns;
	}
	o.on_head = wget_head;
	o.sink = wget_sink;
	o.arg = w;
	w->start = w->last_progress = time_ns();
	rc = http_get(w->a.url, &o, &w->r);
	if (!rc && w->vn)
		rc = file_flush(w);
	progress_clear(w);
	if (w->a.to_console && w->got && !w->last_nl)
		sh_printf(w->sh, "\n");
	if (rc && w->file_rc && w->r.step != HTTP_STEP_SINK) /* the last flush */
		w->r.step = HTTP_STEP_SINK;
	if (rc)
		rc = report_failure(w, rc);
	file_finish(w, rc == 0);
	if (rc)
		return rc;
	if (!w->a.to_console)
		summary(w);
	return sh_output_error(w->sh);
}

static int cmd_wget(struct sh *sh, int argc, char **argv)
{
	struct wget *w = kmalloc(sizeof(*w));
	int rc;

	if (!w) {
		sh_printf(sh, "wget: out of memory\n");
		return -ENOMEM;
	}
	memset(w, 0, sizeof(*w));
	w->sh = sh;
	rc = wget_parse(sh, argc, argv, &w->a);
	if (!rc)
		rc = wget_run(w);
	kfree(w->wbuf);
	kfree(w);
	return rc;
}
SHELL_CMD("wget", "[-q] [-I] [-T secs] <url> [path|-] | [-q] [-T secs] -O <path|-> <url>",
	  "HTTP GET (redirects followed): without a path print status, size, time and rate; with "
	  "one save the body to that file (deleted if the download fails); '-' prints the body; "
	  "-I: HEAD, status and size only; -T: timeout of each step (default 10 s connect, 30 s "
	  "response, 30 s idle); -q: no progress line; Ctrl-C stops it",
	  1, 8, cmd_wget);
