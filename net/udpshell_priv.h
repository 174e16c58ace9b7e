/*
 * udpshell_priv.h — what the UDP shell's files share (and the host tests
 * look at); nobody else includes it.
 *
 *   udpshell_proto.c    the wire format, pure
 *   udpshell.c          the server: start/stop/key, the socket's handler
 *                       (parse, authenticate, log), status
 *   udpshell_session.c  the session table, the decision on each request,
 *                       the reply store and resending from it
 *   udpshell_job.c      a running command's output: the sink, chunks, sending
 *   udpshell_task.c     the tasks that run commands and resend (kernel only)
 *   udpshell_cmds.c     the `udpshell` command and the boot parameters
 *
 * The path of a request.  The socket is handler-form (net/udp.h): each
 * datagram reaches ush_input() in the NET_RX SoftIrq, which parses it,
 * checks its tag and hands a struct ush_req to ush_session_request().
 * That finds or makes the client's session and decides, under the lock:
 *   - a retransmission (the seq of the session's stored reply): the
 *     session is marked for resending and the resend task is kicked;
 *   - a new command: a free job slot (USH_RUN_MAX of them) is claimed and
 *     ops->start() hands it to a runner task;
 *   - "busy" (the session runs a command, or every job slot is taken) or
 *     "too many sessions": one-chunk answers sent at once, not stored.
 * Nothing slow happens in the SoftIrq: one HMAC per request, and small
 * answers; commands and resends run in tasks, which may sleep when the
 * device's queue is full (so a long reply is paced, not dropped).
 *
 * The reply store.  Each chunk a command sends is kept, as the datagram
 * that went out, on its session's list, until the session's next command
 * or its expiry.  Bounds: ush.keep_reply bytes per reply and
 * ush.keep_total for all sessions (USH_KEEP_REPLY, USH_KEEP_TOTAL).  The
 * kept chunks are always a prefix of the reply: once one is not kept
 * (bound reached, or no memory) no later one is.  A resend sends the kept
 * chunks as they were and, in place of each one that was not kept, a note
 * of the same index saying so, the last of them flagged LAST once the
 * command has ended (docs/udpshell.md): the client always gets a whole
 * reply, and every hole in it is marked.
 *
 * Sessions.  USH_SESSIONS slots keyed by (address, port).  A session is
 * live until it has been idle (no accepted request, no command running)
 * for more than USH_IDLE_NS; only then may its slot go to another client.
 * A live session is never evicted — its client may still retransmit, and
 * its last counter is what keeps its own requests from running twice — so
 * a full table refuses newcomers instead.  A session outlives twice the
 * window (checked at compile time), so a request replayed into the
 * session that follows it fails the window even without the ring below.
 * A command's end frees its session and its job slot before the last
 * chunk goes out: the client may send its next request the moment it has
 * that chunk, and must not find itself busy.
 *
 * Replays.  The tag covers the request, not where it came from, so a
 * recorded request could be sent again from another address or port — a
 * session of its own.  Every keyed request accepted goes into a ring of
 * USH_SEEN (counter, tag) pairs, and a request that opens a session (or
 * the first under a new key) is refused when its tag is in the ring, when
 * its counter is not within USH_WINDOW_US of our clock, or when it is at
 * or below seen_floor: the highest counter an overflowing ring pushed out
 * while it was still inside the window.  So every request younger than
 * the window is either remembered or below the floor, and every older one
 * fails the window.  Within a session the counter rules do the work.  The
 * ring outlives a stop and start of the server, for the same reason.
 *
 * Locks.  One spinlock, "udpshell" (ush.lock), guards everything marked
 * [l] below.  It is a leaf: never held while sending, allocating or
 * freeing, logging, waking a task or running a command; chunk lists are
 * detached under it and freed after.  The "udpshell ctl" mutex (ush.ctl)
 * serialises start and stop; it is taken before the spinlock, and stop
 * holds it while it waits for the runners.
 * Legend: [l] ush.lock; [c] ush.ctl; [a] atomic; [j] the job's owner (the
 * runner task, from ops->start() to ush_job_end()); [I] fixed while the
 * structure is in use.
 */
#ifndef NOS_NET_UDPSHELL_PRIV_H
#define NOS_NET_UDPSHELL_PRIV_H

#include "config.h"
#include "kernel/mutex.h"
#include "kernel/spinlock.h"
#include "net/udp.h"
#include "net/udpshell.h"
#include "net/udpshell_proto.h"

