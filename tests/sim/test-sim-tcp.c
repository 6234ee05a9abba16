/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the simulator's clock, links, TCP model, frame encoding and pcap writer. */

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "pl-sim-clock.h"
#include "pl-sim-error.h"
#include "pl-sim-link.h"
#include "pl-sim-pcap.h"
#include "pl-sim-segment.h"
#include "pl-sim-tcp.h"

/* The clock ------------------------------------------------------------------------------ */

typedef struct {
  PlSimClock *clock;
  GString    *log;
} ClockTest;

typedef struct {
  ClockTest  *test;
  const char *name;
} Tick;

static void
on_tick (gpointer data)
{
  Tick *tick = data;

  g_string_append_printf (tick->test->log, "%s@%" G_GUINT64_FORMAT " ", tick->name,
                          pl_sim_clock_now (tick->test->clock));
}

static void
test_clock_order (void)
{
  ClockTest test = { pl_sim_clock_new (), g_string_new (NULL) };
  Tick ticks[] = {
    { &test, "c" }, { &test, "a" }, { &test, "b1" }, { &test, "b2" }, { &test, "b3" }, { &test, "d" },
  };

  g_assert_cmpuint (pl_sim_clock_now (test.clock), ==, 0);
  g_assert_false (pl_sim_clock_step (test.clock));
  g_assert_cmpuint (pl_sim_clock_get_next (test.clock), ==, PL_SIM_TIME_NEVER);

  pl_sim_clock_schedule (test.clock, 30, on_tick, &ticks[0]);
  pl_sim_clock_schedule (test.clock, 10, on_tick, &ticks[1]);
  /* Three at one time: first come, first served. */
  pl_sim_clock_schedule (test.clock, 20, on_tick, &ticks[2]);
  pl_sim_clock_schedule (test.clock, 20, on_tick, &ticks[3]);
  pl_sim_clock_schedule (test.clock, 20, on_tick, &ticks[4]);
  g_assert_cmpuint (pl_sim_clock_get_pending (test.clock), ==, 5);
  g_assert_cmpuint (pl_sim_clock_get_next (test.clock), ==, 10);

  g_assert_true (pl_sim_clock_step (test.clock));
  g_assert_cmpuint (pl_sim_clock_now (test.clock), ==, 10);
  /* Scheduled in the past: runs now, after what is already due now. */
  pl_sim_clock_schedule (test.clock, 5, on_tick, &ticks[5]);
  while (pl_sim_clock_step (test.clock))
    ;
  g_assert_cmpstr (test.log->str, ==, "a@10 d@10 b1@20 b2@20 b3@20 c@30 ");
  g_assert_cmpuint (pl_sim_clock_now (test.clock), ==, 30);
  g_assert_cmpuint (pl_sim_clock_get_pending (test.clock), ==, 0);

  g_string_free (test.log, TRUE);
  pl_sim_clock_free (test.clock);
}

static void
on_count (gpointer data)
{
  (*(guint *) data)++;
}

/* Many actions at scattered times come out sorted: the heap holds its order. */
static void
test_clock_many (void)
{
  g_autoptr(PlSimClock) clock = pl_sim_clock_new ();
  guint count = 0;
  PlSimTime last = 0;
  guint32 x = 12345;

  for (guint i = 0; i < 5000; i++)
    {
      x = x * 1103515245u + 12345u;
      pl_sim_clock_schedule (clock, (x >> 8) % 100000, on_count, &count);
    }
  while (pl_sim_clock_get_pending (clock) > 0)
    {
      PlSimTime next = pl_sim_clock_get_next (clock);

      g_assert_cmpuint (next, >=, last);
      g_assert_true (pl_sim_clock_step (clock));
      g_assert_cmpuint (pl_sim_clock_now (clock), ==, next);
      last = next;
    }
  g_assert_cmpuint (count, ==, 5000);
}

static void
test_clock_time_units (void)
{
  g_assert_cmpfloat (pl_sim_time_to_seconds (1500 * PL_SIM_NS_PER_MS), ==, 1.5);
  g_assert_cmpfloat (pl_sim_time_to_seconds (0), ==, 0.0);
}

/* Links ---------------------------------------------------------------------------------- */

