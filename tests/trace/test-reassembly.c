/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlTcpReassembler: tables of segments, the byte streams and gaps they must give. */
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "pl-packet.h"
#include "pl-tcp-reassembler.h"

#define CLIENT 'C'
#define SERVER 'S'

typedef struct {
  char          from;      /* CLIENT or SERVER */
  guint8        flags;
  guint32       seq;       /* relative to the sender's ISN; the SYN is at 0 */
  const char   *data;      /* NULL for none */
  gint          captured;  /* octets of @data in the capture; -1: all */
  guint32       ack;       /* relative to the peer's ISN */
} Seg;

typedef struct {
  const char *name;
  guint32     isn;         /* both sides' initial sequence number */
  gsize       max_buffered;
  Seg         segs[16];
  const char *client;      /* what side C must give: data with [gap N] where octets are missing */
  const char *server;
  const char *ends;        /* the way the flows end, one letter each: F(in) R(st) C(apture) U(reused) */
} Case;

#define S_ PL_TCP_SYN
#define A_ PL_TCP_ACK
#define F_ PL_TCP_FIN
#define R_ PL_TCP_RST
#define P_ (PL_TCP_PSH | PL_TCP_ACK)

static const Case cases[] = {
  { "in-order", 1000, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { SERVER, S_ | A_, 0, NULL, -1, 1 }, { CLIENT, A_, 1, NULL, -1, 1 },
      { SERVER, P_, 1, "+OK ready\r\n", -1, 1 }, { CLIENT, P_, 1, "USER bob\r\n", -1, 12 },
      { SERVER, P_, 12, "+OK\r\n", -1, 11 }, { CLIENT, F_ | A_, 11, NULL, -1, 17 }, { SERVER, F_ | A_, 17, NULL, -1, 12 },
      { CLIENT, A_, 12, NULL, -1, 18 } },
    "USER bob\r\n", "+OK ready\r\n+OK\r\n", "F" },
  { "out-of-order", 5000, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { SERVER, S_ | A_, 0, NULL, -1, 1 },
      { CLIENT, P_, 5, "EFGH", -1, 1 }, { CLIENT, P_, 1, "ABCD", -1, 1 }, { CLIENT, P_, 9, "IJ", -1, 1 } },
    "ABCDEFGHIJ", "", "C" },
  { "retransmission", 7, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 1, "ABCD", -1, 1 }, { CLIENT, P_, 1, "ABCD", -1, 1 },
      { CLIENT, P_, 5, "EF", -1, 1 }, { CLIENT, P_, 1, "ABCD", -1, 1 }, { CLIENT, P_, 5, "EF", -1, 1 } },
    "ABCDEF", "", "C" },
  { "overlaps", 100, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 1, "abcdef", -1, 1 }, { CLIENT, P_, 4, "defghi", -1, 1 },
      { CLIENT, P_, 12, "lmn", -1, 1 }, { CLIENT, P_, 11, "klmnop", -1, 1 }, { CLIENT, P_, 9, "ijk", -1, 1 } },
    "abcdefghijklmnop", "", "C" },
  { "wrap-around", 0xfffffffa, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { SERVER, S_ | A_, 0, NULL, -1, 1 },
      { CLIENT, P_, 1, "01234", -1, 1 }, { CLIENT, P_, 11, "ABCDE", -1, 1 }, { CLIENT, P_, 6, "56789", -1, 1 },
      { SERVER, P_, 1, "0123456789", -1, 16 } },
    "0123456789ABCDE", "0123456789", "C" },
  { "gap-given-up-by-ack", 1, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { SERVER, S_ | A_, 0, NULL, -1, 1 },
      { CLIENT, P_, 1, "AAAA", -1, 1 }, { CLIENT, P_, 9, "CCCC", -1, 1 }, { SERVER, A_, 1, NULL, -1, 13 },
      { CLIENT, P_, 13, "DD", -1, 1 } },
    "AAAA[gap 4]CCCCDD", "", "C" },
  { "gap-at-the-end", 1, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 1, "AAAA", -1, 1 }, { CLIENT, P_, 9, "CCCC", -1, 1 } },
    "AAAA[gap 4]CCCC", "", "C" },
  { "gap-before-fin", 1, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { SERVER, S_ | A_, 0, NULL, -1, 1 }, { CLIENT, P_, 1, "AAAA", -1, 1 },
      { CLIENT, F_ | A_, 9, NULL, -1, 1 }, { SERVER, F_ | A_, 1, NULL, -1, 10 }, { CLIENT, A_, 10, NULL, -1, 2 } },
    "AAAA[gap 4]", "", "F" },
  { "snaplen-cut", 1, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 1, "HELLOWORLD", 4, 1 }, { CLIENT, P_, 11, "ok", -1, 1 } },
    "HELL[gap 6]ok", "", "C" },
  { "cut-and-out-of-order", 1, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 11, "ok", -1, 1 }, { CLIENT, P_, 1, "HELLOWORLD", 4, 1 } },
    "HELL[gap 6]ok", "", "C" },
  { "mid-stream-no-syn", 77777, 0, {
      { SERVER, P_, 500, "* 2 EXISTS\r\n", -1, 900 }, { CLIENT, P_, 900, "DONE\r\n", -1, 512 },
      { SERVER, P_, 512, "a OK\r\n", -1, 906 } },
    "DONE\r\n", "* 2 EXISTS\r\na OK\r\n", "C" },
  { "reuse-after-fin", 10, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { SERVER, S_ | A_, 0, NULL, -1, 1 }, { CLIENT, P_, 1, "one", -1, 1 },
      { CLIENT, F_ | A_, 4, NULL, -1, 1 }, { SERVER, F_ | A_, 1, NULL, -1, 5 }, { CLIENT, A_, 5, NULL, -1, 2 },
      { CLIENT, S_, 1000, NULL, -1, 0 }, { CLIENT, P_, 1001, "two", -1, 1 } },
    "one|two", "|", "FC" },
  { "reuse-without-close", 10, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 1, "one", -1, 1 },
      { CLIENT, S_, 5000, NULL, -1, 0 }, { CLIENT, P_, 5001, "two", -1, 1 } },
    "one|two", "|", "UC" },
  { "rst", 10, 0, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 1, "one", -1, 1 }, { CLIENT, P_, 8, "late", -1, 1 },
      { SERVER, R_, 1, NULL, -1, 0 }, { CLIENT, P_, 4, "more", -1, 1 } },
    "one[gap 4]late", "", "R" },
  { "bounded-buffer", 1, 6, {
      { CLIENT, S_, 0, NULL, -1, 0 }, { CLIENT, P_, 1, "AB", -1, 1 },
      { CLIENT, P_, 5, "EF", -1, 1 }, { CLIENT, P_, 7, "GH", -1, 1 }, { CLIENT, P_, 9, "IJ", -1, 1 },
      { CLIENT, P_, 11, "KL", -1, 1 }, { CLIENT, P_, 3, "CD", -1, 1 } },
    "AB[gap 2]EFGHIJKL", "", "C" },
};

