/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTracer: captured packets turned into a trace of sessions and protocol events, streamed as they come. */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-tracer.h"

#include <string.h>

#include "pl-dissector.h"
#include "pl-packet.h"
#include "pl-tcp-reassembler.h"
#include "pl-trace-error.h"

/* How much of a connection of unknown port is looked at before it is given up as not mail. */
#define MAX_SNIFF 4096
/*
 * Threaded (pl_tracer_set_threaded()): what is done to the trace goes to
 * the second thread in batches of about this many octets of events (or
 * this many operations), at most MAX_IN_FLIGHT batches at a time, so the
 * memory the pipeline holds stays bounded whatever the capture's size.
 */
#define BATCH_WEIGHT  (256 * 1024)
#define BATCH_OPS     4096
#define MAX_IN_FLIGHT 4
/*
 * The second thread gives each batch back once done; this thread lets go
 * of its refs (the events' memory) a few at a time as it adds new ones:
 * memory is freed by the thread that allocated it. Freed by the other
 * thread, every event took the lock of this thread's malloc arena while
 * this thread was allocating from it (16,000 futex calls on the benchmark
 * capture, four in five of them on this lock), and this thread's caches
 * never got the chunks back. Two a new op keeps up; past MAX_SPENT
 * batches waiting, a whole one is let go at once.
 */
#define CLEAR_PER_OP  2
#define MAX_SPENT     2

/* One thing done to the trace, in order. */
typedef enum {
  OP_SESSION,        /* pl_trace_add_session() */
  OP_EVENT,          /* pl_trace_add_event() */
  OP_UNTEXTED,       /* the same, its display text made first */
  OP_UNSTUFFED,      /* the same, its text made with dots unstuffed */
  OP_NOTE,           /* a session note (@text), then its note event */
  OP_ENCRYPTED,      /* the session is marked encrypted, a note (@text), then the note event */
  OP_CLOSE,          /* pl_trace_close_session() */
} OpKind;

typedef struct {
  OpKind      kind;
  PlSession  *session;   /* a ref */
  PlEvent    *event;     /* a ref, or NULL */
  char       *text;
  double      time;
} Op;

typedef struct {
  GArray *ops;           /* of Op */
  gsize   weight;
} Batch;

typedef struct {
  guint16     port;
  PlProtocol  protocol;
  gboolean    implicit_tls;
  PlHop       hop;
} KnownPort;

/* IANA's ports, and the ones `postlab-cli serve` uses; content decides for every other port. */
static const KnownPort known_ports[] = {
  { 25,   PL_PROTOCOL_SMTP, FALSE, PL_HOP_RELAY },
  { 587,  PL_PROTOCOL_SMTP, FALSE, PL_HOP_SUBMISSION },
  { 465,  PL_PROTOCOL_SMTP, TRUE,  PL_HOP_SUBMISSION },
  { 2525, PL_PROTOCOL_SMTP, FALSE, PL_HOP_UNKNOWN },
  { 110,  PL_PROTOCOL_POP3, FALSE, PL_HOP_ACCESS },
  { 995,  PL_PROTOCOL_POP3, TRUE,  PL_HOP_ACCESS },
  { 1110, PL_PROTOCOL_POP3, FALSE, PL_HOP_ACCESS },
  { 143,  PL_PROTOCOL_IMAP, FALSE, PL_HOP_ACCESS },
  { 993,  PL_PROTOCOL_IMAP, TRUE,  PL_HOP_ACCESS },
  { 1143, PL_PROTOCOL_IMAP, FALSE, PL_HOP_ACCESS },
  { 80,   PL_PROTOCOL_HTTP, FALSE, PL_HOP_UNKNOWN },
  { 8080, PL_PROTOCOL_HTTP, FALSE, PL_HOP_UNKNOWN },
  { 443,  PL_PROTOCOL_HTTP, TRUE,  PL_HOP_UNKNOWN },
};

static const KnownPort *
known_port (guint16 port)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_ports); i++)
    if (known_ports[i].port == port)
      return &known_ports[i];
  return NULL;
}

/* A side's chunk or gap that came while the protocol was not known yet. */
typedef struct {
  guint    side;
  gsize    len;
  guint64  gap;
  double   time;
} Held;

