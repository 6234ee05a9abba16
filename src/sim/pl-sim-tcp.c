/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimTcp: a small model of one TCP connection in virtual time (handshake, MSS segments, ACKs, FIN). */
#define G_LOG_DOMAIN "postlab-sim"

#include "pl-sim-tcp.h"

#include <string.h>

/*
 * What the model leaves out, on purpose: loss and retransmission (links do
 * not lose frames), reordering (links are FIFO), congestion control, window
 * scaling, delayed ACKs, TIME-WAIT. What it keeps is what a capture of a
 * short mail session shows: SYN, SYN-ACK, ACK; data in segments of at most
 * one MSS, acknowledged by the next segment the other way or a bare ACK;
 * FIN each way, each acknowledged.
 */

typedef enum {
  STATE_CLOSED = 0,
  STATE_LISTEN,
  STATE_SYN_SENT,
  STATE_SYN_RCVD,
  STATE_ESTABLISHED,
  STATE_DONE,
} State;

typedef struct {
  State       state;
  guint32     isn;
  guint32     snd_una;          /* oldest octet not yet acknowledged */
  guint32     snd_nxt;          /* next sequence number to send */
  guint32     rcv_nxt;          /* next sequence number expected */
  guint32     peer_window;
  guint8     *unsent;           /* written by the application, not yet sent: [unsent_start, unsent_len) */
  gsize       unsent_len;
  gsize       unsent_size;
  gsize       unsent_start;
  gboolean    close_requested;
  gboolean    fin_sent;
  guint32     fin_seq;
  gboolean    peer_fin;
  gboolean    in_receive;       /* sending waits until the arrival is handled, to carry its ACK */
  guint16     own_ip_id;        /* used when the config gives no shared counter */
} End;

struct _PlSimTcp
{
  gint               ref_count;
  PlSimClock        *clock;
  PlSimLink         *link;
  PlSimTcpConfig     config;
  PlSimTcpCallbacks  callbacks;
  gpointer           user_data;
  End                ends[2];
  gboolean           closed;
  guint64            n_segments;
  struct _InFlight  *spare;     /* arrived segments without payload, kept for reuse */
};

/* A segment on the wire, its payload right behind it. */
typedef struct _InFlight {
  PlSimTcp          *tcp;
  PlSimTcpEnd        to;
  PlSimSegment       segment;
  gsize              room;        /* octets of payload it has room for (0: a bare segment) */
  struct _InFlight  *next_spare;
} InFlight;

/*
 * Two segments in three carry no payload (SYN, ACK, FIN): a connection keeps
 * those that arrived for its next ones instead of a malloc and a free each.
 * Those with payload are kept by their link, each with room for one MSS
 * (no segment carries more): a connection is short, its link serves every
 * connection between the same two hosts.
 */
static InFlight *
flight_new (PlSimTcp *self,
            gsize     len)
{
  InFlight **spares = len == 0 ? &self->spare : (InFlight **) &self->link->spare_segments;
  InFlight *flight = *spares;

  if (flight != NULL && flight->room >= len)
    {
      *spares = flight->next_spare;
      return flight;
    }
  flight = g_malloc (sizeof (InFlight) + (len == 0 ? 0 : MAX (len, self->config.mss)));
  flight->room = len == 0 ? 0 : MAX (len, self->config.mss);
  return flight;
}

static void
flight_done (PlSimTcp *self,
             InFlight *flight)
{
  InFlight **spares = flight->room == 0 ? &self->spare : (InFlight **) &self->link->spare_segments;

  flight->next_spare = *spares;
  *spares = flight;
}

void
pl_sim_tcp_hold_link (PlSimLink *link)
{
  g_return_if_fail (link != NULL);
  link->n_users++;
}

void
pl_sim_tcp_release_link (PlSimLink *link)
{
  g_return_if_fail (link != NULL);
  g_return_if_fail (link->n_users > 0);

  if (--link->n_users > 0)
    return;
  while (link->spare_segments != NULL)
    {
      InFlight *flight = link->spare_segments;

      link->spare_segments = flight->next_spare;
      g_free (flight);
    }
}

/* RFC 9293 3.4: sequence numbers compare modulo 2^32. */
static inline gboolean
seq_after (guint32 a,
           guint32 b)
{
  return (gint32) (a - b) > 0;
}

