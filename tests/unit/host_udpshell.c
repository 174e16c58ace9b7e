/*
 * host_udpshell.c — the UDP shell's server (net/udpshell.c, _session.c,
 * _job.c, the real files) on the host, through the real UDP/IPv4 stack and
 * the fake netdev; the wire format alone is host_udpshell_proto.c's.
 *
 * The test plays the client: requests are built, and replies read and
 * their tags checked, by the test's own code (host_udpshell.h and the
 * readers below).  The shim has no tasks, so the server runs over a
 * stand-in struct ush_ops: a started job waits in `tops.pending` until the
 * test writes its output through the job's real sink (ush_job_write) and
 * ends it (ush_job_end), or runs a real shell line with ush_job_run();
 * resends run when the test calls ush_resend_work(), as the resend task
 * would.  The wall clock is the stand-in's too (the shim has none).
 *
 * Covered: streaming per line and per 1 KiB; a real command through the
 * sink; retransmission while a command runs and after, byte for byte, and
 * never a second run; a new seq runs anew, 0xffffffff to 0 too; "busy" per
 * session and when every job slot is taken, and a busy-answered seq
 * running later, once; the session table full, expiry on the fake clock,
 * running sessions never expiring; the store's bounds and the notes that
 * stand for what was not kept; the chunk index running out; garbage;
 * stop with a command running; with a key: tags, the counter rules
 * (replay, retransmission, window, no clock, counters near 2^64, key
 * changes), replays from another address or port, the replay ring's
 * floor, the log once per source and reason.  Every test ends with the
 * server stopped and no netbuf or memory held. */
#include "tests/unit/host_udp.h"
#include "tests/unit/host_udpshell.h"
#include "errno.h"
#include "kernel/time.h"
#include "net/udpshell_priv.h"

#define SHELL_PORT 9000
#define CPORT 40000                     /* the test client's first port */
#define TQ_MAX 80                       /* replies a test reads at once */

/* ------------------------------------------------------ the client side */

/* A reply as the client reads it. */
struct tq_reply {
	u32 seq;
	u16 chunk, flags, len;
	u64 counter;
	bool tag_ok;                    /* AUTH, and the tag verifies under the test's key */
	char text[USH_CHUNK_MAX + 1];   /* the payload, NUL added */
	u8 raw[USH_PKT_MAX];
	u32 rawlen;
};

static const u8 *tq_key;                /* what replies are checked with (NULL: none) */

static bool tq_read(const struct tu_sent *s, struct tq_reply *r)
{
	u8 want[32];

	if (s->len < 16 || s->len > sizeof(r->raw) || get_be32(s->data) != 0x4E4F5348)
		return false;
	memcpy(r->raw, s->data, s->len);
	r->rawlen = s->len;
	r->seq = get_be32(s->data + 4);
	r->chunk = get_be16(s->data + 8);
	r->flags = get_be16(s->data + 10);
	r->len = get_be16(s->data + 12);
	if (16u + r->len + ((r->flags & 2) ? 40u : 0u) != s->len || r->len > USH_CHUNK_MAX)
		return false;
	memcpy(r->text, s->data + 16, r->len);
	r->text[r->len] = '\0';
	r->counter = 0;
	r->tag_ok = false;
	if (r->flags & 2) {
		r->counter = get_be64(s->data + 16 + r->len);
		if (tq_key) {
			hmac_sha256(tq_key, USH_KEY_LEN, s->data, 16u + r->len + 8, want);
			r->tag_ok = memcmp(want, s->data + 16 + r->len + 8, 32) == 0;
		}
	}
	return true;
}

/* Every reply sent to client port @cport, in order, into @out: how many. */
static unsigned tq_collect(struct fake_netdev *f, u16 cport, struct tq_reply *out, unsigned max)
{
	static struct tu_sent s;
	unsigned n = 0;

	while (tu_pop(f, cport, &s))
		if (n < max && tq_read(&s, &out[n]))
			n++;
	return n;
}

static struct tq_reply replies[TQ_MAX];

/* Send a request for @line from @cport (unsigned, or signed when @key). */
static void tq_send(struct fake_netdev *f, u16 cport, u32 seq, const char *line, const u8 *key,
		    u64 counter)
{
	u8 buf[USH_PKT_MAX + 64];
	u32 n = tq_packet(buf, seq, 0, 0, line, (u16)strlen(line), key, counter);

	tu_inject(f, PEER_IP, cport, OUR_IP, SHELL_PORT, buf, n);
}

static void tq_raw(struct fake_netdev *f, u16 cport, const void *buf, u32 n)
{
	tu_inject(f, PEER_IP, cport, OUR_IP, SHELL_PORT, buf, n);
}

/* ------------------------------------------------- the stand-in runner */

static struct {
	struct ush_job *pending[USH_RUN_MAX]; /* started, not ended, oldest first */
	unsigned npending;
	unsigned starts, interrupts, kicks;
	int start_rc;
	int wall_rc;
	s64 wall_base;                  /* wall clock = this + time_ns() */
} tops;

static int tops_open(void)
{
	return 0;
}

static int tops_start(struct ush_job *job)
{
	if (tops.start_rc)
		return tops.start_rc;
	tops.pending[tops.npending++] = job;
	tops.starts++;
	return 0;
}

static void tops_interrupt(struct ush_job *job)
{
	tops.interrupts++;
}

static void tops_kick(void)
{
	tops.kicks++;
}