typedef struct {
  PlTracer         *tracer;
  PlTcpFlow        *flow;
  PlSession        *session;      /* a ref, once the protocol is known */
  PlDissector      *dissector;
  int               client_side;
  const KnownPort  *port;          /* the server's well-known port, if either side has one */
  int               port_side;     /* the side that has it */
  gboolean          decided;
  gboolean          ignored;
  GByteArray       *seen[2];
  GArray           *held;
  GList             link;
} FlowState;

struct _PlTracer
{
  PlTrace             *trace;
  PlTcpReassembler    *reassembler;
  char                *name;
  PlTracerWarningFunc  warn;
  gpointer             warn_data;
  gboolean             show_unknown;
  gsize                max_unit;
  PlTracerStats        stats;
  GQueue               states;
  double               now;
  gboolean             finished;

  /* Threaded: the batch being filled here, and what the two threads share (under @lock). */
  gboolean             threaded;
  PlTracerUntextedFunc untexted;
  gpointer             untexted_data;
  Batch               *batch;
  GThread             *worker;
  GMutex               lock;
  GCond                to_worker;
  GCond                to_reader;
  GQueue               batches;
  GQueue               spent;       /* batches done, given back to be cleared by this thread */
  gint                 n_spent;     /* their number (atomic: looked at without the lock) */
  Batch               *clearing;   /* the one being cleared, a few ops at a time: its first @cleared are */
  guint                cleared;
  guint64              n_pushed;
  guint64              n_done;
  gboolean             worker_waits;
  gboolean             reader_waits;
  gboolean             stop;
};

/* Does @op to the trace (in the second thread when threaded); its refs stay for op_clear(). */
static void
apply_op (PlTracer *self,
          Op       *op)
{
  PlTrace *trace = self->trace;

  switch (op->kind)
    {
    case OP_SESSION:
      pl_trace_add_session (trace, op->session);
      break;
    case OP_UNTEXTED:
    case OP_UNSTUFFED:
      if (self->untexted != NULL)
        {
          /* The listener makes the text itself (pl_tracer_set_untexted_func()). */
          self->untexted (op->event, op->kind == OP_UNSTUFFED, self->untexted_data);
          pl_trace_add_event (trace, op->session, op->event);
          break;
        }
      {
        gsize len = 0;
        const guint8 *data = pl_event_get_data (op->event, &len);

        pl_event_take_text (op->event, pl_display_text_from_octets (data, len, op->kind == OP_UNSTUFFED));
      }
      pl_trace_add_event (trace, op->session, op->event);
      break;
    case OP_ENCRYPTED:
      op->session->encrypted = TRUE;
      pl_session_add_note (op->session, op->text);
      pl_trace_add_event (trace, op->session, op->event);
      break;
    case OP_NOTE:
      pl_session_add_note (op->session, op->text);
      pl_trace_add_event (trace, op->session, op->event);
      break;
    case OP_CLOSE:
      pl_trace_close_session (trace, op->session, op->time);
      break;
    case OP_EVENT:
    default:
      pl_trace_add_event (trace, op->session, op->event);
      break;
    }
}

/* Lets go of what @op holds (in the thread that made it). */
static void
op_clear (Op *op)
{
  g_clear_pointer (&op->event, pl_event_unref);
  g_clear_pointer (&op->session, pl_session_unref);
  g_clear_pointer (&op->text, g_free);
}

static void
batch_free (Batch *batch)
{
  for (guint i = 0; i < batch->ops->len; i++)
    op_clear (&g_array_index (batch->ops, Op, i));
  g_array_unref (batch->ops);
  g_free (batch);
}

/* The next batch the second thread gave back, to be cleared here; NULL when there is none. */
static Batch *
take_spent (PlTracer *self)
{
  Batch *batch;

  g_mutex_lock (&self->lock);
  batch = g_queue_pop_head (&self->spent);
  if (batch != NULL)
    g_atomic_int_add (&self->n_spent, -1);
  g_mutex_unlock (&self->lock);
  return batch;
}

/* Lets go of up to @n ops of the batches given back (see CLEAR_PER_OP). */
static void
clear_spent (PlTracer *self,
             guint     n)
{
  while (n > 0)
    {
      Batch *batch = self->clearing;

      if (batch == NULL || self->cleared == batch->ops->len)
        {
          if (batch != NULL)
            batch_free (g_steal_pointer (&self->clearing));
          /* The count is looked at without the lock (a lock a new op would cost more than the op); one missed now is taken next time. */
          if (g_atomic_int_get (&self->n_spent) == 0 || (self->clearing = take_spent (self)) == NULL)
            return;
          self->cleared = 0;
          continue;
        }
      op_clear (&g_array_index (batch->ops, Op, self->cleared++));
      n--;
    }
}