#define USH_NS_PER_S 1000000000ull
#define USH_SESSIONS 32
#define USH_RUN_MAX 4                           /* commands running at once */
#define USH_IDLE_NS (60 * USH_NS_PER_S)         /* a session expires after this idle */
#define USH_REAP_NS (5 * USH_NS_PER_S)          /* the resender frees expired replies this often */
#define USH_WINDOW_US (25ull * 1000000)         /* a new session's counter: our clock +- this */
#define USH_KEEP_REPLY (1024u * 1024)           /* bytes of one stored reply */
#define USH_KEEP_TOTAL (4u * 1024 * 1024)       /* bytes stored, all sessions */
#define USH_LOG_SOURCES 16                      /* (source, reason) pairs remembered as logged */
#define USH_LOG_GAP_NS (1 * USH_NS_PER_S)       /* at most one such log line per second */
#define USH_SEEN 1024                           /* keyed requests remembered, all sessions */
#define USH_SEEN_TAG 16                         /* ...by this much of their tag */
#define USH_BACKOFF_NS 500000ull                /* a task's wait when the queue is full */
#define USH_SEND_TRIES 200                      /* ...at most this many times per datagram */
#define USH_LINE_MAX (CONFIG_SHELL_LINE_MAX + 1) /* longer lines are cut here: still too long */

/* The replay argument of docs/udpshell.md needs a session to outlive twice the window. */
_Static_assert(USH_IDLE_NS > 2 * USH_WINDOW_US * 1000, "sessions must outlive 2 * USH_WINDOW_US");

/* One stored reply datagram, exactly as sent. */
struct ush_chunk {
	struct ush_chunk *next;
	u32 len;
	u8 pkt[];
};

/* A session's last reply.  All [l]. */
struct ush_reply {
	bool valid;                 /* a command was started in this session */
	bool done;                  /* its last chunk has been sent */
	bool auth;                  /* sealed with a key */
	u32 seq;                    /* the request it answers */
	u64 counter;                /* that request's counter (AUTH replies carry it) */
	u32 gen;                    /* unique per reply: a resend stops when it changes */
	u32 nchunks;                /* chunks sent so far */
	u32 nkept;                  /* of which the first nkept are on the list */
	u64 bytes;                  /* memory the list holds */
	struct ush_chunk *head, *tail;
};

struct ush_job;

/* A client.  All [l]. */
struct ush_session {
	bool used;
	struct ip_addr addr;
	u16 port;
	u64 last_ns;                /* monotonic time of its last accepted request */
	bool has_seq;
	u32 last_seq;               /* that request's seq */
	bool counted;               /* last_counter is set (a keyed request came) */
	u64 last_counter;
	u32 key_gen;                /* the key last_counter was accepted under */
	struct ush_job *job;        /* the command it runs, or NULL */
	bool resend;                /* waiting for the resend task */
	struct ush_reply reply;
};

/* A command being run: one of USH_RUN_MAX slots. */
struct ush_job {
	bool in_use;                /* [l] */
	unsigned slot;              /* [I] its session */
	u32 gen;                    /* [I] its reply's gen */
	u32 seq;                    /* [I] */
	u64 counter;                /* [I] */
	struct ip_addr addr;        /* [I] */
	u16 port;                   /* [I] */
	bool auth;                  /* [I] seal with key */
	struct ush_key key;         /* [I] */
	char line[USH_LINE_MAX + 1]; /* [I] the command line, NUL-terminated */
	u32 chunk;                  /* [j] index of the chunk being filled */
	u32 fill;                   /* [j] payload bytes at pkt + USH_HDR_LEN */
	bool unkept;                /* [j] a chunk was not kept: keep no more */
	bool cut;                   /* [j] the chunk index ran out: output dropped */
	u8 pkt[USH_PKT_MAX];        /* [j] */
};

/* A request that passed the wire checks and authentication. */
struct ush_req {
	struct ip_addr addr;
	u16 port;
	u32 seq;
	u64 counter;
	bool auth;                  /* a key was set: checked, and replies are sealed */
	u32 key_gen;
	struct ush_key key;         /* when auth */
	const char *line;           /* the payload (not NUL-terminated) */
	u32 len;
	u64 now_ns;                 /* time_ns() on arrival */
	int wall_rc;                /* ops->wall_ns(): 0 with wall_ns set, or -ENODATA */
	s64 wall_ns;
	u8 tag[USH_SEEN_TAG];       /* the start of its tag, when auth */
};

/* A keyed request accepted lately (see "Replays" above). */
struct ush_seen {
	u64 counter;
	u8 tag[USH_SEEN_TAG];
};