/* The oldest pending job, taken off the list (NULL if none). */
static struct ush_job *tops_take(void)
{
	struct ush_job *job;

	if (!tops.npending)
		return NULL;
	job = tops.pending[0];
	memmove(tops.pending, tops.pending + 1, --tops.npending * sizeof(tops.pending[0]));
	return job;
}

/* The newest pending job, taken off the list (NULL if none). */
static struct ush_job *tops_take_last(void)
{
	return tops.npending ? tops.pending[--tops.npending] : NULL;
}

static void tops_close(void)
{
	struct ush_job *job;

	while ((job = tops_take()))
		ush_job_end(job);
}

static int tops_wall(s64 *ns)
{
	if (tops.wall_rc)
		return tops.wall_rc;
	*ns = tops.wall_base + (s64)time_ns();
	return 0;
}

static const struct ush_ops test_ops = {
	.open = tops_open, .start = tops_start, .interrupt = tops_interrupt,
	.kick = tops_kick, .close = tops_close, .wall_ns = tops_wall,
};

#define WALL_2026 (1790000000ll * 1000000000ll)

/* Our clock in the counter's unit (us since 1970). */
static u64 wall_us(void)
{
	return (u64)(tops.wall_base + (s64)time_ns()) / 1000;
}

/* Write @text through @job's sink. */
static int tq_write(struct ush_job *job, const char *text)
{
	return ush_job_write(job, text, strlen(text));
}

static struct udpshell_stats tq_stats(void)
{
	struct udpshell_status st;

	udpshell_get_status(&st);
	return st.stats;
}

#define USH_BEGIN(key)                                                         \
	NET_BEGIN(OUR_SPEC);                                                   \
	tq_begin(kt, f, (key))

static void tq_begin(struct ktest_ctx *kt, struct fake_netdev *f, const u8 *key)
{
	memset(&tops, 0, sizeof(tops));
	tops.wall_base = WALL_2026;
	ush.nseen = 0; /* earlier tests' requests, on the same simulated clock */
	ush.seen_floor = 0;
	tq_key = key;
	fake_netdev_peer(f, PEER_IP, &peer_mac, false);
	udpshell_set_key(key);
	ush.keep_reply = USH_KEEP_REPLY;
	ush.keep_total = USH_KEEP_TOTAL;
	KT_EXPECT_EQ(ush_start_with(SHELL_PORT, &test_ops), 0);
}

/* Stop the server (ends pending jobs), check nothing is left. */
static void tq_end(struct ktest_ctx *kt, struct fake_netdev *f)
{
	struct udpshell_status st;

	KT_EXPECT_EQ(ush_stop_server(), 0);
	udpshell_get_status(&st);
	KT_EXPECT(!st.running);
	KT_EXPECT_EQ(st.stored_bytes, 0);
	KT_EXPECT_EQ(st.sessions, 0);
	udpshell_set_key(NULL);
	ush.keep_reply = USH_KEEP_REPLY;
	ush.keep_total = USH_KEEP_TOTAL;
	fake_netdev_clear(f);
}

#define USH_END()                                                              \
	do {                                                                   \
		tq_end(kt, f);                                                 \
		NET_END();                                                     \
	} while (0)

/* ================================================== the server */

/* The job the last request started (taken off the pending list). */
#define TAKE_JOB(var)                                                          \
	struct ush_job *var = tops_take();                                     \
	KT_ASSERT(var != NULL)

/* End the oldest (or newest) pending job, which must exist. */
#define END_JOB(take)                                                          \
	do {                                                                   \
		struct ush_job *j_ = take();                                   \
		KT_ASSERT(j_ != NULL);                                         \
		ush_job_end(j_);                                               \
	} while (0)

KTEST(udpshell, output_streams_per_line_and_per_kib)
{
	USH_BEGIN(NULL);
	static char big[3000];
	unsigned n;

	tq_send(f, CPORT, 7, "anything\r\n", NULL, 0);
	KT_ASSERT_EQ(tops.starts, 1);
	TAKE_JOB(job);
	KT_EXPECT_STREQ(job->line, "anything"); /* the line end a client sent is not the line */
	KT_EXPECT_EQ(tq_write(job, "line one\n"), 0);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT_EQ(replies[0].seq, 7);
	KT_EXPECT_EQ(replies[0].chunk, 0);
	KT_EXPECT_EQ(replies[0].flags, USH_F_REPLY);
	KT_EXPECT_STREQ(replies[0].text, "line one\n");
	KT_EXPECT_EQ(tq_write(job, "no line end yet"), 0);
	KT_EXPECT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 0); /* waits for the line */
	KT_EXPECT_EQ(tq_write(job, ", now\nand more"), 0);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT_EQ(replies[0].chunk, 1);
	KT_EXPECT_STREQ(replies[0].text, "no line end yet, now\nand more");
	memset(big, 'x', sizeof(big));
	KT_EXPECT_EQ(ush_job_write(job, big, sizeof(big)), 0);
	n = tq_collect(f, CPORT, replies, TQ_MAX);
	KT_ASSERT_EQ(n, 2); /* two full chunks at once; 952 bytes wait */
	KT_EXPECT(replies[0].chunk == 2 && replies[0].len == USH_CHUNK_MAX);
	KT_EXPECT(replies[1].chunk == 3 && replies[1].len == USH_CHUNK_MAX);
	ush_job_end(job);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT_EQ(replies[0].chunk, 4);
	KT_EXPECT_EQ(replies[0].flags, USH_F_REPLY | USH_F_LAST);
	KT_EXPECT_EQ(replies[0].len, 3000 - 2 * USH_CHUNK_MAX);
	KT_EXPECT_EQ(tops.starts, 1);
	USH_END();
}