/* Every batch given back is let go of (the second thread has done all it was given). */
static void
clear_all_spent (PlTracer *self)
{
  Batch *batch;

  if (self->clearing != NULL)
    batch_free (g_steal_pointer (&self->clearing));
  while ((batch = take_spent (self)) != NULL)
    batch_free (batch);
}

static gpointer
worker_main (gpointer data)
{
  PlTracer *self = data;

  for (;;)
    {
      Batch *batch;

      g_mutex_lock (&self->lock);
      while (g_queue_is_empty (&self->batches) && !self->stop)
        {
          self->worker_waits = TRUE;
          g_cond_wait (&self->to_worker, &self->lock);
          self->worker_waits = FALSE;
        }
      batch = g_queue_pop_head (&self->batches);
      g_mutex_unlock (&self->lock);
      if (batch == NULL)
        return NULL;

      for (guint i = 0; i < batch->ops->len; i++)
        apply_op (self, &g_array_index (batch->ops, Op, i));

      g_mutex_lock (&self->lock);
      /* Given back: the reading thread lets go of its refs (see CLEAR_PER_OP). */
      g_queue_push_tail (&self->spent, batch);
      g_atomic_int_inc (&self->n_spent);
      self->n_done++;
      /* Only a waiting reader is woken: a wake-up is a system call. */
      if (self->reader_waits)
        g_cond_signal (&self->to_reader);
      g_mutex_unlock (&self->lock);
    }
}

static void
push_batch (PlTracer *self)
{
  Batch *batch = g_steal_pointer (&self->batch);

  if (batch == NULL)
    return;
  if (self->worker == NULL)
    self->worker = g_thread_new ("pl-tracer", worker_main, self);
  g_mutex_lock (&self->lock);
  while (self->n_pushed - self->n_done >= MAX_IN_FLIGHT)
    {
      self->reader_waits = TRUE;
      g_cond_wait (&self->to_reader, &self->lock);
      self->reader_waits = FALSE;
    }
  g_queue_push_tail (&self->batches, batch);
  self->n_pushed++;
  if (self->worker_waits)
    g_cond_signal (&self->to_worker);
  batch = g_queue_get_length (&self->spent) > MAX_SPENT ? g_queue_pop_head (&self->spent) : NULL;
  if (batch != NULL)
    g_atomic_int_add (&self->n_spent, -1);
  g_mutex_unlock (&self->lock);
  /* Falling behind (a run of batches of few, large events): one goes at once. */
  if (batch != NULL)
    batch_free (batch);
}

/* Threaded: returns once the second thread has done everything queued so far. */
static void
drain (PlTracer *self)
{
  if (!self->threaded)
    return;
  push_batch (self);
  if (self->worker == NULL)
    return;
  g_mutex_lock (&self->lock);
  while (self->n_done < self->n_pushed)
    {
      self->reader_waits = TRUE;
      g_cond_wait (&self->to_reader, &self->lock);
      self->reader_waits = FALSE;
    }
  g_mutex_unlock (&self->lock);
  clear_all_spent (self);
}

/* Something to do to the trace: now, or (threaded) in its place in the queue. Takes @event and @text. */
static void
trace_op (PlTracer  *self,
          OpKind     kind,
          PlSession *session,
          PlEvent   *event,
          char      *text,
          double     time)
{
  Op op = { kind, pl_session_ref (session), event, text, time };

  if (!self->threaded)
    {
      apply_op (self, &op);
      op_clear (&op);
      return;
    }
  if (self->batch == NULL)
    {
      self->batch = g_new0 (Batch, 1);
      self->batch->ops = g_array_sized_new (FALSE, FALSE, sizeof (Op), 256);
    }
  g_array_append_vals (self->batch->ops, &op, 1);
  clear_spent (self, CLEAR_PER_OP);
  self->batch->weight += 64 + (event != NULL && event->octets != NULL ? g_bytes_get_size (event->octets) : 0);
  if (self->batch->weight >= BATCH_WEIGHT || self->batch->ops->len >= BATCH_OPS)
    push_batch (self);
}

