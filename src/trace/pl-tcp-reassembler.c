/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTcpReassembler: TCP connections followed both ways, bytes handed on in order, gaps counted, memory bounded. */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-tcp-reassembler.h"

#include <string.h>

/* How long a closed connection is remembered, so its late retransmissions start nothing new. */
#define TIME_WAIT 120.0

/* Sequence space arithmetic, RFC 9293 section 3.4: modulo 2^32. */
static inline gint32 seq_diff (guint32 a, guint32 b) { return (gint32) (a - b); }
static inline gboolean seq_lt (guint32 a, guint32 b) { return seq_diff (a, b) < 0; }
static inline gboolean seq_le (guint32 a, guint32 b) { return seq_diff (a, b) <= 0; }

/* Octets that came ahead of a hole, kept until the hole is filled or given up. */
typedef struct Segment Segment;
struct Segment {
  Segment *next;
  guint32  seq;
  guint32  len;       /* octets captured, in @data */
  guint32  missing;   /* octets after them that the capture cut off (snaplen) */
  guint8   data[];
};

typedef struct {
  gboolean  started;    /* next_seq is known */
  guint32   next_seq;   /* the first octet not yet handed on */
  gboolean  syn;
  guint32   isn;
  gboolean  fin;
  guint32   fin_seq;
  gboolean  done;       /* every octet up to the FIN handed on */
  Segment  *held;       /* out of order, sorted by seq */
  gsize     buffered;
} Half;

typedef struct {
  guint8  family;
  guint8  pad;
  guint16 port[2];
  guint8  address[2][16];
  guint16 pad_end;      /* to a multiple of eight octets, compared eight at a time (same_key()) */
} FlowKey;

G_STATIC_ASSERT (sizeof (FlowKey) == 40);

typedef struct {
  PlTcpFlow pub;
  FlowKey   key;
  Half      half[2];
  GList     link;       /* in the open or the closed queue */
  gboolean  closed;
  double    seen;       /* the reassembler's clock at its latest packet */
} Flow;

struct _PlTcpReassembler
{
  PlTcpCallbacks  callbacks;
  gpointer        user_data;
  GHashTable     *flows;      /* FlowKey* -> Flow*, owned */
  Flow           *last;       /* the flow of the latest packet: the next one is most often its too */
  GQueue          open;       /* least recently active first */
  GQueue          closed;
  gsize           max_buffered;
  guint           max_flows;
  double          idle_timeout;
  double          now;        /* the latest time seen: captures are not always in time order */
  gsize           buffered;
};

/* Every packet looks its flow up: the key (zeroed, padding too, before it is filled) is mixed eight octets a turn. */
static guint
flow_key_hash (gconstpointer p)
{
  const guint8 *b = p;
  guint64 h = G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  guint64 w;

  for (gsize i = 0; i < sizeof (FlowKey); i += 8)
    {
      memcpy (&w, b + i, 8);
      h = (h ^ w) * G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
      h ^= h >> 32;
    }
  return (guint) (h ^ (h >> 29));
}

/* Two keys (zeroed, padding too, before they were filled) compared eight octets a turn, without a call. */
static inline gboolean
same_key (const FlowKey *a,
          const FlowKey *b)
{
  guint64 x, y, d = 0;

  for (gsize i = 0; i < sizeof (FlowKey); i += 8)
    {
      memcpy (&x, (const guint8 *) a + i, 8);
      memcpy (&y, (const guint8 *) b + i, 8);
      d |= x ^ y;
    }
  return d == 0;
}

static gboolean
flow_key_equal (gconstpointer a,
                gconstpointer b)
{
  return same_key (a, b);
}