KTEST(udpshell, a_real_command_runs_through_the_sink_and_printk_stays_out)
{
	USH_BEGIN(NULL);
	char all[2048] = "";
	unsigned n;

	tq_send(f, CPORT, 1, "help help", NULL, 0);
	TAKE_JOB(job);
	pr_info("a kernel message while the command runs");
	ush_job_run(job);
	n = tq_collect(f, CPORT, replies, TQ_MAX);
	KT_ASSERT(n >= 1);
	for (unsigned i = 0; i < n; i++) {
		KT_EXPECT_EQ(replies[i].chunk, i);
		KT_EXPECT_EQ(!!(replies[i].flags & USH_F_LAST), i + 1 == n);
		strlcat(all, replies[i].text, sizeof(all));
	}
	KT_EXPECT_STREQ(all, "usage: help [command]\nlist the commands, or show how to use one\n");
	KT_EXPECT(!strstr(all, "kernel message"));
	USH_END();
}

/* Chunks 0..n-1 of a reply all there, once each, the last flagged; their text joined. */
static bool whole_reply(const struct tq_reply *r, unsigned n, u32 seq, char *text, size_t size)
{
	bool seen[TQ_MAX] = { false };
	unsigned last = TQ_MAX;

	text[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (r[i].seq != seq || r[i].chunk >= TQ_MAX || !(r[i].flags & USH_F_REPLY))
			return false;
		if (r[i].flags & USH_F_LAST)
			last = r[i].chunk;
		seen[r[i].chunk] = true;
	}
	for (unsigned c = 0; c <= last && c < TQ_MAX; c++) {
		if (!seen[c])
			return false;
		for (unsigned i = 0; i < n; i++)
			if (r[i].chunk == c) {
				strlcat(text, r[i].text, size);
				break;
			}
	}
	return last < TQ_MAX;
}

KTEST(udpshell, retransmission_gets_the_same_bytes_and_never_runs_twice)
{
	USH_BEGIN(NULL);
	static struct tq_reply first[8];
	u64 retx = tq_stats().retransmissions;
	char text[256];
	unsigned n, kicks;

	tq_send(f, CPORT, 42, "cmd", NULL, 0);
	TAKE_JOB(job);
	tq_write(job, "a\n");
	tq_write(job, "b\n");
	KT_ASSERT_EQ(tq_collect(f, CPORT, first, 8), 2);
	/* while it runs: the chunks so far, byte for byte */
	kicks = tops.kicks;
	tq_send(f, CPORT, 42, "cmd", NULL, 0);
	KT_EXPECT_EQ(tops.kicks, kicks + 1);
	KT_EXPECT_EQ(tops.starts, 1);
	KT_EXPECT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 0); /* the resend task sends */
	ush_resend_work();
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 2);
	for (unsigned i = 0; i < 2; i++)
		KT_EXPECT(replies[i].rawlen == first[i].rawlen &&
			  !memcmp(replies[i].raw, first[i].raw, first[i].rawlen));
	ush_resend_work(); /* nothing marked: nothing sent */
	KT_EXPECT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 0);
	/* ...then the rest as the command makes it */
	tq_write(job, "c\n");
	ush_job_end(job);
	KT_ASSERT_EQ(tq_collect(f, CPORT, first + 2, 6), 2);
	/* after it ended: the whole reply again, twice over if asked twice */
	tq_send(f, CPORT, 42, "cmd", NULL, 0);
	tq_send(f, CPORT, 42, "cmd", NULL, 0);
	ush_resend_work();
	n = tq_collect(f, CPORT, replies, TQ_MAX);
	KT_ASSERT_EQ(n, 4);
	for (unsigned i = 0; i < 4; i++)
		KT_EXPECT(!memcmp(replies[i].raw, first[i].raw, first[i].rawlen));
	KT_EXPECT(whole_reply(replies, n, 42, text, sizeof(text)));
	KT_EXPECT_STREQ(text, "a\nb\nc\n");
	KT_EXPECT_EQ(tops.starts, 1);
	KT_EXPECT_EQ(tq_stats().retransmissions - retx, 3);
	USH_END();
}

KTEST(udpshell, a_new_seq_runs_anew_and_seq_wraps)
{
	USH_BEGIN(NULL);
	struct udpshell_status st;

	tq_send(f, CPORT, 0xffffffffu, "one", NULL, 0);
	TAKE_JOB(a);
	tq_write(a, "1\n");
	ush_job_end(a);
	tq_send(f, CPORT, 0, "two", NULL, 0); /* 0xffffffff -> 0: a new command */
	KT_ASSERT_EQ(tops.starts, 2);
	TAKE_JOB(b);
	KT_EXPECT_STREQ(b->line, "two");
	ush_job_end(b);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 3);
	KT_EXPECT(replies[2].seq == 0 && replies[2].chunk == 0 && (replies[2].flags & USH_F_LAST));
	/* the old reply is gone: its seq now runs again */
	udpshell_get_status(&st);
	KT_EXPECT_EQ(st.sessions, 1);
	tq_send(f, CPORT, 0xffffffffu, "one", NULL, 0);
	KT_EXPECT_EQ(tops.starts, 3);
	USH_END();
}