typedef struct {
  GString *side[2];
  char     end;
  int      client_side;
} Record;

typedef struct {
  GPtrArray *records;
  gsize      max_seen_buffered;
  PlTcpReassembler *r;
} Collector;

static Record *
record_for (Collector *c,
            PlTcpFlow *flow)
{
  Record *rec = flow->user_data;

  if (rec == NULL)
    {
      rec = g_new0 (Record, 1);
      rec->side[0] = g_string_new (NULL);
      rec->side[1] = g_string_new (NULL);
      rec->end = '?';
      rec->client_side = flow->port[0] == 40000 ? 0 : 1;
      g_ptr_array_add (c->records, rec);
      flow->user_data = rec;
    }
  return rec;
}

static void
on_data (PlTcpFlow    *flow,
         guint         side,
         const guint8 *data,
         gsize         len,
         double        time,
         gpointer      user_data)
{
  Collector *c = user_data;
  Record *rec = record_for (c, flow);

  g_string_append_len (rec->side[side], (const char *) data, (gssize) len);
  c->max_seen_buffered = MAX (c->max_seen_buffered, pl_tcp_reassembler_get_buffered (c->r));
}

static void
on_gap (PlTcpFlow *flow,
        guint      side,
        guint64    missing,
        double     time,
        gpointer   user_data)
{
  Record *rec = record_for (user_data, flow);

  g_string_append_printf (rec->side[side], "[gap %" G_GUINT64_FORMAT "]", missing);
}