/* memcmp() of two addresses of @family, in a form the compiler writes out (4 or 16 octets, big-endian order). */
static inline int
address_order (const guint8 *a,
               const guint8 *b,
               guint8        family)
{
  guint64 x, y;

  if (family != 6)
    {
      guint32 p, q;

      memcpy (&p, a, 4);
      memcpy (&q, b, 4);
      p = GUINT32_FROM_BE (p);
      q = GUINT32_FROM_BE (q);
      return p < q ? -1 : p > q;
    }
  for (gsize i = 0; i < 16; i += 8)
    {
      memcpy (&x, a + i, 8);
      memcpy (&y, b + i, 8);
      x = GUINT64_FROM_BE (x);
      y = GUINT64_FROM_BE (y);
      if (x != y)
        return x < y ? -1 : 1;
    }
  return 0;
}

/* Both directions of a connection give the same key: the smaller endpoint first. */
static void
make_key (const PlTcpSegment *segment,
          FlowKey            *key)
{
  gsize alen = segment->family == 6 ? 16 : 4;
  int order;

  memset (key, 0, sizeof *key);
  key->family = segment->family;
  order = address_order (segment->src, segment->dst, segment->family);
  if (order == 0)
    order = segment->src_port < segment->dst_port ? -1 : (segment->src_port > segment->dst_port ? 1 : 0);
  if (order <= 0)
    {
      memcpy (key->address[0], segment->src, alen);
      memcpy (key->address[1], segment->dst, alen);
      key->port[0] = segment->src_port;
      key->port[1] = segment->dst_port;
    }
  else
    {
      memcpy (key->address[0], segment->dst, alen);
      memcpy (key->address[1], segment->src, alen);
      key->port[0] = segment->dst_port;
      key->port[1] = segment->src_port;
    }
}

static void
free_held (PlTcpReassembler *self,
           Half             *half)
{
  while (half->held != NULL)
    {
      Segment *s = half->held;
      half->held = s->next;
      g_free (s);
    }
  self->buffered -= half->buffered;
  half->buffered = 0;
}

static void
flow_free (gpointer data)
{
  g_free (data);
}

PlTcpReassembler *
pl_tcp_reassembler_new (const PlTcpCallbacks *callbacks,
                        gpointer              user_data)
{
  PlTcpReassembler *self;

  g_return_val_if_fail (callbacks != NULL, NULL);

  self = g_new0 (PlTcpReassembler, 1);
  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->flows = g_hash_table_new_full (flow_key_hash, flow_key_equal, NULL, flow_free);
  g_queue_init (&self->open);
  g_queue_init (&self->closed);
  self->max_buffered = PL_TCP_DEFAULT_MAX_BUFFERED;
  self->max_flows = PL_TCP_DEFAULT_MAX_FLOWS;
  self->idle_timeout = PL_TCP_DEFAULT_IDLE_TIMEOUT;
  return self;
}

void
pl_tcp_reassembler_set_limits (PlTcpReassembler *self,
                               gsize             max_buffered,
                               guint             max_flows,
                               double            idle_timeout)
{
  g_return_if_fail (self != NULL);
  self->max_buffered = MAX (max_buffered, 1);
  self->max_flows = MAX (max_flows, 1);
  self->idle_timeout = idle_timeout > 0 ? idle_timeout : PL_TCP_DEFAULT_IDLE_TIMEOUT;
}

static void
emit_data (PlTcpReassembler *self,
           Flow             *flow,
           guint             side,
           const guint8     *data,
           gsize             len,
           double            time)
{
  if (len > 0 && !flow->pub.ignored && self->callbacks.data != NULL)
    self->callbacks.data (&flow->pub, side, data, len, time, self->user_data);
}

static void
emit_gap (PlTcpReassembler *self,
          Flow             *flow,
          guint             side,
          guint64           missing,
          double            time)
{
  if (missing > 0 && !flow->pub.ignored && self->callbacks.gap != NULL)
    self->callbacks.gap (&flow->pub, side, missing, time, self->user_data);
}

/*
 * Hands on the part of [seq, seq + len + missing) past next_seq: @len
 * captured octets, then @missing that the snaplen cut off. Returns FALSE
 * when all of it was seen before.
 */