static void on_arrival (gpointer data);

PlSimTcp *
pl_sim_tcp_new (PlSimClock              *clock,
                PlSimLink               *link,
                const PlSimTcpConfig    *config,
                const PlSimTcpCallbacks *callbacks,
                gpointer                 user_data)
{
  PlSimTcp *self;

  g_return_val_if_fail (clock != NULL, NULL);
  g_return_val_if_fail (link != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->mss > 0, NULL);

  self = g_new0 (PlSimTcp, 1);
  self->ref_count = 1;
  self->clock = clock;
  self->link = link;
  pl_sim_tcp_hold_link (link);
  self->config = *config;
  if (self->config.window == 0)
    self->config.window = 65535;
  if (callbacks != NULL)
    self->callbacks = *callbacks;
  self->user_data = user_data;
  for (guint e = 0; e < 2; e++)
    {
      End *end = &self->ends[e];

      end->isn = config->isn[e];
      end->snd_una = end->isn;
      end->snd_nxt = end->isn;
      end->peer_window = self->config.window;
    }
  self->ends[PL_SIM_TCP_SERVER].state = STATE_LISTEN;
  return self;
}

PlSimTcp *
pl_sim_tcp_ref (PlSimTcp *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  self->ref_count++;
  return self;
}

void
pl_sim_tcp_unref (PlSimTcp *self)
{
  g_return_if_fail (self != NULL);
  if (--self->ref_count > 0)
    return;
  for (guint e = 0; e < 2; e++)
    g_free (self->ends[e].unsent);
  while (self->spare != NULL)
    {
      InFlight *flight = self->spare;

      self->spare = flight->next_spare;
      g_free (flight);
    }
  pl_sim_tcp_release_link (self->link);
  g_free (self);
}

/* Puts one segment from @from on the link, seq @seq; the ACK field is what @from has received. */
static void
transmit (PlSimTcp      *self,
          PlSimTcpEnd    from,
          guint8         flags,
          guint32        seq,
          const guint8  *payload,
          gsize          len)
{
  End *end = &self->ends[from];
  PlSimTcpEnd to = 1 - from;
  InFlight *flight = flight_new (self, len);
  PlSimSegment *segment = &flight->segment;
  guint16 *ip_id = self->config.ip_ids[from] != NULL ? self->config.ip_ids[from] : &end->own_ip_id;

  flight->tcp = pl_sim_tcp_ref (self);
  flight->to = to;
  segment->session = self->config.session;
  segment->src_host = self->config.hosts[from];
  segment->dst_host = self->config.hosts[to];
  segment->src = self->config.ends[from];
  segment->dst = self->config.ends[to];
  segment->ip_id = (*ip_id)++;
  segment->seq = seq;
  segment->ack = (flags & PL_SIM_TCP_ACK) ? end->rcv_nxt : 0;
  segment->flags = flags;
  segment->window = self->config.window;
  segment->mss = (flags & PL_SIM_TCP_SYN) ? self->config.mss : 0;
  segment->payload = (const guint8 *) (flight + 1);
  segment->len = len;
  if (len > 0)
    memcpy (flight + 1, payload, len);

  pl_sim_link_transmit (self->link, self->config.hosts[from], pl_sim_clock_now (self->clock),
                        pl_sim_segment_frame_size (segment), &segment->depart, &segment->arrive);
  self->n_segments++;
  pl_sim_clock_schedule (self->clock, segment->arrive, on_arrival, flight);
}