static void
state_free (FlowState *state)
{
  g_clear_pointer (&state->dissector, pl_dissector_free);
  g_clear_pointer (&state->session, pl_session_unref);
  g_clear_pointer (&state->seen[0], g_byte_array_unref);
  g_clear_pointer (&state->seen[1], g_byte_array_unref);
  g_clear_pointer (&state->held, g_array_unref);
  g_free (state);
}

static FlowState *
state_for (PlTracer  *self,
           PlTcpFlow *flow)
{
  FlowState *state = flow->user_data;

  if (state != NULL)
    return state;
  state = g_new0 (FlowState, 1);
  state->tracer = self;
  state->flow = flow;
  state->client_side = -1;
  state->port_side = -1;
  state->link.data = state;
  {
    const KnownPort *p0 = known_port (flow->port[0]);
    const KnownPort *p1 = known_port (flow->port[1]);

    /* Both ports known (25 to 25 between servers): the lower one serves. */
    if (p0 != NULL && (p1 == NULL || flow->port[0] < flow->port[1]))
      {
        state->port = p0;
        state->port_side = 0;
      }
    else if (p1 != NULL)
      {
        state->port = p1;
        state->port_side = 1;
      }
  }
  g_queue_push_tail_link (&self->states, &state->link);
  flow->user_data = state;
  return state;
}

static void
on_emit (PlEvent  *event,
         gpointer  user_data)
{
  FlowState *state = user_data;

  trace_op (state->tracer, OP_EVENT, state->session, pl_event_ref (event), NULL, 0);
}

/* Threaded: the display text is made in the second thread, just before the event joins the trace. */
static void
on_emit_untexted (PlEvent  *event,
                  gboolean  unstuff_dots,
                  gpointer  user_data)
{
  FlowState *state = user_data;

  trace_op (state->tracer, unstuff_dots ? OP_UNSTUFFED : OP_UNTEXTED, state->session, pl_event_ref (event), NULL, 0);
}

static void
on_encrypted (const char *how,
              gpointer    user_data)
{
  FlowState *state = user_data;
  PlEvent *note;

  note = pl_event_new_note ("encrypted from here on (%s): each TLS record is shown by its type and size", how);
  note->time = state->tracer->now;
  trace_op (state->tracer, OP_ENCRYPTED, state->session, note, g_strdup (how), 0);
}

static const PlDissectorSink sink = { on_emit, on_encrypted };

static void
add_note (FlowState  *state,
          double      time,
          const char *text)
{
  PlEvent *note = pl_event_new_note ("%s", text);

  note->time = time;
  trace_op (state->tracer, OP_NOTE, state->session, note, g_strdup (text), 0);
}

static void
feed (FlowState    *state,
      guint         side,
      const guint8 *data,
      gsize         len,
      double        time)
{
  pl_dissector_feed (state->dissector, (int) side == state->client_side ? PL_DIR_CLIENT : PL_DIR_SERVER,
                     data, len, time);
}

static void
feed_gap (FlowState *state,
          guint      side,
          guint64    missing,
          double     time)
{
  pl_dissector_gap (state->dissector, (int) side == state->client_side ? PL_DIR_CLIENT : PL_DIR_SERVER,
                    missing, time);
}

static void
ignore (FlowState *state)
{
  state->ignored = TRUE;
  state->flow->ignored = TRUE;
  state->tracer->stats.ignored_flows++;
  g_clear_pointer (&state->seen[0], g_byte_array_unref);
  g_clear_pointer (&state->seen[1], g_byte_array_unref);
  g_clear_pointer (&state->held, g_array_unref);
}

/*
 * The protocol is known: the session opens (dated from the connection's
 * first packet) and what was held is fed in the order it came.
 * @server_by_content is the side whose octets looked like a server's, or -1.
 */