static gboolean
deliver (PlTcpReassembler *self,
         Flow             *flow,
         guint             side,
         guint32           seq,
         const guint8     *data,
         guint32           len,
         guint32           missing,
         double            time)
{
  Half *h = &flow->half[side];
  guint32 total = len + missing;
  guint32 end = seq + total;
  guint32 skip;

  if (seq_le (end, h->next_seq))
    return FALSE;
  skip = seq_lt (seq, h->next_seq) ? (guint32) seq_diff (h->next_seq, seq) : 0;
  if (skip < len)
    {
      emit_data (self, flow, side, data + skip, len - skip, time);
      emit_gap (self, flow, side, missing, time);
    }
  else
    emit_gap (self, flow, side, total - skip, time);
  h->next_seq = end;
  return TRUE;
}

/* Hands on what was held and is now in order. */
static void
drain (PlTcpReassembler *self,
       Flow             *flow,
       guint             side,
       double            time)
{
  Half *h = &flow->half[side];

  while (h->held != NULL && seq_le (h->held->seq, h->next_seq))
    {
      Segment *s = h->held;

      h->held = s->next;
      h->buffered -= s->len;
      self->buffered -= s->len;
      deliver (self, flow, side, s->seq, s->data, s->len, s->missing, time);
      g_free (s);
    }
}

/* The octets before the first held segment will not come: a gap, then what was held. */
static void
give_up_hole (PlTcpReassembler *self,
              Flow             *flow,
              guint             side,
              double            time)
{
  Half *h = &flow->half[side];

  if (h->held == NULL)
    return;
  emit_gap (self, flow, side, (guint32) seq_diff (h->held->seq, h->next_seq), time);
  h->next_seq = h->held->seq;
  drain (self, flow, side, time);
}

static void
hold (PlTcpReassembler *self,
      Flow             *flow,
      guint             side,
      guint32           seq,
      const guint8     *data,
      guint32           len,
      guint32           missing,
      double            time)
{
  Half *h = &flow->half[side];
  Segment **at = &h->held;
  Segment *s;

  while (*at != NULL && seq_lt ((*at)->seq, seq))
    at = &(*at)->next;
  /* The same segment again (a retransmission of something held): keep the first. */
  if (*at != NULL && (*at)->seq == seq && (*at)->len + (*at)->missing >= len + missing)
    return;

  s = g_malloc (sizeof (Segment) + len);
  s->seq = seq;
  s->len = len;
  s->missing = missing;
  memcpy (s->data, data, len);
  s->next = *at;
  *at = s;
  h->buffered += len;
  self->buffered += len;

  /* The bound on memory: past it, the hole is given up as a gap. */
  while (h->buffered > self->max_buffered && h->held != NULL)
    give_up_hole (self, flow, side, time);
}

static void
place (PlTcpReassembler *self,
       Flow             *flow,
       guint             side,
       guint32           seq,
       const guint8     *data,
       guint32           len,
       guint32           missing,
       double            time)
{
  Half *h = &flow->half[side];

  if (flow->pub.ignored)
    {
      if (seq_lt (h->next_seq, seq + len + missing))
        h->next_seq = seq + len + missing;
      return;
    }
  if (seq_le (seq, h->next_seq))
    {
      if (deliver (self, flow, side, seq, data, len, missing, time))
        drain (self, flow, side, time);
    }
  else
    hold (self, flow, side, seq, data, len, missing, time);
}

/* Everything held is handed on, the holes before it as gaps, then the octets up to a FIN never seen. */
static void
flush_half (PlTcpReassembler *self,
            Flow             *flow,
            guint             side,
            double            time)
{
  Half *h = &flow->half[side];

  while (h->held != NULL)
    give_up_hole (self, flow, side, time);
  if (h->fin && h->started && seq_lt (h->next_seq, h->fin_seq))
    {
      emit_gap (self, flow, side, (guint32) seq_diff (h->fin_seq, h->next_seq), time);
      h->next_seq = h->fin_seq;
    }
}