static void
test_link_timing (void)
{
  /* 10 Mbit/s: 1250 octets take exactly 1 ms; 20 ms one way. */
  PlSimLink link = { .a = 0, .b = 1, .latency = 20 * PL_SIM_NS_PER_MS, .bandwidth = 10000000 };
  PlSimTime depart, arrive;

  g_assert_cmpuint (pl_sim_link_transmission_time (&link, 1250), ==, PL_SIM_NS_PER_MS);
  /* 1 octet at 3 bit/s is 8/3 s: rounded up to the next nanosecond. */
  {
    PlSimLink slow = { .bandwidth = 3 };

    g_assert_cmpuint (pl_sim_link_transmission_time (&slow, 1), ==, 2666666667u);
  }

  pl_sim_link_transmit (&link, 0, 0, 1250, &depart, &arrive);
  g_assert_cmpuint (depart, ==, 0);
  g_assert_cmpuint (arrive, ==, 21 * PL_SIM_NS_PER_MS);
  /* The next frame the same way waits for the first to be on the wire. */
  pl_sim_link_transmit (&link, 0, 0, 1250, &depart, &arrive);
  g_assert_cmpuint (depart, ==, PL_SIM_NS_PER_MS);
  g_assert_cmpuint (arrive, ==, 22 * PL_SIM_NS_PER_MS);
  /* The other direction is free. */
  pl_sim_link_transmit (&link, 1, 0, 1250, &depart, &arrive);
  g_assert_cmpuint (depart, ==, 0);
  g_assert_cmpuint (arrive, ==, 21 * PL_SIM_NS_PER_MS);
  /* Later than the queue: leaves at once. */
  pl_sim_link_transmit (&link, 0, 50 * PL_SIM_NS_PER_MS, 1250, &depart, &arrive);
  g_assert_cmpuint (depart, ==, 50 * PL_SIM_NS_PER_MS);
  g_assert_cmpuint (link.n_frames, ==, 4);
  g_assert_cmpuint (link.n_octets, ==, 5000);

  {
    PlSimLink unlimited = { .latency = 7 };

    pl_sim_link_transmit (&unlimited, 0, 3, 100000, &depart, &arrive);
    g_assert_cmpuint (depart, ==, 3);
    g_assert_cmpuint (arrive, ==, 10);
  }
}

/* Checksums, checked by a computation of the test's own ------------------------------------ */

/* RFC 1071 the plain way: add every big-endian 16-bit word, fold once at the end. */
static guint16
reference_sum (const guint8 *data,
               gsize         len)
{
  guint64 sum = 0;

  for (gsize i = 0; i < len; i += 2)
    sum += (guint64) data[i] * 256 + (i + 1 < len ? data[i + 1] : 0);
  while (sum > 0xffff)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) sum;
}