KTEST(udpshell, busy_per_session_and_when_every_slot_runs)
{
	USH_BEGIN(NULL);
	u64 busy = tq_stats().busy;

	tq_send(f, CPORT, 1, "long", NULL, 0);
	tq_send(f, CPORT, 2, "other", NULL, 0);
	KT_EXPECT_EQ(tops.starts, 1);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT_EQ(replies[0].seq, 2);
	KT_EXPECT_EQ(replies[0].flags, USH_F_REPLY | USH_F_LAST);
	KT_EXPECT(strstr(replies[0].text, "busy") != NULL);
	for (u16 c = 1; c < USH_RUN_MAX; c++)
		tq_send(f, CPORT + c, 1, "long", NULL, 0);
	KT_EXPECT_EQ(tops.starts, USH_RUN_MAX);
	tq_send(f, CPORT + USH_RUN_MAX, 1, "one too many", NULL, 0);
	KT_EXPECT_EQ(tops.starts, USH_RUN_MAX);
	KT_ASSERT_EQ(tq_collect(f, CPORT + USH_RUN_MAX, replies, TQ_MAX), 1);
	KT_EXPECT(strstr(replies[0].text, "busy") != NULL);
	KT_EXPECT_EQ(tq_stats().busy, busy + 2);
	/* a slot freed by a command's end is free when its last chunk arrives */
	END_JOB(tops_take);
	tq_send(f, CPORT + USH_RUN_MAX, 2, "now", NULL, 0);
	KT_EXPECT_EQ(tops.starts, USH_RUN_MAX + 1);
	END_JOB(tops_take_last); /* "now" */
	/* CPORT's seq 2 was answered "busy": it never ran, so now it runs */
	tq_send(f, CPORT, 2, "other", NULL, 0);
	KT_EXPECT_EQ(tops.starts, USH_RUN_MAX + 2);
	tq_send(f, CPORT, 2, "other", NULL, 0); /* and only once */
	KT_EXPECT_EQ(tops.starts, USH_RUN_MAX + 2);
	USH_END();
}

KTEST(udpshell, a_runner_that_cannot_start_answers_busy_and_the_seq_runs_later)
{
	USH_BEGIN(NULL);

	tops.start_rc = -ENOMEM;
	tq_send(f, CPORT, 5, "x", NULL, 0);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT(strstr(replies[0].text, "busy") != NULL);
	tops.start_rc = 0;
	tq_send(f, CPORT, 5, "x", NULL, 0);
	KT_EXPECT_EQ(tops.starts, 1);
	USH_END();
}

/* Start and finish a command from client port @cport. */
static void one_command(struct fake_netdev *f, u16 cport, u32 seq)
{
	struct ush_job *job;

	tq_send(f, cport, seq, "x", NULL, 0);
	job = tops_take_last();
	if (job)
		ush_job_end(job);
}

KTEST(udpshell, the_table_refuses_newcomers_while_full_of_live_sessions)
{
	USH_BEGIN(NULL);
	struct udpshell_status st;
	u64 refused = tq_stats().refused;

	for (u16 i = 0; i < USH_SESSIONS; i++)
		one_command(f, (u16)(CPORT + i), 1);
	KT_EXPECT_EQ(tops.starts, USH_SESSIONS);
	/* one more client: refused with a word, no session, no command */
	tq_send(f, CPORT + USH_SESSIONS, 1, "x", NULL, 0);
	KT_EXPECT_EQ(tops.starts, USH_SESSIONS);
	KT_EXPECT_EQ(tq_stats().refused, refused + 1);
	KT_ASSERT_EQ(tq_collect(f, CPORT + USH_SESSIONS, replies, TQ_MAX), 1);
	KT_EXPECT(strstr(replies[0].text, "too many") != NULL);
	/* a live session is never evicted, even at the very edge of its life */
	shim_clock_advance(USH_IDLE_NS);
	tq_send(f, CPORT + USH_SESSIONS, 2, "x", NULL, 0);
	KT_EXPECT_EQ(tq_stats().refused, refused + 2);
	/* but a session running a command lives on; the others expire */
	tq_send(f, CPORT, 2, "runs", NULL, 0);
	KT_EXPECT_EQ(tops.starts, USH_SESSIONS + 1);
	shim_clock_advance(USH_IDLE_NS + 1);
	udpshell_get_status(&st);
	KT_EXPECT_EQ(st.sessions, 1);
	for (u16 i = 0; i < USH_SESSIONS - 1; i++)
		one_command(f, (u16)(CPORT + 100 + i), 1);
	KT_EXPECT_EQ(tops.starts, 2 * USH_SESSIONS);
	tq_send(f, CPORT + 200, 1, "x", NULL, 0); /* full again */
	KT_EXPECT_EQ(tq_stats().refused, refused + 3);
	END_JOB(tops_take); /* the long one ends; it is idle from now on */
	USH_END();
}

KTEST(udpshell, an_expired_session_forgets_its_reply)
{
	USH_BEGIN(NULL);

	one_command(f, CPORT, 9);
	shim_clock_advance(USH_IDLE_NS);
	tq_send(f, CPORT, 9, "x", NULL, 0); /* still live: a retransmission */
	KT_EXPECT_EQ(tops.starts, 1);
	shim_clock_advance(USH_IDLE_NS + 1);
	tq_send(f, CPORT, 9, "x", NULL, 0); /* a stranger with the same seq: it runs */
	KT_EXPECT_EQ(tops.starts, 2);
	USH_END();
}

