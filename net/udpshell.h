/*
 * udpshell.h — the remote shell on a UDP port (protocol: docs/udpshell.md).
 *
 * One server per kernel.  udpshell_start() binds the port and starts the
 * tasks that run commands; from then on each client (address and port)
 * gets a session, each request runs one command line through the same
 * shell core as the console (kernel/shell.h), and its output streams back
 * in chunks as it is produced.  udpshell_stop() interrupts what runs,
 * waits for it, and forgets every session.
 *
 * With a key (udpshell_set_key) every request must carry a valid
 * HMAC-SHA256 tag and a counter newer than its session's last one; without
 * one the server answers anyone, and says so in the log when it starts.
 *
 * Contexts: the control functions (start, stop, set_key, boot) from a task,
 * never from a command the UDP shell itself runs (stop would wait for its
 * own caller: -EBUSY); udpshell_get_status() from any task.
 * See net/udpshell_priv.h for the design: sessions, the reply store, the
 * tasks and the lock.
 */
#ifndef NOS_NET_UDPSHELL_H
#define NOS_NET_UDPSHELL_H

#include "types.h"
#include "net/inet.h"
#include "net/udpshell_proto.h"

/*
 * Start serving on UDP @port (1-65535): 0, -EALREADY (already running:
 * stop first), -EINVAL (port 0), -EADDRINUSE, -ENOMEM (no memory or
 * tasks).  Logs what it did, with the warning about a missing key.
 */
int udpshell_start(u16 port);

/* Stop: interrupt running commands, wait for them, close the port.  0 or -ENOENT (not running),
 * -EBUSY (called from a command the UDP shell runs). */
int udpshell_stop(void);

/* Set the key (@key: USH_KEY_LEN bytes), or remove it (NULL); from the next request on. */
void udpshell_set_key(const u8 *key);

/* Parse "<64 hex digits>" into @key: 0 or -EINVAL. */
int udpshell_parse_key(const char *hex, u8 key[USH_KEY_LEN]);

/* What the udpshell= and udpshell.key= parameters ask for (net_start(), at boot; NULLs: absent). */
void udpshell_boot(const char *port, const char *key);

/* Why requests were dropped, beyond the wire format's reasons (enum ush_bad). */
enum ush_drop {
	USH_DROP_NO_AUTH = USH_BAD_COUNT, /* a key is set and the request has no tag */
	USH_DROP_BAD_TAG,                 /* the tag is wrong */
	USH_DROP_OLD,                     /* counter not newer than the session's */
	USH_DROP_WINDOW,                  /* new session, counter too far from our clock */
	USH_DROP_NO_CLOCK,                /* new session, our wall clock is not set */
	USH_DROP_COUNT
};

/* The first auth reason, for summing the auth failures. */
#define USH_DROP_AUTH_FIRST USH_DROP_NO_AUTH

const char *ush_drop_name(unsigned why);

/* Counters since boot (all servers started since). */
struct udpshell_stats {
	u64 rx;                     /* datagrams to the port */
	u64 requests;               /* commands started */
	u64 retransmissions;        /* repeated requests answered from the store */
	u64 busy;                   /* answered "busy" (session or all runners busy) */
	u64 refused;                /* new client refused: the session table was full */
	u64 replies;                /* commands whose last chunk went out */
	u64 chunks;                 /* reply datagrams sent, first time */
	u64 resent;                 /* reply datagrams sent again */
	u64 notes;                  /* "not kept" notes sent in place of lost chunks */
	u64 send_errors;            /* datagrams the stack would not send */
	u64 not_kept;               /* chunks sent but not kept (store bounds, memory) */
	u64 drops[USH_DROP_COUNT];  /* by reason (enum ush_bad, then enum ush_drop) */
};

struct udpshell_status {
	bool running;
	u16 port;
	bool keyed;
	unsigned sessions;          /* live (not expired) */
	unsigned running_cmds;
	u64 stored_bytes;           /* reply store in use, all sessions */
	struct udpshell_stats stats;
};

void udpshell_get_status(struct udpshell_status *out);

/* One session, for the status listing. */
struct udpshell_session_info {
	struct ip_addr addr;
	u16 port;
	u64 idle_ns;
	u32 seq;                    /* of the last request */
	bool running;
	u32 chunks, kept;           /* of its stored reply */
	u64 kept_bytes;
};

/* Copy at most @max live sessions into @out; returns how many. */
unsigned udpshell_sessions(struct udpshell_session_info *out, unsigned max);

#endif