static void
decide (FlowState  *state,
        PlProtocol  protocol,
        gboolean    tls,
        int         server_by_content)
{
  PlTracer *self = state->tracer;
  PlTcpFlow *flow = state->flow;
  g_autofree char *client = NULL;
  g_autofree char *server = NULL;
  gsize offset[2] = { 0, 0 };
  int c;

  /* Who is the client: the SYN says; else the well-known port; else the content; else the higher port. */
  if (flow->syn_side >= 0)
    c = flow->syn_side;
  else if (state->port_side >= 0)
    c = 1 - state->port_side;
  else if (server_by_content >= 0)
    c = 1 - server_by_content;
  else
    c = flow->port[0] > flow->port[1] ? 0 : 1;
  state->client_side = c;
  state->decided = TRUE;

  client = pl_endpoint_to_string (flow->family, flow->address[c], flow->port[c]);
  server = pl_endpoint_to_string (flow->family, flow->address[1 - c], flow->port[1 - c]);
  /* The hop is known from the port before the session is shown (RFC 6409: 587 is submission). */
  state->session = pl_session_new (protocol, client, server, flow->first_time);
  if (state->port != NULL && state->port->protocol == protocol && state->port_side == 1 - c)
    state->session->hop = state->port->hop;
  else if (protocol == PL_PROTOCOL_POP3 || protocol == PL_PROTOCOL_IMAP)
    state->session->hop = PL_HOP_ACCESS;
  trace_op (self, OP_SESSION, state->session, NULL, NULL, 0);
  self->stats.sessions++;

  state->dissector = pl_dissector_new (protocol, &sink, state);
  if (self->threaded)
    pl_dissector_defer_text (state->dissector, on_emit_untexted);
  /* A trace that keeps no events: their buffers may go round again. */
  pl_dissector_set_transient (state->dissector, !pl_trace_get_retain (self->trace));
  if (self->max_unit > 0)
    pl_dissector_set_max_unit (state->dissector, self->max_unit);
  if (tls)
    {
      g_autofree char *how = g_strdup_printf ("implicit TLS on port %u", flow->port[1 - c]);
      pl_dissector_start_tls (state->dissector, how);
    }
  if (flow->syn_side < 0)
    add_note (state, flow->first_time,
              "the capture starts after this connection began (no SYN): its start is not shown");

  if (state->held != NULL)
    for (guint i = 0; i < state->held->len; i++)
      {
        Held *h = &g_array_index (state->held, Held, i);

        self->now = MAX (self->now, h->time);
        if (h->gap > 0)
          feed_gap (state, h->side, h->gap, h->time);
        else
          {
            feed (state, h->side, state->seen[h->side]->data + offset[h->side], h->len, h->time);
            offset[h->side] += h->len;
          }
      }
  g_clear_pointer (&state->seen[0], g_byte_array_unref);
  g_clear_pointer (&state->seen[1], g_byte_array_unref);
  g_clear_pointer (&state->held, g_array_unref);
}

static void
hold (FlowState    *state,
      guint         side,
      const guint8 *data,
      gsize         len,
      guint64       gap,
      double        time)
{
  Held h = { side, len, gap, time };

  if (state->held == NULL)
    {
      state->held = g_array_new (FALSE, FALSE, sizeof (Held));
      state->seen[0] = g_byte_array_new ();
      state->seen[1] = g_byte_array_new ();
    }
  g_array_append_val (state->held, h);
  if (len > 0)
    g_byte_array_append (state->seen[side], data, (guint) len);
}

/* Looks at what one side sent so far; decides when it can. */
static void
sniff (FlowState *state,
       guint      side)
{
  PlProtocol hint = state->port != NULL ? state->port->protocol : PL_PROTOCOL_UNKNOWN;
  GByteArray *seen = state->seen[side];
  gboolean from_server = FALSE, need_more = FALSE, tls = FALSE;
  PlProtocol found;

  found = pl_protocol_sniff (seen->data, seen->len, hint, &from_server, &need_more, &tls);
  if (tls)
    {
      if (found != PL_PROTOCOL_UNKNOWN)
        decide (state, found, TRUE, from_server ? (int) side : 1 - (int) side);
      else if (state->tracer->show_unknown)
        decide (state, PL_PROTOCOL_UNKNOWN, FALSE, from_server ? (int) side : 1 - (int) side);
      else
        ignore (state);
      return;
    }
  if (found != PL_PROTOCOL_UNKNOWN)
    {
      decide (state, found, FALSE, from_server ? (int) side : 1 - (int) side);
      return;
    }
  if (need_more && seen->len < MAX_SNIFF)
    return;
  if (hint != PL_PROTOCOL_UNKNOWN)
    decide (state, hint, state->port->implicit_tls, -1);
  else if (state->tracer->show_unknown)
    decide (state, PL_PROTOCOL_UNKNOWN, FALSE, -1);
  else
    ignore (state);
}