/* The load test (tests/system/test_load.py) found expired replies kept until
 * the next request: the resender's periodic ush_reap_expired() frees them. */
KTEST(udpshell, the_reaper_frees_an_expired_sessions_reply_without_a_request)
{
	USH_BEGIN(NULL);
	struct udpshell_status st;
	struct ush_job *job;

	tq_send(f, CPORT, 4, "x", NULL, 0);
	job = tops_take_last();
	KT_ASSERT(job != NULL);
	KT_EXPECT_EQ(tq_write(job, "a reply to keep\n"), 0);
	ush_job_end(job);
	udpshell_get_status(&st);
	KT_EXPECT(st.stored_bytes > 0);
	ush_reap_expired(time_ns()); /* still live: kept */
	udpshell_get_status(&st);
	KT_EXPECT(st.stored_bytes > 0);
	KT_EXPECT_EQ(st.sessions, 1);
	shim_clock_advance(USH_IDLE_NS + 1);
	udpshell_get_status(&st);
	KT_EXPECT_EQ(st.sessions, 0);
	ush_reap_expired(time_ns());
	udpshell_get_status(&st);
	KT_EXPECT_EQ(st.stored_bytes, 0);
	USH_END();
}

KTEST(udpshell, past_the_store_bounds_notes_stand_for_what_was_not_kept)
{
	USH_BEGIN(NULL);
	static char kib[USH_CHUNK_MAX];
	char text[8192];
	unsigned n;

	ush.keep_reply = 3 * (USH_PKT_MAX + 16); /* room for three chunks */
	tq_send(f, CPORT, 3, "big", NULL, 0);
	TAKE_JOB(job);
	memset(kib, 'k', sizeof(kib));
	for (int i = 0; i < 5; i++)
		ush_job_write(job, kib, sizeof(kib));
	tq_write(job, "tail\n");
	ush_job_end(job);
	n = tq_collect(f, CPORT, replies, TQ_MAX);
	KT_ASSERT_EQ(n, 7); /* all of it went out live: 5 full, "tail", the empty last */
	KT_EXPECT(tq_stats().not_kept >= 4);
	tq_send(f, CPORT, 3, "big", NULL, 0);
	ush_resend_work();
	n = tq_collect(f, CPORT, replies, TQ_MAX);
	KT_ASSERT_EQ(n, 7);
	KT_EXPECT(whole_reply(replies, n, 3, text, sizeof(text)));
	for (unsigned i = 0; i < 3; i++)
		KT_EXPECT(replies[i].len == USH_CHUNK_MAX && replies[i].text[0] == 'k');
	for (unsigned i = 3; i < 7; i++) {
		KT_EXPECT(strstr(replies[i].text, "was not kept") != NULL);
		KT_EXPECT_EQ(!!(replies[i].flags & USH_F_LAST), i == 6);
	}
	/* the total bound: a second session finds no room left */
	ush.keep_total = 3 * (USH_HDR_LEN + USH_CHUNK_MAX + sizeof(struct ush_chunk)) + 20;
	tq_send(f, CPORT + 1, 1, "other", NULL, 0);
	TAKE_JOB(other);
	ush_job_write(other, kib, 10);
	ush_job_end(other);
	tq_collect(f, CPORT + 1, replies, TQ_MAX);
	tq_send(f, CPORT + 1, 1, "other", NULL, 0);
	ush_resend_work();
	KT_ASSERT_EQ(tq_collect(f, CPORT + 1, replies, TQ_MAX), 1);
	KT_EXPECT(strstr(replies[0].text, "was not kept") && (replies[0].flags & USH_F_LAST));
	USH_END();
}

KTEST(udpshell, the_chunk_index_running_out_cuts_the_output)
{
	USH_BEGIN(NULL);
	static char kib[USH_CHUNK_MAX];

	tq_send(f, CPORT, 3, "huge", NULL, 0);
	TAKE_JOB(job);
	job->chunk = 0xfffe; /* as if 65534 chunks had gone */
	memset(kib, 'h', sizeof(kib));
	KT_EXPECT_EQ(ush_job_write(job, kib, sizeof(kib)), 0);
	KT_EXPECT_EQ(ush_job_write(job, kib, sizeof(kib)), 0); /* chunk 0xfffe goes */
	KT_EXPECT_EQ(ush_job_write(job, kib, 1), -EMSGSIZE);   /* 0xffff must be the last */
	KT_EXPECT_EQ(ush_job_write(job, "more", 4), -EMSGSIZE);
	ush_job_end(job);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 2);
	KT_EXPECT_EQ(replies[0].chunk, 0xfffe);
	KT_EXPECT(replies[1].chunk == 0xffff && (replies[1].flags & USH_F_LAST));
	KT_EXPECT(strstr(replies[1].text, "output cut") != NULL);
	USH_END();
}