static void
close_flow (PlTcpReassembler *self,
            Flow             *flow,
            PlTcpEnd          how,
            double            time)
{
  if (flow->closed)
    return;
  flush_half (self, flow, 0, time);
  flush_half (self, flow, 1, time);
  free_held (self, &flow->half[0]);
  free_held (self, &flow->half[1]);
  flow->closed = TRUE;
  g_queue_unlink (&self->open, &flow->link);
  g_queue_push_tail_link (&self->closed, &flow->link);
  flow->seen = self->now;
  if (self->callbacks.closed != NULL)
    self->callbacks.closed (&flow->pub, how, time, self->user_data);
}

static void
destroy_flow (PlTcpReassembler *self,
              Flow             *flow,
              PlTcpEnd          how)
{
  close_flow (self, flow, how, flow->pub.last_time);
  g_queue_unlink (&self->closed, &flow->link);
  if (self->last == flow)
    self->last = NULL;
  g_hash_table_remove (self->flows, &flow->key);
}

static void
expire (PlTcpReassembler *self)
{
  GList *head;

  while ((head = self->open.head) != NULL)
    {
      Flow *flow = head->data;
      if (self->now - flow->seen <= self->idle_timeout)
        break;
      close_flow (self, flow, PL_TCP_END_IDLE, flow->pub.last_time);
    }
  while ((head = self->closed.head) != NULL)
    {
      Flow *flow = head->data;
      if (self->now - flow->seen <= TIME_WAIT && g_hash_table_size (self->flows) <= self->max_flows)
        break;
      destroy_flow (self, flow, PL_TCP_END_FIN);
    }
  while (g_hash_table_size (self->flows) > self->max_flows && (head = self->open.head) != NULL)
    destroy_flow (self, head->data, PL_TCP_END_EVICTED);
}

static Flow *
new_flow (PlTcpReassembler   *self,
          const FlowKey      *key,
          const PlTcpSegment *segment,
          double              time)
{
  Flow *flow = g_new0 (Flow, 1);
  gsize alen = segment->family == 6 ? 16 : 4;

  flow->key = *key;
  flow->pub.family = segment->family;
  memcpy (flow->pub.address[0], segment->src, alen);
  memcpy (flow->pub.address[1], segment->dst, alen);
  flow->pub.port[0] = segment->src_port;
  flow->pub.port[1] = segment->dst_port;
  flow->pub.syn_side = -1;
  flow->pub.first_time = time;
  flow->link.data = flow;
  g_hash_table_insert (self->flows, &flow->key, flow);
  g_queue_push_tail_link (&self->open, &flow->link);
  return flow;
}