static void
on_closed (PlTcpFlow *flow,
           PlTcpEnd   how,
           double     time,
           gpointer   user_data)
{
  Record *rec = record_for (user_data, flow);
  static const char letters[] = { [PL_TCP_END_FIN] = 'F', [PL_TCP_END_RST] = 'R', [PL_TCP_END_IDLE] = 'I',
                                  [PL_TCP_END_EVICTED] = 'E', [PL_TCP_END_REUSED] = 'U', [PL_TCP_END_CAPTURE] = 'C' };

  rec->end = letters[how];
  flow->user_data = NULL;
}

static void
record_free (gpointer p)
{
  Record *rec = p;

  g_string_free (rec->side[0], TRUE);
  g_string_free (rec->side[1], TRUE);
  g_free (rec);
}

static void
fill_segment (const Case   *tc,
              const Seg    *seg,
              PlTcpSegment *out)
{
  static const guint8 client_addr[4] = { 10, 0, 0, 1 };
  static const guint8 server_addr[4] = { 10, 0, 0, 2 };
  gsize len = seg->data != NULL ? strlen (seg->data) : 0;

  memset (out, 0, sizeof *out);
  out->family = 4;
  memcpy (out->src, seg->from == CLIENT ? client_addr : server_addr, 4);
  memcpy (out->dst, seg->from == CLIENT ? server_addr : client_addr, 4);
  out->src_port = seg->from == CLIENT ? 40000 : 110;
  out->dst_port = seg->from == CLIENT ? 110 : 40000;
  out->flags = seg->flags;
  out->seq = tc->isn + seg->seq;
  out->ack = tc->isn + seg->ack;
  out->payload = (const guint8 *) seg->data;
  out->payload_len = (guint32) len;
  out->captured_len = seg->captured < 0 ? (guint32) len : (guint32) seg->captured;
}

static void
test_case (gconstpointer data)
{
  const Case *tc = data;
  Collector c = { g_ptr_array_new_with_free_func (record_free), 0, NULL };
  PlTcpCallbacks callbacks = { on_data, on_gap, on_closed };
  g_autoptr(PlTcpReassembler) r = pl_tcp_reassembler_new (&callbacks, &c);
  g_autoptr(GString) client = g_string_new (NULL);
  g_autoptr(GString) server = g_string_new (NULL);
  g_autoptr(GString) ends = g_string_new (NULL);

  c.r = r;
  if (tc->max_buffered > 0)
    pl_tcp_reassembler_set_limits (r, tc->max_buffered, 100, 3600);
  for (guint i = 0; i < G_N_ELEMENTS (tc->segs) && tc->segs[i].from != 0; i++)
    {
      PlTcpSegment seg;

      fill_segment (tc, &tc->segs[i], &seg);
      pl_tcp_reassembler_add (r, &seg, 1.0 + i);
    }
  pl_tcp_reassembler_finish (r);
  g_assert_cmpuint (pl_tcp_reassembler_get_n_flows (r), ==, 0);
  g_assert_cmpuint (pl_tcp_reassembler_get_buffered (r), ==, 0);
  if (tc->max_buffered > 0)
    g_assert_cmpuint (c.max_seen_buffered, <=, tc->max_buffered);

  for (guint i = 0; i < c.records->len; i++)
    {
      Record *rec = g_ptr_array_index (c.records, i);

      if (i > 0)
        {
          g_string_append_c (client, '|');
          g_string_append_c (server, '|');
        }
      g_string_append (client, rec->side[rec->client_side]->str);
      g_string_append (server, rec->side[1 - rec->client_side]->str);
      g_string_append_c (ends, rec->end);
    }
  g_assert_cmpstr (client->str, ==, tc->client);
  g_assert_cmpstr (server->str, ==, tc->server);
  g_assert_cmpstr (ends->str, ==, tc->ends);
  g_ptr_array_unref (c.records);
}