KTEST(udpshell, garbage_is_dropped_and_counted_and_never_answered)
{
	USH_BEGIN(NULL);
	struct udpshell_stats before = tq_stats(), after;
	u8 buf[300];
	u64 total = 0;

	for (unsigned i = 0; i < 3000; i++) {
		u32 n = (u32)(ktest_rand(kt) % sizeof(buf));

		for (u32 j = 0; j < n; j++)
			buf[j] = (u8)ktest_rand(kt);
		if (n >= 16 && (i & 1)) { /* framing that passes the first checks */
			put_be32(buf, USH_MAGIC);
			put_be16(buf + 8, (u16)((i & 8) ? 0 : 1));
			put_be16(buf + 10, (u16)((i & 2) ? USH_F_REPLY : 0));
			put_be16(buf + 12, (u16)(n - 16 + ((i & 4) ? 1 + i % 3 : 0)));
			put_be16(buf + 14, 0);
		}
		tq_raw(f, CPORT, buf, n);
	}
	after = tq_stats();
	for (unsigned i = 0; i < USH_BAD_COUNT; i++)
		total += after.drops[i] - before.drops[i];
	KT_EXPECT_EQ(after.rx - before.rx, 3000);
	/* what was not dropped was a request: run, answered busy, or resent */
	KT_EXPECT_EQ(total + (after.requests - before.requests) + (after.busy - before.busy) +
		     (after.retransmissions - before.retransmissions), 3000);
	KT_EXPECT(after.drops[USH_BAD_SHORT] > before.drops[USH_BAD_SHORT]);
	KT_EXPECT(after.drops[USH_BAD_MAGIC] > before.drops[USH_BAD_MAGIC]);
	KT_EXPECT(after.drops[USH_BAD_LEN] > before.drops[USH_BAD_LEN]);
	KT_EXPECT(after.drops[USH_BAD_REPLY] > before.drops[USH_BAD_REPLY]);
	/* the few that were requests started one command (a session runs one at a time) */
	KT_EXPECT(tops.starts <= 1);
	USH_END();
}

KTEST(udpshell, stop_interrupts_a_running_command_and_forgets_everything)
{
	USH_BEGIN(NULL);
	struct ush_job *job;

	tq_send(f, CPORT, 1, "sleep 100", NULL, 0);
	job = tops.pending[0];
	KT_ASSERT(job != NULL);
	tq_write(job, "started\n");
	/* what the runner sees once the stop has begun: the sink refuses */
	ush.state = USH_STOPPING;
	KT_EXPECT_EQ(tq_write(job, "more\n"), -EPIPE);
	ush.state = USH_ON;
	KT_EXPECT_EQ(ush_stop_server(), 0);
	KT_EXPECT_EQ(tops.interrupts, 1);
	KT_EXPECT_EQ(tops.npending, 0); /* close ended it */
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 2);
	KT_EXPECT(replies[1].flags & USH_F_LAST);
	KT_EXPECT_EQ(ush_stop_server(), -ENOENT);
	/* the port is closed: a request now meets port unreachable, not the shell */
	tq_send(f, CPORT, 2, "x", NULL, 0);
	KT_EXPECT_EQ(tops.starts, 1);
	KT_EXPECT_EQ(ush_start_with(SHELL_PORT, &test_ops), 0);
	KT_EXPECT_EQ(ush_start_with(SHELL_PORT, &test_ops), -EALREADY);
	KT_EXPECT_EQ(ush_start_with(0, &test_ops), -EINVAL);
	USH_END();
}

KTEST(udpshell, without_a_key_the_start_warns_and_requests_need_no_tag)
{
	USH_BEGIN(NULL);

	KT_EXPECT_LOGGED("without a key: anyone who can reach it runs commands");
	tq_send(f, CPORT, 1, "x", key_a, wall_us()); /* a tag nobody checks */
	KT_EXPECT_EQ(tops.starts, 1);
	END_JOB(tops_take);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT(!(replies[0].flags & USH_F_AUTH)); /* the client can tell there is no key */
	USH_END();
}

/* ================================================== with a key */

KTEST(udpshell_auth, only_good_tags_get_in_and_replies_are_signed)
{
	USH_BEGIN(key_a);
	struct udpshell_stats before = tq_stats(), after;
	u64 c = wall_us();
	u8 buf[128];
	u32 n;

	KT_EXPECT_NOT_LOGGED("without a key");
	tq_send(f, CPORT, 1, "touch /a", NULL, 0);       /* no tag */
	tq_send(f, CPORT, 2, "touch /b", key_b, c);      /* another key */
	n = tq_packet(buf, 3, 0, 0, "touch /c", 8, key_a, c);
	buf[16] ^= 0x20;                                 /* altered on the way */
	tq_raw(f, CPORT, buf, n);
	KT_EXPECT_EQ(tops.starts, 0);
	KT_EXPECT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 0); /* not a word back */
	after = tq_stats();
	KT_EXPECT_EQ(after.drops[USH_DROP_NO_AUTH] - before.drops[USH_DROP_NO_AUTH], 1);
	KT_EXPECT_EQ(after.drops[USH_DROP_BAD_TAG] - before.drops[USH_DROP_BAD_TAG], 2);
	/* logged once per source and reason */
	KT_EXPECT_EQ(shim_log_count(LOG_WARN, "no tag"), 1);
	KT_EXPECT_EQ(shim_log_count(LOG_WARN, "wrong tag"), 0); /* within a second of the last */
	shim_clock_advance(USH_LOG_GAP_NS);
	tq_send(f, CPORT, 2, "touch /b", key_b, c + 1);
	tq_send(f, CPORT, 2, "touch /b", key_b, c + 2);
	KT_EXPECT_EQ(shim_log_count(LOG_WARN, "wrong tag"), 1);
	tq_send(f, CPORT, 4, "touch /d", key_a, c);
	KT_ASSERT_EQ(tops.starts, 1);
	TAKE_JOB(job);
	tq_write(job, "done\n");
	ush_job_end(job);
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 2);
	for (unsigned i = 0; i < 2; i++) {
		KT_EXPECT(replies[i].tag_ok);
		KT_EXPECT_EQ(replies[i].counter, c);
		KT_EXPECT(replies[i].flags & USH_F_REPLY);
	}
	USH_END();
}