/* Sends what the window allows, then FIN when asked and all has left. TRUE when a segment went. */
static gboolean
flush (PlSimTcp    *self,
       PlSimTcpEnd  from)
{
  End *end = &self->ends[from];
  gboolean sent = FALSE;

  if (end->state != STATE_ESTABLISHED)
    return FALSE;

  for (;;)
    {
      gsize unsent = end->unsent_len - end->unsent_start;
      guint32 in_flight = end->snd_nxt - end->snd_una;
      gsize n;

      if (unsent == 0 || in_flight >= end->peer_window)
        break;
      n = MIN (unsent, self->config.mss);
      n = MIN (n, end->peer_window - in_flight);
      transmit (self, from, PL_SIM_TCP_ACK | (n == unsent ? PL_SIM_TCP_PSH : 0), end->snd_nxt,
                end->unsent + end->unsent_start, n);
      end->snd_nxt += (guint32) n;
      end->unsent_start += n;
      sent = TRUE;
    }
  if (end->unsent_start == end->unsent_len)
    {
      end->unsent_len = 0;
      end->unsent_start = 0;
    }
  else if (end->unsent_start > 65536 && end->unsent_start > end->unsent_len / 2)
    {
      memmove (end->unsent, end->unsent + end->unsent_start, end->unsent_len - end->unsent_start);
      end->unsent_len -= end->unsent_start;
      end->unsent_start = 0;
    }

  if (end->close_requested && !end->fin_sent && end->unsent_len == end->unsent_start)
    {
      end->fin_seq = end->snd_nxt;
      transmit (self, from, PL_SIM_TCP_FIN | PL_SIM_TCP_ACK, end->snd_nxt, NULL, 0);
      end->snd_nxt++;
      end->fin_sent = TRUE;
      sent = TRUE;
    }
  return sent;
}

static void
finish (PlSimTcp *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  self->ends[0].state = STATE_DONE;
  self->ends[1].state = STATE_DONE;
  if (self->callbacks.closed != NULL)
    self->callbacks.closed (self, self->user_data);
}

static void
check_closed (PlSimTcp *self)
{
  for (guint e = 0; e < 2; e++)
    {
      End *end = &self->ends[e];

      if (!end->fin_sent || !end->peer_fin || seq_after (end->fin_seq + 1, end->snd_una))
        return;
    }
  finish (self);
}

static void
handle_syn (PlSimTcp           *self,
            PlSimTcpEnd         at,
            const PlSimSegment *segment)
{
  End *end = &self->ends[at];

  if (at == PL_SIM_TCP_SERVER && end->state == STATE_LISTEN && !(segment->flags & PL_SIM_TCP_ACK))
    {
      end->rcv_nxt = segment->seq + 1;
      end->peer_window = segment->window;
      if (self->config.refuse)
        {
          /* RFC 9293 3.10.7.1: no one listens; RST, acknowledging the SYN. */
          transmit (self, at, PL_SIM_TCP_RST | PL_SIM_TCP_ACK, 0, NULL, 0);
          end->state = STATE_DONE;
          return;
        }
      transmit (self, at, PL_SIM_TCP_SYN | PL_SIM_TCP_ACK, end->isn, NULL, 0);
      end->snd_nxt = end->isn + 1;
      end->state = STATE_SYN_RCVD;
      return;
    }
  if (at == PL_SIM_TCP_CLIENT && end->state == STATE_SYN_SENT && (segment->flags & PL_SIM_TCP_ACK)
      && segment->ack == end->isn + 1)
    {
      end->rcv_nxt = segment->seq + 1;
      end->snd_una = segment->ack;
      end->peer_window = segment->window;
      end->state = STATE_ESTABLISHED;
      end->in_receive = TRUE;
      if (self->callbacks.established != NULL)
        self->callbacks.established (self, at, self->user_data);
      end->in_receive = FALSE;
      if (!flush (self, at))
        transmit (self, at, PL_SIM_TCP_ACK, end->snd_nxt, NULL, 0);
    }
  /* Anything else (a duplicate SYN) cannot happen on these links. */
}

static void
handle_segment (PlSimTcp           *self,
                PlSimTcpEnd         at,
                const PlSimSegment *segment)
{
  End *end = &self->ends[at];
  gboolean need_ack = FALSE;

  if (segment->flags & PL_SIM_TCP_RST)
    {
      if (self->callbacks.peer_closed != NULL)
        self->callbacks.peer_closed (self, at, TRUE, self->user_data);
      finish (self);
      return;
    }
  if (segment->flags & PL_SIM_TCP_SYN)
    {
      handle_syn (self, at, segment);
      return;
    }
  if (end->state == STATE_DONE || end->state == STATE_LISTEN)
    return;

  end->in_receive = TRUE;
  if (segment->flags & PL_SIM_TCP_ACK)
    {
      if (seq_after (segment->ack, end->snd_una))
        end->snd_una = segment->ack;
      end->peer_window = segment->window;
      if (end->state == STATE_SYN_RCVD && segment->ack == end->isn + 1)
        {
          end->state = STATE_ESTABLISHED;
          if (self->callbacks.established != NULL)
            self->callbacks.established (self, at, self->user_data);
        }
    }
  if (segment->len > 0)
    {
      /* FIFO links: what arrives is what is expected next. */
      g_warn_if_fail (segment->seq == end->rcv_nxt);
      end->rcv_nxt += (guint32) segment->len;
      need_ack = TRUE;
      if (self->callbacks.receive != NULL)
        self->callbacks.receive (self, at, segment->payload, segment->len, self->user_data);
    }
  if ((segment->flags & PL_SIM_TCP_FIN) && !end->peer_fin)
    {
      end->rcv_nxt++;
      end->peer_fin = TRUE;
      need_ack = TRUE;
      if (self->callbacks.peer_closed != NULL)
        self->callbacks.peer_closed (self, at, FALSE, self->user_data);
    }
  end->in_receive = FALSE;

  if (self->closed)
    return;
  if (!flush (self, at) && need_ack)
    transmit (self, at, PL_SIM_TCP_ACK, end->snd_nxt, NULL, 0);
  check_closed (self);
}