static void
on_data (PlTcpFlow    *flow,
         guint         side,
         const guint8 *data,
         gsize         len,
         double        time,
         gpointer      user_data)
{
  PlTracer *self = user_data;
  FlowState *state = state_for (self, flow);

  if (state->ignored)
    return;
  if (state->decided)
    {
      feed (state, side, data, len, time);
      return;
    }
  hold (state, side, data, len, 0, time);
  sniff (state, side);
}

static void
on_gap (PlTcpFlow *flow,
        guint      side,
        guint64    missing,
        double     time,
        gpointer   user_data)
{
  PlTracer *self = user_data;
  FlowState *state = state_for (self, flow);

  if (state->ignored)
    return;
  if (state->decided)
    {
      feed_gap (state, side, missing, time);
      return;
    }
  hold (state, side, NULL, 0, missing, time);
  /* A gap before the protocol is known: the port must say it, or nothing can. */
  if (state->port != NULL)
    decide (state, state->port->protocol, state->port->implicit_tls, -1);
  else if (self->show_unknown)
    decide (state, PL_PROTOCOL_UNKNOWN, FALSE, -1);
  else
    ignore (state);
}

static const char *
end_note (PlTcpEnd how)
{
  switch (how)
    {
    case PL_TCP_END_RST:
      return "the connection was reset (RST)";
    case PL_TCP_END_IDLE:
      return "nothing more of this connection for a long while: it is taken as over";
    case PL_TCP_END_EVICTED:
      return "too many connections at once: this one is no longer followed";
    case PL_TCP_END_REUSED:
      return "a new connection with the same addresses and ports began: this one is taken as over";
    case PL_TCP_END_CAPTURE:
      return "the capture ends before this connection closes";
    case PL_TCP_END_FIN:
    default:
      return NULL;
    }
}

static void
on_closed (PlTcpFlow *flow,
           PlTcpEnd   how,
           double     time,
           gpointer   user_data)
{
  PlTracer *self = user_data;
  FlowState *state = flow->user_data;
  const char *note;

  if (state == NULL)
    return;
  if (!state->decided && !state->ignored && state->held != NULL)
    {
      /* The connection ended before its content said what it is: the port decides, or nothing does. */
      if (state->port != NULL)
        decide (state, state->port->protocol, state->port->implicit_tls, -1);
      else if (self->show_unknown)
        decide (state, PL_PROTOCOL_UNKNOWN, FALSE, -1);
    }
  if (state->session != NULL)
    {
      pl_dissector_finish (state->dissector, time);
      note = end_note (how);
      if (note != NULL)
        add_note (state, time, note);
      trace_op (self, OP_CLOSE, state->session, NULL, NULL, time);
    }
  flow->user_data = NULL;
  g_queue_unlink (&self->states, &state->link);
  state_free (state);
}

static const PlTcpCallbacks callbacks = { on_data, on_gap, on_closed };

PlTracer *
pl_tracer_new (PlTrace *trace)
{
  PlTracer *self;

  g_return_val_if_fail (PL_IS_TRACE (trace), NULL);

  self = g_new0 (PlTracer, 1);
  self->trace = g_object_ref (trace);
  self->reassembler = pl_tcp_reassembler_new (&callbacks, self);
  self->name = g_strdup ("capture");
  g_queue_init (&self->states);
  g_mutex_init (&self->lock);
  g_cond_init (&self->to_worker);
  g_cond_init (&self->to_reader);
  g_queue_init (&self->batches);
  g_queue_init (&self->spent);
  return self;
}

void
pl_tracer_free (PlTracer *self)
{
  GList *link;

  if (self == NULL)
    return;
  pl_tcp_reassembler_free (self->reassembler);
  while ((link = g_queue_pop_head_link (&self->states)) != NULL)
    state_free (link->data);
  /* What is queued is done (the listeners hear of it, as they would have unthreaded), then the thread ends. */
  drain (self);
  if (self->worker != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stop = TRUE;
      g_cond_signal (&self->to_worker);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->worker);
    }
  clear_all_spent (self);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->to_worker);
  g_cond_clear (&self->to_reader);
  g_object_unref (self->trace);
  g_free (self->name);
  g_free (self);
}