KTEST(udpshell_auth, replays_are_dropped_and_retransmissions_answered)
{
	USH_BEGIN(key_a);
	u8 old[128], buf[128];
	u64 c = wall_us();
	u64 olds = tq_stats().drops[USH_DROP_OLD];
	u32 nold, n;

	nold = tq_packet(old, 10, 0, 0, "touch /x", 8, key_a, c);
	tq_raw(f, CPORT, old, nold);
	KT_ASSERT_EQ(tops.starts, 1);
	END_JOB(tops_take);
	tq_collect(f, CPORT, replies, TQ_MAX);
	/* the very same datagram again: a retransmission, answered from the store */
	tq_raw(f, CPORT, old, nold);
	ush_resend_work();
	KT_EXPECT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT_EQ(tops.starts, 1);
	/* a newer command, then the old datagram replayed: dropped without a word */
	n = tq_packet(buf, 11, 0, 0, "ls", 2, key_a, c + 1);
	tq_raw(f, CPORT, buf, n);
	END_JOB(tops_take);
	tq_collect(f, CPORT, replies, TQ_MAX);
	tq_raw(f, CPORT, old, nold);
	ush_resend_work();
	KT_EXPECT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 0);
	KT_EXPECT_EQ(tops.starts, 2);
	KT_EXPECT_EQ(tq_stats().drops[USH_DROP_OLD], olds + 1);
	KT_EXPECT_LOGGED("a replay?");
	/* the same counter with another seq is not a retransmission either */
	tq_send(f, CPORT, 12, "ls", key_a, c + 1);
	KT_EXPECT_EQ(tq_stats().drops[USH_DROP_OLD], olds + 2);
	/* seq wraps under a key too: 0xffffffff then 0 are two commands */
	tq_send(f, CPORT, 0xffffffffu, "a", key_a, c + 2);
	END_JOB(tops_take);
	tq_send(f, CPORT, 0, "b", key_a, c + 3);
	KT_EXPECT_EQ(tops.starts, 4);
	END_JOB(tops_take);
	USH_END();
}

KTEST(udpshell_auth, a_new_session_needs_a_counter_near_our_clock)
{
	USH_BEGIN(key_a);
	struct udpshell_stats before = tq_stats(), after;
	u64 now = wall_us();

	tq_send(f, CPORT, 1, "x", key_a, now - USH_WINDOW_US - 1000);
	tq_send(f, CPORT, 1, "x", key_a, now + USH_WINDOW_US + 1000);
	tq_send(f, CPORT, 1, "x", key_a, ~0ull);          /* near 2^64: no overflow */
	tq_send(f, CPORT, 1, "x", key_a, 0);
	KT_EXPECT_EQ(tops.starts, 0);
	after = tq_stats();
	KT_EXPECT_EQ(after.drops[USH_DROP_WINDOW] - before.drops[USH_DROP_WINDOW], 4);
	tops.wall_rc = -ENODATA;                          /* no wall clock: no new session */
	tq_send(f, CPORT, 1, "x", key_a, now);
	KT_EXPECT_EQ(tops.starts, 0);
	KT_EXPECT_EQ(tq_stats().drops[USH_DROP_NO_CLOCK] - before.drops[USH_DROP_NO_CLOCK], 1);
	tops.wall_rc = 0;
	tq_send(f, CPORT, 1, "x", key_a, now - USH_WINDOW_US + 1000);
	KT_EXPECT_EQ(tops.starts, 1);
	END_JOB(tops_take);
	/* a known session's counters only need to grow: even to the top of the range */
	tops.wall_rc = -ENODATA;
	tq_send(f, CPORT, 2, "y", key_a, ~0ull - 1);
	KT_EXPECT_EQ(tops.starts, 2);
	END_JOB(tops_take);
	tq_send(f, CPORT, 3, "z", key_a, ~0ull);
	KT_EXPECT_EQ(tops.starts, 3);
	END_JOB(tops_take);
	tq_send(f, CPORT, 4, "w", key_a, 0); /* no wrap back to 0 */
	tq_send(f, CPORT, 4, "w", key_a, ~0ull); /* the top again, another seq */
	KT_EXPECT_EQ(tops.starts, 3);
	tq_collect(f, CPORT, replies, TQ_MAX);
	tq_send(f, CPORT, 3, "z", key_a, ~0ull); /* but an exact retransmission is fine */
	ush_resend_work();
	KT_ASSERT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 1);
	KT_EXPECT(replies[0].tag_ok && replies[0].counter == ~0ull);
	USH_END();
}

KTEST(udpshell_auth, an_expired_session_cannot_be_replayed_into)
{
	USH_BEGIN(key_a);
	u8 rec[128];
	u32 n = tq_packet(rec, 5, 0, 0, "touch /once", 11, key_a, wall_us());

	tq_raw(f, CPORT, rec, n);
	END_JOB(tops_take);
	/* recorded, then replayed once the session has expired: outside the window */
	shim_clock_advance(USH_IDLE_NS + 1);
	tq_raw(f, CPORT, rec, n);
	KT_EXPECT_EQ(tops.starts, 1);
	/* even with the client's clock ahead of ours by the whole window */
	n = tq_packet(rec, 6, 0, 0, "touch /twice", 12, key_a, wall_us() + USH_WINDOW_US);
	tq_raw(f, CPORT + 1, rec, n);
	KT_EXPECT_EQ(tops.starts, 2);
	END_JOB(tops_take);
	shim_clock_advance(USH_IDLE_NS + 1);
	tq_raw(f, CPORT + 1, rec, n);
	KT_EXPECT_EQ(tops.starts, 2);
	USH_END();
}