void
pl_tcp_reassembler_add (PlTcpReassembler   *self,
                        const PlTcpSegment *segment,
                        double              time)
{
  gboolean syn = (segment->flags & PL_TCP_SYN) != 0;
  gboolean first_syn = syn && !(segment->flags & PL_TCP_ACK);
  gboolean has_data = segment->payload_len > 0;
  FlowKey key;
  Flow *flow;
  guint side;
  Half *h;
  guint32 data_seq;

  g_return_if_fail (self != NULL);
  g_return_if_fail (segment != NULL);

  if (time > self->now)
    self->now = time;
  make_key (segment, &key);
  if (self->last != NULL && same_key (&self->last->key, &key))
    flow = self->last;
  else
    flow = self->last = g_hash_table_lookup (self->flows, &key);

  if (flow != NULL && flow->closed)
    {
      if (!first_syn)
        return;                    /* a late retransmission of a finished connection */
      destroy_flow (self, flow, PL_TCP_END_FIN);
      flow = NULL;
    }
  if (flow != NULL && first_syn)
    {
      guint s = (flow->pub.port[0] == segment->src_port
                 && address_order (flow->pub.address[0], segment->src, segment->family) == 0) ? 0 : 1;
      Half *sender = &flow->half[s];

      /* A SYN with a new initial sequence number on a live 4-tuple: a new connection. */
      if ((sender->syn && sender->isn != segment->seq) || (!sender->syn && sender->started))
        {
          destroy_flow (self, flow, PL_TCP_END_REUSED);
          flow = NULL;
        }
    }
  if (flow == NULL)
    {
      /* A bare ACK or RST of a connection never seen holds nothing to follow. */
      if (!syn && !has_data)
        return;
      flow = new_flow (self, &key, segment, time);
    }

  flow->pub.last_time = time;
  flow->seen = self->now;
  /* The most recently seen goes last (the quietest gives way first); it often is already. */
  if (self->open.tail != &flow->link)
    {
      g_queue_unlink (&self->open, &flow->link);
      g_queue_push_tail_link (&self->open, &flow->link);
    }

  side = (flow->pub.port[0] == segment->src_port
          && address_order (flow->pub.address[0], segment->src, segment->family) == 0) ? 0 : 1;
  h = &flow->half[side];
  if (first_syn && flow->pub.syn_side < 0)
    flow->pub.syn_side = (int) side;

  if (syn && !h->syn)
    {
      h->syn = TRUE;
      h->isn = segment->seq;
      if (!h->started)
        {
          h->started = TRUE;
          h->next_seq = segment->seq + 1;
        }
    }
  data_seq = segment->seq + (syn ? 1 : 0);
  if (has_data)
    {
      if (!h->started)
        {
          /* The capture began after this connection did: follow it from here. */
          h->started = TRUE;
          h->next_seq = data_seq;
        }
      place (self, flow, side, data_seq, segment->payload, segment->captured_len,
             segment->payload_len - segment->captured_len, time);
    }
  if ((segment->flags & PL_TCP_FIN) && !h->fin)
    {
      h->fin = TRUE;
      h->fin_seq = data_seq + segment->payload_len;
    }

  if (segment->flags & PL_TCP_ACK)
    {
      Half *peer = &flow->half[1 - side];

      /* The peer's octets before what it acknowledges were received: a hole there is the capture's loss. */
      if (peer->held != NULL && seq_le (peer->held->seq, segment->ack))
        while (peer->held != NULL && seq_le (peer->held->seq, segment->ack))
          give_up_hole (self, flow, 1 - side, time);
      if (peer->fin && !peer->done && peer->started && seq_lt (peer->fin_seq, segment->ack))
        flush_half (self, flow, 1 - side, time);
    }

  for (guint s = 0; s < 2; s++)
    {
      Half *x = &flow->half[s];
      if (x->fin && !x->done && x->started && seq_le (x->fin_seq, x->next_seq))
        x->done = TRUE;
    }

  if (segment->flags & PL_TCP_RST)
    close_flow (self, flow, PL_TCP_END_RST, time);
  else if (flow->half[0].done && flow->half[1].done)
    close_flow (self, flow, PL_TCP_END_FIN, time);

  expire (self);
}

void
pl_tcp_reassembler_finish (PlTcpReassembler *self)
{
  GList *head;

  g_return_if_fail (self != NULL);

  while ((head = self->open.head) != NULL)
    {
      Flow *flow = head->data;
      close_flow (self, flow, PL_TCP_END_CAPTURE, flow->pub.last_time);
    }
  while ((head = self->closed.head) != NULL)
    destroy_flow (self, head->data, PL_TCP_END_FIN);
}

void
pl_tcp_reassembler_free (PlTcpReassembler *self)
{
  GList *head;

  if (self == NULL)
    return;
  /* Without callbacks: freeing is not finishing. */
  self->callbacks.data = NULL;
  self->callbacks.gap = NULL;
  self->callbacks.closed = NULL;
  while ((head = self->open.head) != NULL)
    destroy_flow (self, head->data, PL_TCP_END_CAPTURE);
  while ((head = self->closed.head) != NULL)
    destroy_flow (self, head->data, PL_TCP_END_CAPTURE);
  g_hash_table_unref (self->flows);
  g_free (self);
}

guint
pl_tcp_reassembler_get_n_flows (PlTcpReassembler *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->flows);
}

gsize
pl_tcp_reassembler_get_buffered (PlTcpReassembler *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->buffered;
}