static void
on_arrival (gpointer data)
{
  InFlight *flight = data;
  PlSimTcp *self = flight->tcp;

  /* A segment still on the wire when the connection ended shows in a capture all the same. */
  if (self->callbacks.segment != NULL)
    self->callbacks.segment (self, &flight->segment, self->user_data);
  if (!self->closed)
    handle_segment (self, flight->to, &flight->segment);
  flight_done (self, flight);
  pl_sim_tcp_unref (self);
}

void
pl_sim_tcp_connect (PlSimTcp *self)
{
  End *client;

  g_return_if_fail (self != NULL);
  client = &self->ends[PL_SIM_TCP_CLIENT];
  g_return_if_fail (client->state == STATE_CLOSED);

  transmit (self, PL_SIM_TCP_CLIENT, PL_SIM_TCP_SYN, client->isn, NULL, 0);
  client->snd_nxt = client->isn + 1;
  client->state = STATE_SYN_SENT;
}

/* Every octet the application sends passes here: a plain buffer, grown by doubling, appended to in place. */
static void
append_unsent (End          *end,
               const guint8 *data,
               gsize         len)
{
  if (len > end->unsent_size - end->unsent_len)
    {
      gsize size = MAX (end->unsent_size * 2, 1024);

      while (size < end->unsent_len + len)
        size *= 2;
      end->unsent = g_realloc (end->unsent, size);
      end->unsent_size = size;
    }
  memcpy (end->unsent + end->unsent_len, data, len);
  end->unsent_len += len;
}

void
pl_sim_tcp_send (PlSimTcp     *self,
                 PlSimTcpEnd   end,
                 const guint8 *data,
                 gsize         len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (len == 0 || self->closed || self->ends[end].close_requested)
    return;
  append_unsent (&self->ends[end], data, len);
  if (!self->ends[end].in_receive)
    flush (self, end);
}

void
pl_sim_tcp_close (PlSimTcp    *self,
                  PlSimTcpEnd  end)
{
  g_return_if_fail (self != NULL);

  if (self->closed || self->ends[end].close_requested)
    return;
  self->ends[end].close_requested = TRUE;
  if (!self->ends[end].in_receive)
    {
      flush (self, end);
      check_closed (self);
    }
}

void
pl_sim_tcp_abort (PlSimTcp    *self,
                  PlSimTcpEnd  end)
{
  g_return_if_fail (self != NULL);

  if (self->closed)
    return;
  if (self->ends[end].state != STATE_CLOSED && self->ends[end].state != STATE_LISTEN)
    transmit (self, end, PL_SIM_TCP_RST | PL_SIM_TCP_ACK, self->ends[end].snd_nxt, NULL, 0);
  finish (self);
}

gboolean
pl_sim_tcp_is_closed (PlSimTcp *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return self->closed;
}

gboolean
pl_sim_tcp_is_established (PlSimTcp    *self,
                           PlSimTcpEnd  end)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->ends[end].state == STATE_ESTABLISHED;
}

gsize
pl_sim_tcp_get_unsent (PlSimTcp    *self,
                       PlSimTcpEnd  end)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->ends[end].unsent_len - self->ends[end].unsent_start;
}

guint64
pl_sim_tcp_get_n_segments (PlSimTcp *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_segments;
}
