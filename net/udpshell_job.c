/*
 * udpshell_job.c — a command the UDP shell runs: its output sink, the
 * chunks it becomes, keeping them and sending them.
 *
 * A job belongs to the runner task from ops->start() until ush_job_end()
 * (udpshell_priv.h, [j]), so the sink works on it without a lock; only
 * storing a chunk in the session's reply and releasing the job take
 * "udpshell".
 *
 * Chunking.  Output gathers in the job's packet buffer, right after the
 * header's room.  A chunk goes out when USH_CHUNK_MAX bytes have gathered,
 * or at the end of a write that ended a line — so `ping` shows each reply
 * as it comes, and a command that prints a table in one call sends it in
 * as few chunks as fit.  After USH_LINE_CHUNKS chunks only full chunks go
 * out, which stretches the 16-bit chunk index to 64 MiB of output; past
 * the last index the output is cut, the command's later writes fail
 * (-EMSGSIZE, which stops a command that checks sh_output_error()), and
 * the last chunk says so.
 *
 * Each chunk is sealed (header, and with a key the counter and tag) in
 * place, kept (a copy on the session's list, within the bounds; see
 * udpshell_priv.h) and then sent.  Sending waits while the device's queue
 * is full (ush_send(), at most USH_SEND_TRIES * USH_BACKOFF_NS per chunk),
 * which paces a long output to what the device takes instead of losing
 * its tail; a chunk that still does not go out is in the store for the
 * client's retransmission.  Kernel messages never come here: printk
 * writes to the console and dmesg only, and this sink belongs to one
 * session.
 */
#include "net/udpshell_priv.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define USH_LINE_CHUNKS 4096u           /* chunks that may end at a line end */
#define USH_CHUNK_INDEX_MAX 0xffffu     /* the last chunk index the header holds */

static const char ush_cut_note[] =
	"\nudpshell: output cut: a reply has at most 65536 chunks (64 MiB)\n";

/* A copy of the @n-byte datagram in @job's buffer, or NULL when not to keep it. */
static struct ush_chunk *ush_chunk_copy(const struct ush_job *job, size_t n)
{
	struct ush_chunk *c;

	if (job->unkept)
		return NULL;
	c = kmalloc(sizeof(*c) + n);
	if (!c)
		return NULL;
	c->next = NULL;
	c->len = (u32)n;
	memcpy(c->pkt, job->pkt, n);
	return c;
}

/* Lock held: link @c (@size bytes of memory) at the end of @rp if the bounds allow. */
static bool ush_reply_keep(struct ush_reply *rp, struct ush_chunk *c, u64 size, u32 idx,
			   struct ush_chunk **freed)
{
	if (!c || rp->nkept != idx || rp->bytes + size > ush.keep_reply)
		return false;
	if (ush.stored + size > ush.keep_total)
		ush_reap_locked(time_ns(), freed); /* expired sessions' replies first */
	if (ush.stored + size > ush.keep_total)
		return false;
	if (rp->tail)
		rp->tail->next = c;
	else
		rp->head = c;
	rp->tail = c;
	rp->nkept++;
	rp->bytes += size;
	ush.stored += size;
	return true;
}

/*
 * Record that chunk job->chunk (@n bytes in the buffer) was made, keeping
 * a copy if allowed.  The last one also ends the session's command and
 * releases the job, before it is sent: the client may send its next
 * request the moment it has the last chunk, and must find both free.
 */
static void ush_job_store(struct ush_job *job, size_t n, bool last)
{
	struct ush_chunk *c = ush_chunk_copy(job, n), *freed = NULL;
	struct ush_session *s;
	struct ush_reply *rp;
	bool kept = false;

	spin_lock(&ush.lock);
	s = &ush.sessions[job->slot];
	rp = &s->reply;
	if (rp->gen == job->gen) {
		kept = ush_reply_keep(rp, c, sizeof(*c) + n, job->chunk, &freed);
		rp->nchunks = job->chunk + 1;
		rp->done = last;
	}
	if (last && s->job == job && rp->gen == job->gen) {
		s->job = NULL;
		s->last_ns = MAX(s->last_ns, time_ns()); /* idle from now */
	}
	if (last)
		job->in_use = false; /* no longer ours: not a field is touched after this */
	spin_unlock(&ush.lock);
	ush_chunks_free(freed);
	if (!kept) {
		kfree(c);
		if (!last)
			job->unkept = true;
		USH_COUNT(not_kept);
	}
}

/* Seal what has gathered as chunk job->chunk: the datagram's length. */
static size_t ush_job_seal(struct ush_job *job, bool last)
{
	struct ush_hdr h = {
		.seq = job->seq, .chunk = (u16)job->chunk, .len = (u16)job->fill,
		.flags = (u16)(USH_F_REPLY | (last ? USH_F_LAST : 0)),
	};

	return ush_seal(job->pkt, &h, job->auth ? &job->key : NULL, job->counter);
}

/* Seal, keep and send what has gathered as chunk job->chunk (not the last). */
static void ush_job_flush(struct ush_job *job)
{
	size_t n = ush_job_seal(job, false);

	ush_job_store(job, n, false);
	ush_send(job->pkt, n, &job->addr, job->port, true);
	USH_COUNT(chunks);
	job->chunk++;
	job->fill = 0;
}

/* The index ran out: drop what gathered, keep the last index for the end. */
static int ush_job_cut(struct ush_job *job)
{
	job->cut = true;
	job->fill = 0;
	return -EMSGSIZE;
}

int ush_job_write(void *arg, const char *buf, size_t len)
{
	struct ush_job *job = arg;
	bool line = false;
	u32 take;

	if (__atomic_load_n(&ush.state, __ATOMIC_RELAXED) != USH_ON)
		return -EPIPE;
	if (job->cut)
		return -EMSGSIZE;
	while (len) {
		if (job->fill == USH_CHUNK_MAX) {
			if (job->chunk >= USH_CHUNK_INDEX_MAX)
				return ush_job_cut(job);
			ush_job_flush(job);
			line = false;
		}
		take = (u32)MIN(len, (size_t)(USH_CHUNK_MAX - job->fill));
		memcpy(job->pkt + USH_HDR_LEN + job->fill, buf, take);
		line = line || memchr(buf, '\n', take);
		job->fill += take;
		buf += take;
		len -= take;
	}
	if (line && job->chunk < USH_LINE_CHUNKS)
		ush_job_flush(job);
	return 0;
}

void ush_job_end(struct ush_job *job)
{
	struct ip_addr addr = job->addr;
	u16 port = job->port;
	u8 pkt[USH_PKT_MAX];
	size_t n;

	if (job->cut) {
		memcpy(job->pkt + USH_HDR_LEN, ush_cut_note, sizeof(ush_cut_note) - 1);
		job->fill = sizeof(ush_cut_note) - 1;
	}
	n = ush_job_seal(job, true);
	memcpy(pkt, job->pkt, n);
	ush_job_store(job, n, true); /* the job is released here */
	ush_send(pkt, n, &addr, port, true);
	USH_COUNT(chunks);
	USH_COUNT(replies);
}

void ush_job_run(struct ush_job *job)
{
	struct sh sh;

	sh_init(&sh, ush_job_write, job);
	task_clear_interrupt(); /* before the check: a stop's interrupt is never lost */
	if (__atomic_load_n(&ush.state, __ATOMIC_RELAXED) == USH_ON) {
		shell_exec(&sh, job->line);
		if (task_interrupted())
			sh_write(&sh, "^C\n", 3);
	}
	task_clear_interrupt();
	ush_job_end(job);
}