/* More connections than allowed at once: the quietest gives way, and memory stays bounded. */
static void
test_max_flows (void)
{
  Collector c = { g_ptr_array_new_with_free_func (record_free), 0, NULL };
  PlTcpCallbacks callbacks = { on_data, on_gap, on_closed };
  g_autoptr(PlTcpReassembler) r = pl_tcp_reassembler_new (&callbacks, &c);

  c.r = r;
  pl_tcp_reassembler_set_limits (r, 1024, 3, 10);
  for (guint i = 0; i < 10; i++)
    {
      PlTcpSegment seg = { 0 };
      static const guint8 a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };

      seg.family = 4;
      memcpy (seg.src, a, 4);
      memcpy (seg.dst, b, 4);
      seg.src_port = (guint16) (40000 + i);
      seg.dst_port = 25;
      seg.flags = P_;
      seg.seq = 1;
      seg.payload = (const guint8 *) "HELO x\r\n";
      seg.payload_len = seg.captured_len = 8;
      pl_tcp_reassembler_add (r, &seg, 1.0);
      g_assert_cmpuint (pl_tcp_reassembler_get_n_flows (r), <=, 3);
    }
  g_assert_cmpuint (c.records->len, ==, 10);
  g_assert_cmpint (((Record *) g_ptr_array_index (c.records, 0))->end, ==, 'E');
  pl_tcp_reassembler_finish (r);
  g_ptr_array_unref (c.records);
}

/* A connection silent for longer than the idle timeout (in capture time) ends. */
static void
test_idle (void)
{
  Collector c = { g_ptr_array_new_with_free_func (record_free), 0, NULL };
  PlTcpCallbacks callbacks = { on_data, on_gap, on_closed };
  g_autoptr(PlTcpReassembler) r = pl_tcp_reassembler_new (&callbacks, &c);
  static const guint8 a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
  PlTcpSegment seg = { 0 };

  c.r = r;
  pl_tcp_reassembler_set_limits (r, 1024, 100, 60);
  seg.family = 4;
  memcpy (seg.src, a, 4);
  memcpy (seg.dst, b, 4);
  seg.src_port = 40000;
  seg.dst_port = 25;
  seg.flags = P_;
  seg.seq = 1;
  seg.payload = (const guint8 *) "HELO x\r\n";
  seg.payload_len = seg.captured_len = 8;
  pl_tcp_reassembler_add (r, &seg, 100.0);
  seg.src_port = 40001;
  pl_tcp_reassembler_add (r, &seg, 1000.0);
  g_assert_cmpuint (c.records->len, ==, 2);
  g_assert_cmpint (((Record *) g_ptr_array_index (c.records, 0))->end, ==, 'I');
  g_assert_cmpint (((Record *) g_ptr_array_index (c.records, 1))->end, ==, '?');
  pl_tcp_reassembler_finish (r);
  g_ptr_array_unref (c.records);
}

/* Endpoints as sessions name them: what g_inet_address_to_string() gives, and the port. */
typedef struct {
  guint8       family;
  guint8       address[16];
  guint16      port;
  const char  *text;
} EndpointCase;

static const EndpointCase endpoint_cases[] = {
  { 4, { 127, 0, 0, 1 }, 25, "127.0.0.1:25" },
  { 4, { 0, 0, 0, 0 }, 0, "0.0.0.0:0" },
  { 4, { 255, 255, 255, 255 }, 65535, "255.255.255.255:65535" },
  { 4, { 192, 0, 2, 10 }, 40312, "192.0.2.10:40312" },
  { 4, { 10, 100, 9, 199 }, 110, "10.100.9.199:110" },
  { 6, { [15] = 1 }, 993, "[::1]:993" },
  { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 }, 587, "[2001:db8::10]:587" },
  { 6, { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 }, 143, "[::ffff:192.0.2.1]:143" },
};

static void
test_endpoints (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (endpoint_cases); i++)
    {
      const EndpointCase *ec = &endpoint_cases[i];
      g_autofree char *text = pl_endpoint_to_string (ec->family, ec->address, ec->port);
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_bytes (ec->address, ec->family == 6 ? G_SOCKET_FAMILY_IPV6
                                                                                                 : G_SOCKET_FAMILY_IPV4);
      g_autofree char *glib = g_inet_address_to_string (inet);
      g_autofree char *want = ec->family == 6 ? g_strdup_printf ("[%s]:%u", glib, ec->port)
                                              : g_strdup_printf ("%s:%u", glib, ec->port);

      g_assert_cmpstr (text, ==, ec->text);
      g_assert_cmpstr (text, ==, want);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/trace/reassembly/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/trace/reassembly/max-flows", test_max_flows);
  g_test_add_func ("/trace/reassembly/idle", test_idle);
  g_test_add_func ("/trace/packet/endpoints", test_endpoints);
  return g_test_run ();
}