KTEST(udpshell_auth, a_request_replayed_from_elsewhere_is_refused)
{
	USH_BEGIN(key_a);
	u8 rec[128], b[128];
	u64 c = wall_us();
	u32 n = tq_packet(rec, 5, 0, 0, "touch /once", 11, key_a, c);

	tq_raw(f, CPORT, rec, n);
	KT_EXPECT_EQ(tops.starts, 1);
	END_JOB(tops_take);
	tq_raw(f, CPORT + 1, rec, n);    /* another port: a session of its own */
	KT_EXPECT_EQ(tops.starts, 1);
	n = tq_packet(b, 1, 0, 0, "x", 1, key_a, c + 1);
	tq_raw(f, CPORT + 1, b, n);      /* a fresh request from there is fine */
	KT_EXPECT_EQ(tops.starts, 2);
	END_JOB(tops_take);
	/* a refused newcomer is remembered too: it may not run once a slot frees */
	for (u16 i = 2; i < USH_SESSIONS; i++) {
		tq_send(f, (u16)(CPORT + i), 1, "x", key_a, c + 1 + i);
		END_JOB(tops_take);
	}
	n = tq_packet(b, 1, 0, 0, "touch /late", 11, key_a, c + 100);
	tq_raw(f, CPORT + 100, b, n);    /* table full: "too many clients" */
	KT_EXPECT_EQ(tops.starts, USH_SESSIONS);
	shim_clock_advance(USH_IDLE_NS + 1); /* every slot free again */
	tops.wall_base -= (s64)(USH_IDLE_NS + 1); /* and the request still young */
	tq_raw(f, CPORT + 101, b, n);
	KT_EXPECT_EQ(tops.starts, USH_SESSIONS);
	USH_END();
}

KTEST(udpshell_auth, an_overflowing_replay_ring_raises_the_floor)
{
	USH_BEGIN(key_a);
	u64 c = wall_us();
	u64 floor0 = ush.seen_floor;

	/* many commands from one session: each one pushes the ring along */
	for (unsigned i = 0; i < USH_SEEN + 10; i++) {
		tq_send(f, CPORT, i, "x", key_a, c + i);
		END_JOB(tops_take);
		fake_netdev_clear(f);
	}
	KT_EXPECT(ush.seen_floor >= c + 9 && ush.seen_floor > floor0);
	/* a newcomer below the floor, though in the window, is refused */
	tq_send(f, CPORT + 1, 1, "x", key_a, c + 5);
	KT_EXPECT_EQ(tops.starts, USH_SEEN + 10);
	tq_send(f, CPORT + 1, 1, "x", key_a, c + USH_SEEN + 20);
	KT_EXPECT_EQ(tops.starts, USH_SEEN + 11);
	USH_END();
}

KTEST(udpshell_auth, a_busy_answer_spends_the_counter)
{
	USH_BEGIN(key_a);
	u64 c = wall_us();
	u8 b[128];
	u32 nb;

	tq_send(f, CPORT, 1, "long", key_a, c);
	nb = tq_packet(b, 2, 0, 0, "touch /b", 8, key_a, c + 1);
	tq_raw(f, CPORT, b, nb); /* busy */
	KT_EXPECT_EQ(tops.starts, 1);
	tq_collect(f, CPORT, replies, TQ_MAX);
	/* the first command's exact retransmission is now old: the client moved on */
	tq_send(f, CPORT, 1, "long", key_a, c);
	ush_resend_work();
	KT_EXPECT_EQ(tq_collect(f, CPORT, replies, TQ_MAX), 0);
	END_JOB(tops_take);
	tq_collect(f, CPORT, replies, TQ_MAX);
	/* the busy-answered request, sent again, runs once — never twice */
	tq_raw(f, CPORT, b, nb);
	KT_EXPECT_EQ(tops.starts, 2);
	END_JOB(tops_take);
	tq_raw(f, CPORT, b, nb);
	KT_EXPECT_EQ(tops.starts, 2);
	USH_END();
}

KTEST(udpshell_auth, a_key_change_takes_effect_at_the_next_request)
{
	USH_BEGIN(key_a);
	u64 c = wall_us();

	tq_send(f, CPORT, 1, "x", key_a, c);
	END_JOB(tops_take);
	udpshell_set_key(key_b);
	tq_key = key_b;
	tq_send(f, CPORT, 2, "x", key_a, c + 1); /* the old key is refused now */
	KT_EXPECT_EQ(tops.starts, 1);
	tq_send(f, CPORT, 3, "x", key_b, c);     /* and the counter never goes back */
	KT_EXPECT_EQ(tops.starts, 1);
	tq_send(f, CPORT, 3, "x", key_b, c + 5);
	KT_EXPECT_EQ(tops.starts, 2);
	END_JOB(tops_take);
	tq_collect(f, CPORT, replies, TQ_MAX);
	udpshell_set_key(NULL); /* no key: anyone, without a tag */
	tq_send(f, CPORT + 1, 1, "x", NULL, 0);
	KT_EXPECT_EQ(tops.starts, 3);
	KT_EXPECT_LOGGED("key removed");
	USH_END();
}