/*
 * What runs commands and resends: the tasks in the kernel
 * (udpshell_task.c), a stand-in in the host tests.
 */
struct ush_ops {
	/* Set up for a server: 0 or -errno (the start fails). Task context. */
	int (*open)(void);
	/*
	 * Run @job's line, from a task, and call ush_job_run() there: 0, or
	 * -errno (nothing started; the client gets "busy").  SoftIrq context.
	 */
	int (*start)(struct ush_job *job);
	/* Interrupt @job's command (the server stops).  Task context. */
	void (*interrupt)(struct ush_job *job);
	/* Sessions wait for a resend: run ush_resend_work() soon, in a task.  Any context. */
	void (*kick)(void);
	/* Wait until every started job has ended and resends are over, then tear down. */
	void (*close)(void);
	/* The wall clock, Unix ns: 0, or -ENODATA when it is not set. */
	int (*wall_ns)(s64 *ns);
};

enum ush_state { USH_OFF, USH_ON, USH_STOPPING };

struct ush_server {
	spinlock_t lock;            /* "udpshell", see above */
	struct mutex ctl;           /* "udpshell ctl" */
	bool ctl_ready;             /* [c] ctl initialised (first start) */
	enum ush_state state;       /* [l]; sinks read it without (a stale read costs one write) */
	u16 port;                   /* [l] */
	struct udp_sock *sock;      /* [a] set before ON, cleared after the runners stopped */
	const struct ush_ops *ops;  /* [l] set before ON */
	bool keyed;                 /* [l] */
	u32 key_gen;                /* [l] bumped by every key change */
	struct ush_key key;         /* [l] */
	struct ush_session sessions[USH_SESSIONS]; /* [l] */
	struct ush_job jobs[USH_RUN_MAX];          /* see struct ush_job */
	u32 next_gen;               /* [l] */
	u64 stored;                 /* [l] bytes on every session's list */
	u64 keep_reply, keep_total; /* [l] the bounds (the tests lower them) */
	struct ip_addr logged[USH_LOG_SOURCES]; /* [l] sources whose failure was logged... */
	u8 logged_why[USH_LOG_SOURCES];         /* [l] ...and for what */
	unsigned nlogged;           /* [l] */
	u64 last_log_ns;            /* [l] */
	struct ush_seen seen[USH_SEEN]; /* [l] a ring: the last USH_SEEN keyed requests */
	u64 nseen;                  /* [l] ever put in the ring */
	u64 seen_floor;             /* [l] no new session at or below this counter */
	struct udpshell_stats stats; /* [a] */
};

extern struct ush_server ush;

#define USH_COUNT(field) __atomic_fetch_add(&ush.stats.field, 1, __ATOMIC_RELAXED)

/* udpshell.c */
int ush_start_with(u16 port, const struct ush_ops *ops);
int ush_stop_server(void);
void ush_count_drop(unsigned why);
/* Count a refused request of @addr:@port and log it once per source and reason. */
void ush_auth_fail(const struct ip_addr *addr, u16 port, unsigned why, u64 now);
/* Send @n bytes at @pkt to @addr:@port; @may_sleep: wait (task) while the queue is full. */
int ush_send(const void *pkt, size_t n, const struct ip_addr *addr, u16 port, bool may_sleep);

/* udpshell_session.c */
void ush_session_request(const struct ush_req *r);
/* Resend what every marked session has kept.  Task context. */
void ush_resend_work(void);
/* Forget every session (the server stops; no job runs).  Takes and drops the lock. */
void ush_sessions_reset(void);
/* Detach the lists of expired sessions onto *@out (lock held). */
void ush_reap_locked(u64 now, struct ush_chunk **out);
/* Forget the sessions expired at @now and free their replies.  Takes and drops the lock. */
void ush_reap_expired(u64 now);
bool ush_session_live(const struct ush_session *s, u64 now);
void ush_chunks_free(struct ush_chunk *c);
/* A one-chunk answer to @r, not stored (busy, refused). SoftIrq context. */
void ush_say(const struct ush_req *r, const char *text);

/* udpshell_job.c */
/* Run @job's command in the calling task (unless the server is stopping) and end it. */
void ush_job_run(struct ush_job *job);
/* The sink of @job's session (sh_write_fn): 0 or -EPIPE when the server stops. */
int ush_job_write(void *job, const char *buf, size_t len);
/* Send what is left with LAST, release the job.  The runner's task. */
void ush_job_end(struct ush_job *job);

#endif