void
pl_tracer_set_name (PlTracer   *self,
                    const char *name)
{
  g_return_if_fail (self != NULL);
  g_free (self->name);
  self->name = g_strdup (name != NULL ? name : "capture");
}

void
pl_tracer_set_warning_func (PlTracer            *self,
                            PlTracerWarningFunc  func,
                            gpointer             user_data)
{
  g_return_if_fail (self != NULL);
  self->warn = func;
  self->warn_data = user_data;
}

void
pl_tracer_set_show_unknown (PlTracer *self,
                            gboolean  show)
{
  g_return_if_fail (self != NULL);
  self->show_unknown = show;
}

void
pl_tracer_set_threaded (PlTracer *self,
                        gboolean  threaded)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->worker == NULL);
  self->threaded = threaded;
}

void
pl_tracer_set_untexted_func (PlTracer             *self,
                             PlTracerUntextedFunc  func,
                             gpointer              user_data)
{
  g_return_if_fail (self != NULL);
  self->untexted = func;
  self->untexted_data = user_data;
}

void
pl_tracer_set_limits (PlTracer *self,
                      gsize     max_unit,
                      gsize     max_buffered,
                      guint     max_flows,
                      double    idle_timeout)
{
  g_return_if_fail (self != NULL);
  self->max_unit = max_unit;
  pl_tcp_reassembler_set_limits (self->reassembler,
                                 max_buffered > 0 ? max_buffered : PL_TCP_DEFAULT_MAX_BUFFERED,
                                 max_flows > 0 ? max_flows : PL_TCP_DEFAULT_MAX_FLOWS,
                                 idle_timeout > 0 ? idle_timeout : PL_TCP_DEFAULT_IDLE_TIMEOUT);
}

void
pl_tracer_add_packet (PlTracer       *self,
                      int             link_type,
                      const PlPacket *packet)
{
  PlTcpSegment segment;
  const char *problem = NULL;

  g_return_if_fail (self != NULL);
  g_return_if_fail (packet != NULL);

  self->stats.packets++;
  self->stats.octets += packet->caplen;
  self->now = MAX (self->now, packet->time);
  switch (pl_packet_decode (link_type, packet->data, packet->caplen, packet->len, &segment, &problem))
    {
    case PL_PACKET_TCP:
      self->stats.tcp_segments++;
      pl_tcp_reassembler_add (self->reassembler, &segment, packet->time);
      break;
    case PL_PACKET_OTHER:
      self->stats.not_tcp++;
      break;
    case PL_PACKET_FRAGMENT:
      self->stats.fragments++;
      break;
    case PL_PACKET_CUT:
      self->stats.cut++;
      break;
    case PL_PACKET_MALFORMED:
    default:
      self->stats.malformed++;
      if (self->warn != NULL)
        {
          g_autoptr(GError) warning = NULL;

          if (packet->offset != G_MAXUINT64)
            warning = g_error_new (PL_TRACE_ERROR, PL_TRACE_ERROR_PACKET,
                                   "%s: offset %" G_GUINT64_FORMAT ": packet %" G_GUINT64_FORMAT ": %s; skipped",
                                   self->name, packet->offset, packet->number, problem);
          else
            warning = g_error_new (PL_TRACE_ERROR, PL_TRACE_ERROR_PACKET,
                                   "%s: packet %" G_GUINT64_FORMAT ": %s; skipped",
                                   self->name, packet->number, problem);
          /* What came before the damaged packet is out before the warning. */
          drain (self);
          self->warn (warning, self->warn_data);
        }
      break;
    }
}

void
pl_tracer_finish (PlTracer *self)
{
  g_return_if_fail (self != NULL);

  if (self->finished)
    return;
  self->finished = TRUE;
  pl_tcp_reassembler_finish (self->reassembler);
  drain (self);
}

gboolean
pl_tracer_run (PlTracer      *self,
               PlPcapSource  *source,
               GError       **error)
{
  int link_type;
  PlPacket packet;
  GError *local = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (source != NULL, FALSE);

  link_type = pl_pcap_source_get_link_type (source);
  while (pl_pcap_source_next (source, &packet, &local))
    pl_tracer_add_packet (self, link_type, &packet);
  pl_tracer_finish (self);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

const PlTracerStats *
pl_tracer_get_stats (PlTracer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->stats;
}