/* A frame's IPv4 header and TCP segment each sum to 0xffff with their checksums in (RFC 1071 1). */
static void
assert_frame_checksums (const guint8 *frame,
                        gsize         len)
{
  const guint8 *ip = frame + 14;
  gsize ip_total = (gsize) ip[2] << 8 | ip[3];
  gsize tcp_len = ip_total - 20;
  g_autofree guint8 *pseudo = g_malloc (12 + tcp_len);

  g_assert_cmpuint (len, ==, 14 + ip_total);
  g_assert_cmphex (reference_sum (ip, 20), ==, 0xffff);
  memcpy (pseudo, ip + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = 6;
  pseudo[10] = (guint8) (tcp_len >> 8);
  pseudo[11] = (guint8) tcp_len;
  memcpy (pseudo + 12, ip + 20, tcp_len);
  g_assert_cmphex (reference_sum (pseudo, 12 + tcp_len), ==, 0xffff);
}

static PlSimSegment
example_segment (void)
{
  static const guint8 payload[] = "EHLO x\r\n";
  PlSimSegment segment = { 0 };
  const guint8 mac_a[6] = { 0x02, 0x00, 192, 0, 2, 10 };
  const guint8 mac_b[6] = { 0x02, 0x00, 192, 0, 2, 25 };

  memcpy (segment.src.mac, mac_a, 6);
  memcpy (segment.dst.mac, mac_b, 6);
  segment.src.address = 0xc000020a;
  segment.dst.address = 0xc0000219;
  segment.src.port = 49152;
  segment.dst.port = 587;
  segment.ip_id = 7;
  segment.seq = 0x01020304;
  segment.ack = 0x0a0b0c0d;
  segment.flags = PL_SIM_TCP_PSH | PL_SIM_TCP_ACK;
  segment.window = 65535;
  segment.payload = payload;
  segment.len = sizeof payload - 1;
  return segment;
}

static void
test_segment_encoding (void)
{
  PlSimSegment segment = example_segment ();
  gsize size = pl_sim_segment_frame_size (&segment);
  g_autofree guint8 *frame = g_malloc (size);
  const guint8 *ip = frame + 14;
  const guint8 *tcp = ip + 20;

  g_assert_cmpuint (size, ==, 14 + 20 + 20 + 8);
  pl_sim_segment_encode (&segment, frame);

  /* Ethernet II: destination, source, IPv4. */
  g_assert_cmpmem (frame, 6, segment.dst.mac, 6);
  g_assert_cmpmem (frame + 6, 6, segment.src.mac, 6);
  g_assert_cmphex (frame[12], ==, 0x08);
  g_assert_cmphex (frame[13], ==, 0x00);
  /* IPv4: version and length, total length, id, DF, TTL, TCP, addresses. */
  g_assert_cmphex (ip[0], ==, 0x45);
  g_assert_cmpuint ((guint) ip[2] << 8 | ip[3], ==, 48);
  g_assert_cmpuint ((guint) ip[4] << 8 | ip[5], ==, 7);
  g_assert_cmphex (ip[6], ==, 0x40);
  g_assert_cmpuint (ip[8], ==, 64);
  g_assert_cmpuint (ip[9], ==, 6);
  g_assert_cmpmem (ip + 12, 4, ((const guint8[]) { 192, 0, 2, 10 }), 4);
  g_assert_cmpmem (ip + 16, 4, ((const guint8[]) { 192, 0, 2, 25 }), 4);
  /* TCP: ports, seq, ack, offset 5 words, PSH+ACK, window, the payload. */
  g_assert_cmpuint ((guint) tcp[0] << 8 | tcp[1], ==, 49152);
  g_assert_cmpuint ((guint) tcp[2] << 8 | tcp[3], ==, 587);
  g_assert_cmpmem (tcp + 4, 4, ((const guint8[]) { 1, 2, 3, 4 }), 4);
  g_assert_cmpmem (tcp + 8, 4, ((const guint8[]) { 10, 11, 12, 13 }), 4);
  g_assert_cmphex (tcp[12], ==, 0x50);
  g_assert_cmphex (tcp[13], ==, 0x18);
  g_assert_cmpuint ((guint) tcp[14] << 8 | tcp[15], ==, 65535);
  g_assert_cmpmem (tcp + 20, 8, "EHLO x\r\n", 8);

  /* Known answers, worked out apart from this code (Python's struct, RFC 1071). */
  g_assert_cmphex ((guint) ip[10] << 8 | ip[11], ==, 0xb69d);
  g_assert_cmphex ((guint) tcp[16] << 8 | tcp[17], ==, 0x901d);
  assert_frame_checksums (frame, size);
}

static void
test_segment_syn_option (void)
{
  PlSimSegment segment = example_segment ();
  g_autofree guint8 *frame = NULL;
  gsize size;

  segment.flags = PL_SIM_TCP_SYN;
  segment.seq = 0xfffffff0;
  segment.ack = 0;
  segment.ip_id = 0;
  segment.mss = 1460;
  segment.payload = NULL;
  segment.len = 0;
  size = pl_sim_segment_frame_size (&segment);
  g_assert_cmpuint (size, ==, 14 + 20 + 24);
  frame = g_malloc (size);
  pl_sim_segment_encode (&segment, frame);
  /* Data offset 6 words; option kind 2, length 4, 1460. */
  g_assert_cmphex (frame[34 + 12], ==, 0x60);
  g_assert_cmpmem (frame + 34 + 20, 4, ((const guint8[]) { 2, 4, 0x05, 0xb4 }), 4);
  g_assert_cmphex ((guint) frame[24] << 8 | frame[25], ==, 0xb6a8);
  g_assert_cmphex ((guint) frame[34 + 16] << 8 | frame[34 + 17], ==, 0x51c6);
  assert_frame_checksums (frame, size);
}

/* An odd-length payload and every length around it: the checksum pads the last octet. */
static void
test_segment_odd_lengths (void)
{
  guint8 payload[1500];

  for (gsize i = 0; i < sizeof payload; i++)
    payload[i] = (guint8) (i * 7 + 3);
  for (gsize len = 0; len <= 1460; len += (len < 10 ? 1 : 97))
    {
      PlSimSegment segment = example_segment ();
      g_autofree guint8 *frame = NULL;

      segment.payload = payload;
      segment.len = len;
      frame = g_malloc (pl_sim_segment_frame_size (&segment));
      pl_sim_segment_encode (&segment, frame);
      assert_frame_checksums (frame, pl_sim_segment_frame_size (&segment));
    }
}

static void
test_segment_flags_text (void)
{
  g_autofree char *syn_ack = pl_sim_tcp_flags_to_string (PL_SIM_TCP_SYN | PL_SIM_TCP_ACK);
  g_autofree char *fin = pl_sim_tcp_flags_to_string (PL_SIM_TCP_FIN | PL_SIM_TCP_ACK);
  g_autofree char *none = pl_sim_tcp_flags_to_string (0);

  g_assert_cmpstr (syn_ack, ==, "SYN, ACK");
  g_assert_cmpstr (fin, ==, "FIN, ACK");
  g_assert_cmpstr (none, ==, "");
}

/* The TCP model --------------------------------------------------------------------------- */

typedef struct {
  PlSimClock *clock;
  PlSimLink   link;
  PlSimTcp   *tcp;
  GArray     *segments;     /* of PlSimSegment, payload pointers cleared */
  GByteArray *payloads[2];  /* all payload seen arriving, by sender end */
  GByteArray *received[2];  /* what the application at each end got */
  PlSimTime   established_at[2];
  guint       n_established;
  guint       n_closed;
  gboolean    peer_closed[2];
  gboolean    reset[2];
  /* What each end does: */
  const char *greeting;     /* the server sends this when established */
  const char *answer;       /* the client sends this when it receives anything */
  gboolean    client_closes_after_answer;
  gboolean    server_closes_on_fin;
} TcpTest;

static void
on_established (PlSimTcp    *tcp,
                PlSimTcpEnd  end,
                gpointer     user_data)
{
  TcpTest *t = user_data;

  t->established_at[end] = pl_sim_clock_now (t->clock);
  t->n_established++;
  if (end == PL_SIM_TCP_SERVER && t->greeting != NULL)
    pl_sim_tcp_send (tcp, end, (const guint8 *) t->greeting, strlen (t->greeting));
}

static void
on_receive (PlSimTcp     *tcp,
            PlSimTcpEnd   end,
            const guint8 *data,
            gsize         len,
            gpointer      user_data)
{
  TcpTest *t = user_data;

  g_byte_array_append (t->received[end], data, (guint) len);
  if (end == PL_SIM_TCP_CLIENT && t->answer != NULL)
    {
      pl_sim_tcp_send (tcp, end, (const guint8 *) t->answer, strlen (t->answer));
      t->answer = NULL;
      if (t->client_closes_after_answer)
        pl_sim_tcp_close (tcp, end);
    }
}

static void
on_peer_closed (PlSimTcp    *tcp,
                PlSimTcpEnd  end,
                gboolean     reset,
                gpointer     user_data)
{
  TcpTest *t = user_data;

  t->peer_closed[end] = TRUE;
  t->reset[end] = reset;
  if (!reset && end == PL_SIM_TCP_SERVER && t->server_closes_on_fin)
    pl_sim_tcp_close (tcp, end);
}

static void
on_closed (PlSimTcp *tcp,
           gpointer  user_data)
{
  ((TcpTest *) user_data)->n_closed++;
}

static void
on_segment (PlSimTcp           *tcp,
            const PlSimSegment *segment,
            gpointer            user_data)
{
  TcpTest *t = user_data;
  PlSimSegment copy = *segment;
  PlSimTcpEnd from = segment->src.port == 587 ? PL_SIM_TCP_SERVER : PL_SIM_TCP_CLIENT;

  g_byte_array_append (t->payloads[from], segment->payload, (guint) segment->len);
  copy.payload = NULL;
  g_array_append_val (t->segments, copy);
  /* Everything arrives when it said it would. */
  g_assert_cmpuint (segment->arrive, ==, pl_sim_clock_now (t->clock));
}

static const PlSimTcpCallbacks test_callbacks = {
  on_established, on_receive, on_peer_closed, on_closed, on_segment,
};

static TcpTest *
tcp_test_new (guint16  mss,
              guint16  window,
              guint32  isn_client,
              guint32  isn_server,
              gboolean refuse)
{
  TcpTest *t = g_new0 (TcpTest, 1);
  PlSimTcpConfig config = { 0 };

  t->clock = pl_sim_clock_new ();
  t->link.a = 0;
  t->link.b = 1;
  t->link.latency = 10 * PL_SIM_NS_PER_MS;
  t->link.bandwidth = 0;
  t->segments = g_array_new (FALSE, FALSE, sizeof (PlSimSegment));
  for (guint e = 0; e < 2; e++)
    {
      t->payloads[e] = g_byte_array_new ();
      t->received[e] = g_byte_array_new ();
    }
  config.ends[0].address = 0xc000020a;
  config.ends[0].port = 49152;
  config.ends[1].address = 0xc0000219;
  config.ends[1].port = 587;
  config.hosts[0] = 0;
  config.hosts[1] = 1;
  config.isn[0] = isn_client;
  config.isn[1] = isn_server;
  config.mss = mss;
  config.window = window;
  config.refuse = refuse;
  config.session = 1;
  t->tcp = pl_sim_tcp_new (t->clock, &t->link, &config, &test_callbacks, t);
  return t;
}

static void
tcp_test_run (TcpTest *t)
{
  while (pl_sim_clock_step (t->clock))
    ;
}

static void
tcp_test_free (TcpTest *t)
{
  pl_sim_tcp_unref (t->tcp);
  pl_sim_clock_free (t->clock);
  g_array_unref (t->segments);
  for (guint e = 0; e < 2; e++)
    {
      g_byte_array_unref (t->payloads[e]);
      g_byte_array_unref (t->received[e]);
    }
  g_free (t);
}

static const PlSimSegment *
segment_at (TcpTest *t,
            guint    i)
{
  g_assert_cmpuint (i, <, t->segments->len);
  return &g_array_index (t->segments, PlSimSegment, i);
}

/* RFC 9293 3.5 figure 6: SYN, SYN-ACK, ACK, each end's ISN consumed by its SYN. */
static void
test_tcp_handshake (void)
{
  TcpTest *t = tcp_test_new (1460, 0, 1000, 5000, FALSE);
  const PlSimSegment *s;

  pl_sim_tcp_connect (t->tcp);
  tcp_test_run (t);

  g_assert_cmpuint (t->segments->len, ==, 3);
  s = segment_at (t, 0);
  g_assert_cmphex (s->flags, ==, PL_SIM_TCP_SYN);
  g_assert_cmpuint (s->seq, ==, 1000);
  g_assert_cmpuint (s->mss, ==, 1460);
  g_assert_cmpuint (s->arrive, ==, 10 * PL_SIM_NS_PER_MS);
  s = segment_at (t, 1);
  g_assert_cmphex (s->flags, ==, PL_SIM_TCP_SYN | PL_SIM_TCP_ACK);
  g_assert_cmpuint (s->seq, ==, 5000);
  g_assert_cmpuint (s->ack, ==, 1001);
  g_assert_cmpuint (s->mss, ==, 1460);
  s = segment_at (t, 2);
  g_assert_cmphex (s->flags, ==, PL_SIM_TCP_ACK);
  g_assert_cmpuint (s->seq, ==, 1001);
  g_assert_cmpuint (s->ack, ==, 5001);
  g_assert_cmpuint (s->mss, ==, 0);

  /* The client knows after one round trip, the server after one and a half. */
  g_assert_cmpuint (t->n_established, ==, 2);
  g_assert_cmpuint (t->established_at[PL_SIM_TCP_CLIENT], ==, 20 * PL_SIM_NS_PER_MS);
  g_assert_cmpuint (t->established_at[PL_SIM_TCP_SERVER], ==, 30 * PL_SIM_NS_PER_MS);
  g_assert_true (pl_sim_tcp_is_established (t->tcp, PL_SIM_TCP_CLIENT));
  g_assert_true (pl_sim_tcp_is_established (t->tcp, PL_SIM_TCP_SERVER));
  g_assert_cmpuint (t->n_closed, ==, 0);
  tcp_test_free (t);
}

/*
 * A greeting, an answer that is 3,500 octets with an MSS of 1,000: four
 * segments of 1,000, 1,000, 1,000 and 500, in sequence, PSH on the last;
 * each acknowledged; then FIN each way, each acknowledged, and closed.
 */
static void
test_tcp_mss_segments_and_fin (void)
{
  g_autofree char *answer = g_strnfill (3500, 'x');
  TcpTest *t = tcp_test_new (1000, 0, 100, 7000, FALSE);
  guint n_data = 0;
  guint32 next_seq = 101;
  guint fins = 0;

  answer[999] = 'A';
  answer[3499] = 'Z';
  t->greeting = "220 hello\r\n";
  t->answer = answer;
  t->client_closes_after_answer = TRUE;
  t->server_closes_on_fin = TRUE;
  pl_sim_tcp_connect (t->tcp);
  tcp_test_run (t);

  g_assert_cmpmem (t->received[PL_SIM_TCP_CLIENT]->data, t->received[PL_SIM_TCP_CLIENT]->len, "220 hello\r\n", 11);
  g_assert_cmpmem (t->received[PL_SIM_TCP_SERVER]->data, t->received[PL_SIM_TCP_SERVER]->len, answer, 3500);
  g_assert_cmpmem (t->payloads[PL_SIM_TCP_CLIENT]->data, t->payloads[PL_SIM_TCP_CLIENT]->len, answer, 3500);

  for (guint i = 0; i < t->segments->len; i++)
    {
      const PlSimSegment *s = segment_at (t, i);

      if (s->src.port != 49152)
        continue;
      if (s->len > 0)
        {
          static const gsize sizes[] = { 1000, 1000, 1000, 500 };

          g_assert_cmpuint (n_data, <, 4);
          g_assert_cmpuint (s->len, ==, sizes[n_data]);
          g_assert_cmpuint (s->seq, ==, next_seq);
          g_assert_cmpuint (s->ack, ==, 7001 + 11);
          /* PSH when the write is all out. */
          g_assert_cmpint (!!(s->flags & PL_SIM_TCP_PSH), ==, n_data == 3);
          next_seq += (guint32) s->len;
          n_data++;
        }
      if (s->flags & PL_SIM_TCP_FIN)
        {
          g_assert_cmpuint (s->seq, ==, 101 + 3500);
          fins++;
        }
    }
  g_assert_cmpuint (n_data, ==, 4);
  g_assert_cmpuint (fins, ==, 1);

  /* The server's FIN comes after the client's, and the last ACK acknowledges it. */
  {
    const PlSimSegment *last = segment_at (t, t->segments->len - 1);
    const PlSimSegment *server_fin = NULL;

    for (guint i = 0; i < t->segments->len; i++)
      if (segment_at (t, i)->src.port == 587 && (segment_at (t, i)->flags & PL_SIM_TCP_FIN))
        server_fin = segment_at (t, i);
    g_assert_nonnull (server_fin);
    g_assert_cmpuint (server_fin->seq, ==, 7001 + 11);
    g_assert_cmphex (last->flags, ==, PL_SIM_TCP_ACK);
    g_assert_cmpuint (last->src.port, ==, 49152);
    g_assert_cmpuint (last->ack, ==, 7001 + 11 + 1);
  }
  g_assert_true (t->peer_closed[PL_SIM_TCP_SERVER]);
  g_assert_true (t->peer_closed[PL_SIM_TCP_CLIENT]);
  g_assert_false (t->reset[PL_SIM_TCP_CLIENT]);
  g_assert_cmpuint (t->n_closed, ==, 1);
  g_assert_true (pl_sim_tcp_is_closed (t->tcp));
  tcp_test_free (t);
}

/* Every data segment is acknowledged: by the next one the other way, or by a bare ACK. */
static void
test_tcp_every_octet_acknowledged (void)
{
  g_autofree char *answer = g_strnfill (2500, 'y');
  TcpTest *t = tcp_test_new (536, 0, 1, 2, FALSE);
  guint32 highest_ack_to_client = 0;

  t->greeting = "+OK\r\n";
  t->answer = answer;
  t->client_closes_after_answer = TRUE;
  t->server_closes_on_fin = TRUE;
  pl_sim_tcp_connect (t->tcp);
  tcp_test_run (t);

  for (guint i = 0; i < t->segments->len; i++)
    {
      const PlSimSegment *s = segment_at (t, i);

      g_assert_cmpuint (s->len, <=, 536);
      if (s->src.port == 587 && (s->flags & PL_SIM_TCP_ACK))
        highest_ack_to_client = MAX (highest_ack_to_client, s->ack);
    }
  /* 1 (ISN) + SYN + 2500 data + FIN. */
  g_assert_cmpuint (highest_ack_to_client, ==, 1 + 1 + 2500 + 1);
  g_assert_cmpuint (t->n_closed, ==, 1);
  tcp_test_free (t);
}

/* A window of 2,000 octets: never more than that in flight. */
static void
test_tcp_window (void)
{
  g_autofree char *answer = g_strnfill (10000, 'w');
  TcpTest *t = tcp_test_new (1000, 2000, 0, 0, FALSE);
  guint32 acked = 1;
  guint32 sent_end = 1;
  gint32 max_in_flight = 0;

  t->greeting = "go\r\n";
  t->answer = answer;
  t->client_closes_after_answer = TRUE;
  t->server_closes_on_fin = TRUE;
  pl_sim_tcp_connect (t->tcp);
  tcp_test_run (t);

  /* Walk the segments in arrival order: data from the client against ACKs from the server. */
  for (guint i = 0; i < t->segments->len; i++)
    {
      const PlSimSegment *s = segment_at (t, i);

      if (s->src.port == 49152 && s->len > 0)
        sent_end = MAX (sent_end, s->seq + (guint32) s->len);
      if (s->src.port == 587 && (s->flags & PL_SIM_TCP_ACK) && !(s->flags & PL_SIM_TCP_SYN))
        acked = MAX (acked, s->ack);
      /* Signed: the ACK of the FIN runs one past the data. */
      g_assert_cmpint ((gint32) (sent_end - acked), <=, 2000);
      max_in_flight = MAX (max_in_flight, (gint32) (sent_end - acked));
    }
  /* The window is what held the sender back. */
  g_assert_cmpint (max_in_flight, ==, 2000);
  g_assert_cmpuint (t->received[PL_SIM_TCP_SERVER]->len, ==, 10000);
  g_assert_cmpuint (t->n_closed, ==, 1);
  tcp_test_free (t);
}

/* RFC 9293 3.4: sequence numbers wrap around 2^32 and the stream stays whole. */
static void
test_tcp_sequence_wrap (void)
{
  g_autofree char *answer = g_strnfill (3000, 'q');
  TcpTest *t = tcp_test_new (1000, 0, 0xfffffc00u, 0xffffffffu, FALSE);
  gboolean wrapped = FALSE;

  t->greeting = "hi\r\n";
  t->answer = answer;
  t->client_closes_after_answer = TRUE;
  t->server_closes_on_fin = TRUE;
  pl_sim_tcp_connect (t->tcp);
  tcp_test_run (t);

  g_assert_cmpuint (t->received[PL_SIM_TCP_SERVER]->len, ==, 3000);
  g_assert_cmpuint (t->received[PL_SIM_TCP_CLIENT]->len, ==, 4);
  for (guint i = 0; i < t->segments->len; i++)
    if (segment_at (t, i)->src.port == 49152 && segment_at (t, i)->seq < 0x1000)
      wrapped = TRUE;
  g_assert_true (wrapped);
  /* The server's SYN is 0xffffffff: its first data octet is 0. */
  for (guint i = 0; i < t->segments->len; i++)
    if (segment_at (t, i)->src.port == 587 && segment_at (t, i)->len > 0)
      g_assert_cmpuint (segment_at (t, i)->seq, ==, 0);
  g_assert_cmpuint (t->n_closed, ==, 1);
  tcp_test_free (t);
}

/* Nobody listens: RST, ACK for the SYN (RFC 9293 3.10.7.1), and the client hears of it. */
static void
test_tcp_refused (void)
{
  TcpTest *t = tcp_test_new (1460, 0, 42, 0, TRUE);
  const PlSimSegment *rst;

  pl_sim_tcp_connect (t->tcp);
  tcp_test_run (t);

  g_assert_cmpuint (t->segments->len, ==, 2);
  rst = segment_at (t, 1);
  g_assert_cmphex (rst->flags, ==, PL_SIM_TCP_RST | PL_SIM_TCP_ACK);
  g_assert_cmpuint (rst->ack, ==, 43);
  g_assert_true (t->peer_closed[PL_SIM_TCP_CLIENT]);
  g_assert_true (t->reset[PL_SIM_TCP_CLIENT]);
  g_assert_cmpuint (t->n_established, ==, 0);
  g_assert_cmpuint (t->n_closed, ==, 1);
  tcp_test_free (t);
}

/* Bandwidth: a 1,054-octet frame at 1 Mbit/s takes 8.432 ms on the wire, on top of the latency. */
static void
test_tcp_bandwidth (void)
{
  g_autofree char *answer = g_strnfill (1000, 'b');
  TcpTest *t = tcp_test_new (1460, 0, 0, 0, FALSE);

  t->link.bandwidth = 1000000;
  t->greeting = "ok\r\n";
  t->answer = answer;
  pl_sim_tcp_connect (t->tcp);
  tcp_test_run (t);

  for (guint i = 0; i < t->segments->len; i++)
    {
      const PlSimSegment *s = segment_at (t, i);

      if (s->len == 1000)
        {
          g_assert_cmpuint (s->arrive - s->depart, ==, 8432000 + 10 * PL_SIM_NS_PER_MS);
          tcp_test_free (t);
          return;
        }
    }
  g_assert_not_reached ();
}

/* The pcap writer ------------------------------------------------------------------------- */

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static void
test_pcap_format (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-sim-pcap-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.pcap", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  PlSimSegment segment = example_segment ();
  PlSimPcapWriter *writer;
  const guint8 *p;

  writer = pl_sim_pcap_writer_new (path, 1744630200, &error);
  g_assert_no_error (error);
  /* Nothing at OUT until it is committed. */
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  segment.arrive = 2 * PL_SIM_NS_PER_S + 345678901;
  g_assert_true (pl_sim_pcap_writer_add (writer, &segment, &error));
  segment.arrive += 1;
  g_assert_true (pl_sim_pcap_writer_add (writer, &segment, &error));
  g_assert_cmpuint (pl_sim_pcap_writer_get_n_packets (writer), ==, 2);
  g_assert_true (pl_sim_pcap_writer_commit (writer, &error));
  g_assert_no_error (error);
  pl_sim_pcap_writer_free (writer);

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (length, ==, 24 + 2 * (16 + 62));
  p = (const guint8 *) contents;
  /* The global header: nanosecond magic, 2.4, UTC, snaplen, Ethernet. */
  g_assert_cmphex (le32 (p), ==, 0xa1b23c4d);
  g_assert_cmpuint (p[4] | p[5] << 8, ==, 2);
  g_assert_cmpuint (p[6] | p[7] << 8, ==, 4);
  g_assert_cmpuint (le32 (p + 8), ==, 0);
  g_assert_cmpuint (le32 (p + 16), ==, PL_SIM_PCAP_SNAPLEN);
  g_assert_cmpuint (le32 (p + 20), ==, 1);
  /* The first record: seconds since 1970, nanoseconds, lengths. */
  p += 24;
  g_assert_cmpuint (le32 (p), ==, 1744630202);
  g_assert_cmpuint (le32 (p + 4), ==, 345678901);
  g_assert_cmpuint (le32 (p + 8), ==, 62);
  g_assert_cmpuint (le32 (p + 12), ==, 62);
  assert_frame_checksums (p + 16, 62);
  g_assert_cmpuint (le32 (p + 16 + 62 + 4), ==, 345678902);

  g_unlink (path);
  g_rmdir (dir);
}

/* A capture that is not committed leaves nothing behind, and an older file at OUT untouched. */
static void
test_pcap_uncommitted (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-sim-pcap-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.pcap", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  PlSimSegment segment = example_segment ();
  PlSimPcapWriter *writer;
  GDir *listing;

  g_assert_true (g_file_set_contents (path, "old", 3, NULL));
  writer = pl_sim_pcap_writer_new (path, 0, &error);
  g_assert_no_error (error);
  g_assert_true (pl_sim_pcap_writer_add (writer, &segment, &error));
  pl_sim_pcap_writer_free (writer);

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old");
  listing = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (listing), ==, "out.pcap");
  g_assert_null (g_dir_read_name (listing));
  g_dir_close (listing);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_pcap_unwritable (void)
{
  g_autoptr(GError) error = NULL;
  PlSimPcapWriter *writer = pl_sim_pcap_writer_new ("/nonexistent-folder-of-postlab/out.pcap", 0, &error);

  g_assert_null (writer);
  g_assert_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "out.pcap"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/clock/order", test_clock_order);
  g_test_add_func ("/sim/clock/many", test_clock_many);
  g_test_add_func ("/sim/clock/units", test_clock_time_units);
  g_test_add_func ("/sim/link/timing", test_link_timing);
  g_test_add_func ("/sim/segment/encoding", test_segment_encoding);
  g_test_add_func ("/sim/segment/syn-mss-option", test_segment_syn_option);
  g_test_add_func ("/sim/segment/odd-lengths", test_segment_odd_lengths);
  g_test_add_func ("/sim/segment/flags-text", test_segment_flags_text);
  g_test_add_func ("/sim/tcp/handshake", test_tcp_handshake);
  g_test_add_func ("/sim/tcp/mss-segments-and-fin", test_tcp_mss_segments_and_fin);
  g_test_add_func ("/sim/tcp/every-octet-acknowledged", test_tcp_every_octet_acknowledged);
  g_test_add_func ("/sim/tcp/window", test_tcp_window);
  g_test_add_func ("/sim/tcp/sequence-wrap", test_tcp_sequence_wrap);
  g_test_add_func ("/sim/tcp/refused", test_tcp_refused);
  g_test_add_func ("/sim/tcp/bandwidth", test_tcp_bandwidth);
  g_test_add_func ("/sim/pcap/format", test_pcap_format);
  g_test_add_func ("/sim/pcap/uncommitted", test_pcap_uncommitted);
  g_test_add_func ("/sim/pcap/unwritable", test_pcap_unwritable);
  return g_test_run ();
}
