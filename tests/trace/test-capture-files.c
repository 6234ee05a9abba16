/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Capture files made here, good and bad: link types, pcapng, detection, sides, and damage named by offset. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "pl-pcap-source.h"
#include "pl-trace-error.h"
#include "pl-tracer.h"

/* Link types (DLT_ values). */
enum { LT_NULL = 0, LT_EN10MB = 1, LT_RAW = 12, LT_SLL = 113, LT_SLL2 = 276, LT_USER0 = 147 };

typedef struct {
  GByteArray *file;
  int         link;
  gboolean    vlan;
  gboolean    ipv6;
  guint16     client_port;
  guint16     server_port;
  guint32     seq[2];       /* 0 client, 1 server */
  double      t;
  gsize       snaplen;      /* 0: whole packets */
  guint8      tcp_doff;     /* 0: 5 */
} Cap;

static void
put16 (GByteArray *b, guint16 v)
{
  guint8 x[2] = { v >> 8, v & 0xff };
  g_byte_array_append (b, x, 2);
}

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };
  g_byte_array_append (b, x, 4);
}

static void
put32le (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (b, x, 4);
}

static void
cap_init (Cap *c, int link, guint16 server_port)
{
  memset (c, 0, sizeof *c);
  c->file = g_byte_array_new ();
  c->link = link;
  c->client_port = 40312;
  c->server_port = server_port;
  c->seq[0] = 1000;
  c->seq[1] = 0xfffffff0;   /* the server's numbers wrap around */
  c->t = 1700000000.0;
  /* pcap file header, little endian, microseconds (pcap-savefile(5)). */
  put32le (c->file, 0xa1b2c3d4);
  g_byte_array_append (c->file, (const guint8 *) "\x02\x00\x04\x00", 4);
  put32le (c->file, 0);
  put32le (c->file, 0);
  put32le (c->file, 262144);
  put32le (c->file, (guint32) link);
}

static GByteArray *
frame (Cap *c, gboolean from_client, guint8 flags, const char *payload, gsize plen)
{
  GByteArray *f = g_byte_array_new ();
  GByteArray *tcp = g_byte_array_new ();
  guint8 doff = c->tcp_doff != 0 ? c->tcp_doff : 5;
  guint32 *seq = &c->seq[from_client ? 0 : 1];
  guint32 ack = c->seq[from_client ? 1 : 0];
  guint16 sport = from_client ? c->client_port : c->server_port;
  guint16 dport = from_client ? c->server_port : c->client_port;
  guint8 a4[2][4] = { { 192, 0, 2, 1 }, { 192, 0, 2, 25 } };
  guint8 a6[2][16] = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x25 } };
  const guint8 *src = c->ipv6 ? a6[from_client ? 0 : 1] : a4[from_client ? 0 : 1];
  const guint8 *dst = c->ipv6 ? a6[from_client ? 1 : 0] : a4[from_client ? 1 : 0];
  guint16 ethertype = c->ipv6 ? 0x86dd : 0x0800;

  put16 (tcp, sport);
  put16 (tcp, dport);
  put32 (tcp, *seq);
  put32 (tcp, (flags & 0x10) ? ack : 0);
  g_byte_array_append (tcp, (guint8[]) { (guint8) (MAX (doff, 5) << 4), flags }, 2);
  put16 (tcp, 65535);
  put32 (tcp, 0);
  tcp->data[12] = (guint8) (doff << 4);
  g_byte_array_append (tcp, (const guint8 *) payload, (guint) plen);
  *seq += (guint32) plen + ((flags & 0x03) ? 1 : 0);

  switch (c->link)
    {
    case LT_EN10MB:
      g_byte_array_append (f, (const guint8 *) "\x00\x11\x22\x33\x44\x55\x00\x11\x22\x33\x44\x66", 12);
      if (c->vlan)
        {
          put16 (f, 0x8100);
          put16 (f, 42);
        }
      put16 (f, ethertype);
      break;
    case LT_SLL:
      g_byte_array_append (f, (const guint8 *) "\x00\x00\x03\x04\x00\x06\x00\x11\x22\x33\x44\x55\x00\x00", 14);
      if (c->vlan)
        {
          /* As libpcap writes a tagged packet of `-i any`: the tag after the cooked header. */
          put16 (f, 0x8100);
          put16 (f, 42);
        }
      put16 (f, ethertype);
      break;
    case LT_SLL2:
      put16 (f, ethertype);
      g_byte_array_append (f, (const guint8 *) "\x00\x00\x00\x00\x00\x01\x03\x04\x00\x06\x00\x11\x22\x33\x44\x55\x00\x00", 18);
      break;
    case LT_NULL:
      put32le (f, c->ipv6 ? 10 : 2);
      break;
    default:
      break;
    }
  if (c->ipv6)
    {
      put32 (f, 0x60000000);
      put16 (f, (guint16) tcp->len);
      g_byte_array_append (f, (const guint8 *) "\x06\x40", 2);
      g_byte_array_append (f, src, 16);
      g_byte_array_append (f, dst, 16);
    }
  else
    {
      g_byte_array_append (f, (const guint8 *) "\x45\x00", 2);
      put16 (f, (guint16) (20 + tcp->len));
      g_byte_array_append (f, (const guint8 *) "\x00\x01\x40\x00\x40\x06\x00\x00", 8);
      g_byte_array_append (f, src, 4);
      g_byte_array_append (f, dst, 4);
    }
  g_byte_array_append (f, tcp->data, tcp->len);
  g_byte_array_unref (tcp);
  return f;
}

static void
send_packet (Cap *c, gboolean from_client, guint8 flags, const char *payload)
{
  gsize plen = payload != NULL ? strlen (payload) : 0;
  GByteArray *f = frame (c, from_client, flags, payload, plen);
  guint32 caplen = c->snaplen > 0 ? (guint32) MIN (c->snaplen, f->len) : f->len;

  c->t += 0.001;
  put32le (c->file, (guint32) c->t);
  put32le (c->file, (guint32) ((c->t - (guint32) c->t) * 1e6));
  put32le (c->file, caplen);
  put32le (c->file, f->len);
  g_byte_array_append (c->file, f->data, caplen);
  g_byte_array_unref (f);
}

#define SYN 0x02
#define ACK 0x10
#define PSH_ACK 0x18
#define FIN_ACK 0x11

static void
handshake (Cap *c)
{
  send_packet (c, TRUE, SYN, NULL);
  send_packet (c, FALSE, SYN | ACK, NULL);
  send_packet (c, TRUE, ACK, NULL);
}

static void
closing (Cap *c)
{
  send_packet (c, TRUE, FIN_ACK, NULL);
  send_packet (c, FALSE, FIN_ACK, NULL);
  send_packet (c, TRUE, ACK, NULL);
}

/* The textbook's POP3 session, the +OK of RETR and its body in separate segments. */
static void
pop3_session (Cap *c, gboolean with_handshake)
{
  if (with_handshake)
    {
      handshake (c);
      send_packet (c, FALSE, PSH_ACK, "+OK POP3 server ready\r\n");
    }
  send_packet (c, TRUE, PSH_ACK, "user bob\r\n");
  send_packet (c, FALSE, PSH_ACK, "+OK\r\n");
  send_packet (c, TRUE, PSH_ACK, "pass hungry\r\n");
  send_packet (c, FALSE, PSH_ACK, "+OK user successfully logged on\r\n");
  send_packet (c, TRUE, PSH_ACK, "retr 1\r\n");
  send_packet (c, FALSE, PSH_ACK, "+OK\r\n");
  send_packet (c, FALSE, PSH_ACK, "From: alice@crepes.fr\r\n\r\n..a line with a dot\r\n.\r\n");
  send_packet (c, TRUE, PSH_ACK, "quit\r\n");
  send_packet (c, FALSE, PSH_ACK, "+OK POP3 server signing off\r\n");
  closing (c);
}

typedef struct {
  PlTrace  *trace;
  GError   *error;
  guint     warnings;
  char     *last_warning;
} Run;

static void
on_warning (const GError *warning, gpointer user_data)
{
  Run *run = user_data;

  run->warnings++;
  g_free (run->last_warning);
  run->last_warning = g_strdup (warning->message);
}

static Run
trace_bytes (const guint8 *data, gsize len)
{
  Run run = { pl_trace_new (TRUE), NULL, 0, NULL };
  g_autoptr(PlPcapSource) source = pl_pcap_source_open_bytes (data, len, "test.pcap", &run.error);
  PlTracer *tracer;

  if (source == NULL)
    return run;
  tracer = pl_tracer_new (run.trace);
  pl_tracer_set_name (tracer, "test.pcap");
  pl_tracer_set_warning_func (tracer, on_warning, &run);
  pl_tracer_run (tracer, source, &run.error);
  pl_tracer_free (tracer);
  return run;
}

static void
run_clear (Run *run)
{
  g_clear_object (&run->trace);
  g_clear_error (&run->error);
  g_clear_pointer (&run->last_warning, g_free);
}

/* The events of @trace as "C:USER" "S:+OK" ... joined by spaces (notes left out). */
static char *
outline (PlTrace *trace)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < pl_trace_get_n_events (trace); i++)
    {
      PlEvent *e = pl_trace_get_event (trace, i);

      if (e->kind == PL_EVENT_NOTE)
        continue;
      if (s->len > 0)
        g_string_append_c (s, ' ');
      g_string_append_printf (s, "%c:%s", (char) e->dir,
                              e->verb != NULL ? e->verb : e->status != NULL ? e->status : pl_event_kind_to_string (e->kind));
    }
  return g_string_free (s, FALSE);
}

static PlEvent *
find_event (PlTrace *trace, const char *verb_or_status, guint nth)
{
  for (guint i = 0; i < pl_trace_get_n_events (trace); i++)
    {
      PlEvent *e = pl_trace_get_event (trace, i);
      if (g_strcmp0 (e->verb, verb_or_status) == 0 || g_strcmp0 (e->status, verb_or_status) == 0)
        if (nth-- == 0)
          return e;
    }
  return NULL;
}

typedef struct {
  const char *name;
  int         link;
  gboolean    vlan;
  gboolean    ipv6;
} LinkCase;

static const LinkCase link_cases[] = {
  { "/trace/capture/link/ethernet", LT_EN10MB, FALSE, FALSE },
  { "/trace/capture/link/ethernet-vlan", LT_EN10MB, TRUE, FALSE },
  { "/trace/capture/link/ethernet-ipv6", LT_EN10MB, FALSE, TRUE },
  { "/trace/capture/link/sll", LT_SLL, FALSE, FALSE },
  { "/trace/capture/link/sll-vlan", LT_SLL, TRUE, FALSE },
  { "/trace/capture/link/sll2-ipv6", LT_SLL2, FALSE, TRUE },
  { "/trace/capture/link/null", LT_NULL, FALSE, FALSE },
  { "/trace/capture/link/raw", LT_RAW, FALSE, FALSE },
  { "/trace/capture/link/raw-ipv6", LT_RAW, FALSE, TRUE },
};

static const char *textbook_outline = "S:+OK C:USER S:+OK C:PASS S:+OK C:RETR S:+OK C:QUIT S:+OK";

static void
test_link (gconstpointer data)
{
  const LinkCase *lc = data;
  Cap c;
  Run run;
  g_autofree char *got = NULL;
  PlSession *session;
  PlEvent *retr;

  cap_init (&c, lc->link, 110);
  c.vlan = lc->vlan;
  c.ipv6 = lc->ipv6;
  pop3_session (&c, TRUE);
  run = trace_bytes (c.file->data, c.file->len);
  g_assert_no_error (run.error);
  g_assert_cmpuint (pl_trace_get_n_sessions (run.trace), ==, 1);
  session = pl_trace_get_session (run.trace, 1);
  g_assert_cmpint (session->protocol, ==, PL_PROTOCOL_POP3);
  g_assert_cmpstr (session->client, ==, lc->ipv6 ? "[2001:db8::1]:40312" : "192.0.2.1:40312");
  g_assert_cmpstr (session->server, ==, lc->ipv6 ? "[2001:db8::25]:110" : "192.0.2.25:110");
  g_assert_false (pl_session_is_open (session));
  got = outline (run.trace);
  g_assert_cmpstr (got, ==, textbook_outline);
  /* One event for +OK and its body, though they came in two segments; shown un-dot-stuffed. */
  retr = find_event (run.trace, "+OK", 3);
  g_assert_nonnull (retr);
  g_assert_cmpstr (retr->text, ==, "+OK\nFrom: alice@crepes.fr\n\n.a line with a dot\n.");
  run_clear (&run);
  g_byte_array_unref (c.file);
}

/* pcapng with one interface: SHB, IDB, an EPB per packet (pcapng spec, sections 4.1, 4.2, 4.3). */
static GByteArray *
pcap_to_pcapng (const GByteArray *pcap, int link)
{
  GByteArray *ng = g_byte_array_new ();
  gsize at = 24;

  put32le (ng, 0x0a0d0d0a); put32le (ng, 28); put32le (ng, 0x1a2b3c4d);
  put32le (ng, 0x00000001); put32le (ng, 0xffffffff); put32le (ng, 0xffffffff); put32le (ng, 28);
  put32le (ng, 1); put32le (ng, 20); put32le (ng, (guint32) link); put32le (ng, 262144); put32le (ng, 20);
  while (at + 16 <= pcap->len)
    {
      const guint8 *h = pcap->data + at;
      guint32 sec = h[0] | h[1] << 8 | h[2] << 16 | (guint32) h[3] << 24;
      guint32 usec = h[4] | h[5] << 8 | h[6] << 16 | (guint32) h[7] << 24;
      guint32 caplen = h[8] | h[9] << 8 | h[10] << 16 | (guint32) h[11] << 24;
      guint32 len = h[12] | h[13] << 8 | h[14] << 16 | (guint32) h[15] << 24;
      guint32 padded = (caplen + 3) & ~3u;
      guint64 ts = (guint64) sec * 1000000 + usec;

      put32le (ng, 6); put32le (ng, 32 + padded); put32le (ng, 0);
      put32le (ng, (guint32) (ts >> 32)); put32le (ng, (guint32) ts);
      put32le (ng, caplen); put32le (ng, len);
      g_byte_array_append (ng, h + 16, caplen);
      for (guint32 i = caplen; i < padded; i++)
        g_byte_array_append (ng, (const guint8 *) "", 1);
      put32le (ng, 32 + padded);
      at += 16 + caplen;
    }
  return ng;
}

static void
test_pcapng (void)
{
  Cap c;
  GByteArray *ng;
  Run run;
  g_autofree char *got = NULL;

  cap_init (&c, LT_EN10MB, 110);
  pop3_session (&c, TRUE);
  ng = pcap_to_pcapng (c.file, LT_EN10MB);
  run = trace_bytes (ng->data, ng->len);
  g_assert_no_error (run.error);
  got = outline (run.trace);
  g_assert_cmpstr (got, ==, textbook_outline);
  run_clear (&run);
  g_byte_array_unref (ng);
  g_byte_array_unref (c.file);
}

/* A POP3 server on port 8110 is still POP3: the greeting says so. */
static void
test_port_8110 (void)
{
  Cap c;
  Run run;
  g_autofree char *got = NULL;

  cap_init (&c, LT_EN10MB, 8110);
  pop3_session (&c, TRUE);
  run = trace_bytes (c.file->data, c.file->len);
  g_assert_no_error (run.error);
  g_assert_cmpint (pl_trace_get_session (run.trace, 1)->protocol, ==, PL_PROTOCOL_POP3);
  got = outline (run.trace);
  g_assert_cmpstr (got, ==, textbook_outline);
  run_clear (&run);
  g_byte_array_unref (c.file);
}

/* A capture that starts after the greeting (no SYN): the sides still come out right. */
static void
test_mid_session_sides (void)
{
  for (guint port_index = 0; port_index < 2; port_index++)
    {
      guint16 port = port_index == 0 ? 110 : 8110;
      Cap c;
      Run run;
      PlSession *session;
      g_autofree char *got = NULL;

      cap_init (&c, LT_EN10MB, port);
      /* The client's port is the lower one here: ports alone would get it wrong on 8110. */
      c.client_port = 1025;
      pop3_session (&c, FALSE);
      run = trace_bytes (c.file->data, c.file->len);
      g_assert_no_error (run.error);
      session = pl_trace_get_session (run.trace, 1);
      g_assert_nonnull (session);
      g_assert_cmpstr (session->client, ==, "192.0.2.1:1025");
      got = outline (run.trace);
      g_assert_cmpstr (got, ==, "C:USER S:+OK C:PASS S:+OK C:RETR S:+OK C:QUIT S:+OK");
      run_clear (&run);
      g_byte_array_unref (c.file);
    }
}

/* MAIL, RCPT and "BDAT n LAST" pipelined in one segment: three commands and a body. */
static void
test_pipelined_bdat (void)
{
  Cap c;
  Run run;
  g_autofree char *got = NULL;
  PlEvent *body;

  cap_init (&c, LT_EN10MB, 25);
  handshake (&c);
  send_packet (&c, FALSE, PSH_ACK, "220 mx.b.example ESMTP\r\n");
  send_packet (&c, TRUE, PSH_ACK, "EHLO a.example\r\n");
  send_packet (&c, FALSE, PSH_ACK, "250-mx.b.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
  send_packet (&c, TRUE, PSH_ACK, "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nBDAT 20 LAST\r\n"
                                  "Subject: hi\r\n\r\nbye\r\n");
  send_packet (&c, FALSE, PSH_ACK, "250 ok\r\n250 ok\r\n250 queued\r\n");
  closing (&c);
  run = trace_bytes (c.file->data, c.file->len);
  g_assert_no_error (run.error);
  got = outline (run.trace);
  g_assert_cmpstr (got, ==, "S:220 C:EHLO S:250 C:MAIL C:RCPT C:BDAT C:data S:250 S:250 S:250");
  body = find_event (run.trace, "BDAT", 0);
  g_assert_cmpstr (body->args, ==, "20 LAST");
  run_clear (&run);
  g_byte_array_unref (c.file);
}

/* IMAP LOGIN with unquoted arguments: both shown as sent (tshark 4.0 cuts the password). */
static void
test_login_unquoted (void)
{
  Cap c;
  Run run;
  PlEvent *login;

  cap_init (&c, LT_EN10MB, 143);
  handshake (&c);
  send_packet (&c, FALSE, PSH_ACK, "* OK IMAP4rev1 ready\r\n");
  send_packet (&c, TRUE, PSH_ACK, "a1 LOGIN samir pfres\r\n");
  send_packet (&c, FALSE, PSH_ACK, "a1 OK LOGIN completed\r\n");
  closing (&c);
  run = trace_bytes (c.file->data, c.file->len);
  g_assert_no_error (run.error);
  login = find_event (run.trace, "LOGIN", 0);
  g_assert_nonnull (login);
  g_assert_cmpstr (login->tag, ==, "a1");
  g_assert_cmpstr (login->args, ==, "samir pfres");
  g_assert_cmpstr (login->text, ==, "a1 LOGIN samir pfres");
  run_clear (&run);
  g_byte_array_unref (c.file);
}

/* A snaplen of 96: every segment cut; gaps noted, nothing invented. */
static void
test_snaplen (void)
{
  Cap c;
  Run run;
  guint gaps = 0;

  cap_init (&c, LT_EN10MB, 110);
  c.snaplen = 70;
  pop3_session (&c, TRUE);
  run = trace_bytes (c.file->data, c.file->len);
  g_assert_no_error (run.error);
  for (guint i = 0; i < pl_trace_get_n_events (run.trace); i++)
    {
      PlEvent *e = pl_trace_get_event (run.trace, i);
      if (e->kind == PL_EVENT_NOTE && g_str_has_prefix (e->text, "missing "))
        gaps++;
    }
  g_assert_cmpuint (gaps, >, 0);
  run_clear (&run);
  g_byte_array_unref (c.file);
}

typedef enum {
  BAD_EMPTY,
  BAD_TEXT,
  BAD_TRUNCATED,
  BAD_HUGE_RECORD,
  BAD_CAPLEN_OVER_LEN,
  BAD_LINK_TYPE,
  BAD_TCP_HEADER,
} BadKind;

typedef struct {
  const char *name;
  BadKind     kind;
  int         code;          /* the GError code, or -1 for a warning only */
  const char *offset;        /* "offset N" that the message must name */
  guint       min_events;    /* traced before the damage */
} BadCase;

/* Offsets in the good file: header 24; each record of the handshake is 16 + 54 octets. */
static const BadCase bad_cases[] = {
  { "/trace/capture/bad/empty", BAD_EMPTY, PL_TRACE_ERROR_FORMAT, "offset 0", 0 },
  { "/trace/capture/bad/text", BAD_TEXT, PL_TRACE_ERROR_FORMAT, "offset 0", 0 },
  { "/trace/capture/bad/truncated-last-record", BAD_TRUNCATED, PL_TRACE_ERROR_TRUNCATED, NULL, 9 },
  { "/trace/capture/bad/record-over-256k", BAD_HUGE_RECORD, PL_TRACE_ERROR_RECORD, "offset 234", 0 },
  { "/trace/capture/bad/caplen-over-len", BAD_CAPLEN_OVER_LEN, PL_TRACE_ERROR_RECORD, "offset 234", 0 },
  { "/trace/capture/bad/unknown-link-type", BAD_LINK_TYPE, PL_TRACE_ERROR_LINK_TYPE, "offset 20", 0 },
  /* The greeting is skipped (a gap): the eight units after it, RETR's reply and body one of them. */
  { "/trace/capture/bad/tcp-header-below-20", BAD_TCP_HEADER, -1, "offset 234", 8 },
};

static void
set_le32 (GByteArray *b, gsize at, guint32 v)
{
  b->data[at] = v & 0xff;
  b->data[at + 1] = (v >> 8) & 0xff;
  b->data[at + 2] = (v >> 16) & 0xff;
  b->data[at + 3] = v >> 24;
}

static void
test_bad (gconstpointer data)
{
  const BadCase *bc = data;
  Cap c;
  Run run;
  guint events = 0;
  g_autofree char *expected_offset = NULL;

  cap_init (&c, bc->kind == BAD_LINK_TYPE ? LT_USER0 : LT_EN10MB, 110);
  pop3_session (&c, TRUE);
  switch (bc->kind)
    {
    case BAD_EMPTY:
      g_byte_array_set_size (c.file, 0);
      break;
    case BAD_TEXT:
      g_byte_array_set_size (c.file, 0);
      g_byte_array_append (c.file, (const guint8 *) "Hello, this is not a capture.\n", 30);
      break;
    case BAD_TRUNCATED:
      expected_offset = g_strdup_printf ("offset %u", c.file->len - 16 - 54);
      g_byte_array_set_size (c.file, c.file->len - 5);
      break;
    case BAD_HUGE_RECORD:
      /* The fourth record (the greeting) says it holds 300000 octets. */
      set_le32 (c.file, 234 + 8, 300000);
      set_le32 (c.file, 234 + 12, 300000);
      break;
    case BAD_CAPLEN_OVER_LEN:
      set_le32 (c.file, 234 + 12, 20);
      break;
    case BAD_TCP_HEADER:
      /* The greeting's TCP data offset says 4 words: 16 octets, under the minimum of 20. */
      c.file->data[234 + 16 + 14 + 20 + 12] = 4 << 4;
      break;
    case BAD_LINK_TYPE:
    default:
      break;
    }
  run = trace_bytes (c.file->data, c.file->len);
  for (guint i = 0; i < pl_trace_get_n_events (run.trace); i++)
    if (pl_trace_get_event (run.trace, i)->kind != PL_EVENT_NOTE)
      events++;
  if (bc->code >= 0)
    {
      g_assert_error (run.error, PL_TRACE_ERROR, bc->code);
      g_assert_nonnull (strstr (run.error->message, "test.pcap"));
      g_assert_nonnull (strstr (run.error->message, expected_offset != NULL ? expected_offset : bc->offset));
    }
  else
    {
      g_assert_no_error (run.error);
      g_assert_cmpuint (run.warnings, ==, 1);
      g_assert_nonnull (strstr (run.last_warning, "test.pcap"));
      g_assert_nonnull (strstr (run.last_warning, bc->offset));
      g_assert_nonnull (strstr (run.last_warning, "below the minimum of 20"));
    }
  g_assert_cmpuint (events, >=, bc->min_events);
  /* Whatever was read was finished: no session left open. */
  for (guint id = 1; id <= pl_trace_get_n_sessions (run.trace); id++)
    g_assert_false (pl_session_is_open (pl_trace_get_session (run.trace, id)));
  run_clear (&run);
  g_byte_array_unref (c.file);
}

/* Every prefix of a good file: an error or a trace, never a crash (ASan watches). */
static void
test_every_prefix (void)
{
  Cap c;

  cap_init (&c, LT_EN10MB, 25);
  handshake (&c);
  send_packet (&c, FALSE, PSH_ACK, "220 mx ESMTP\r\n");
  send_packet (&c, TRUE, PSH_ACK, "EHLO a\r\n");
  for (gsize len = 0; len <= c.file->len; len++)
    {
      g_autofree guint8 *copy = g_memdup2 (c.file->data, len);
      Run run = trace_bytes (copy, len);

      run_clear (&run);
    }
  g_byte_array_unref (c.file);
}

/*
 * A file cut short while it is read (a capture still being rotated, a
 * disk filling up): the records before the cut come out whole and as
 * written, then a "truncated" error naming the offset of the record the
 * cut is in; never a crash (a reader that mapped the file died of SIGBUS
 * on the pages past the new end). The cut lies far past what any
 * read-ahead holds when the file is cut, after the first records.
 */
#define CUT_RECORDS 24000
#define CUT_AT      20000
#define CUT_CAPLEN  1000

static void
test_truncated_while_read (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-trace-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(PlPcapSource) source = NULL;
  g_autoptr(GByteArray) file = g_byte_array_new ();
  guint8 record[CUT_CAPLEN];
  guint64 cut_offset = 24 + (guint64) CUT_AT * (16 + CUT_CAPLEN);
  guint64 n = 0;
  PlPacket packet;

  g_assert_no_error (error);
  path = g_build_filename (dir, "cut.pcap", NULL);
  put32le (file, 0xa1b2c3d4);
  g_byte_array_append (file, (const guint8 *) "\x02\x00\x04\x00", 4);
  put32le (file, 0);
  put32le (file, 0);
  put32le (file, 262144);
  put32le (file, LT_EN10MB);
  for (guint32 i = 0; i < CUT_RECORDS; i++)
    {
      put32le (file, 1700000000 + i);
      put32le (file, 0);
      put32le (file, CUT_CAPLEN);
      put32le (file, CUT_CAPLEN);
      memset (record, (int) (i % 251), sizeof record);
      memcpy (record, &i, sizeof i);
      g_byte_array_append (file, record, sizeof record);
    }
  g_assert_true (g_file_set_contents (path, (const char *) file->data, file->len, &error));
  g_assert_no_error (error);

  source = pl_pcap_source_open_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (source);
  while (n < 3 && pl_pcap_source_next (source, &packet, &error))
    n++;
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 3);
  /* Cut inside record CUT_AT, after its header and part of its octets. */
  g_assert_cmpint (truncate (path, (off_t) (cut_offset + 16 + 100)), ==, 0);
  for (;;)
    {
      guint32 id;

      if (!pl_pcap_source_next (source, &packet, &error))
        break;
      g_assert_cmpuint (packet.caplen, ==, CUT_CAPLEN);
      memcpy (&id, packet.data, sizeof id);
      g_assert_cmpuint (id, ==, n);
      g_assert_cmpuint (packet.data[CUT_CAPLEN - 1], ==, n % 251);
      g_assert_cmpuint (packet.offset, ==, 24 + n * (16 + CUT_CAPLEN));
      n++;
    }
  g_assert_cmpuint (n, ==, CUT_AT);
  g_assert_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_TRUNCATED);
  {
    g_autofree char *offset = g_strdup_printf ("offset %" G_GUINT64_FORMAT ":", cut_offset);

    g_assert_nonnull (strstr (error->message, offset));
  }
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (link_cases); i++)
    g_test_add_data_func (link_cases[i].name, &link_cases[i], test_link);
  g_test_add_func ("/trace/capture/pcapng", test_pcapng);
  g_test_add_func ("/trace/capture/pop3-on-port-8110", test_port_8110);
  g_test_add_func ("/trace/capture/mid-session-sides", test_mid_session_sides);
  g_test_add_func ("/trace/capture/pipelined-bdat", test_pipelined_bdat);
  g_test_add_func ("/trace/capture/imap-login-unquoted", test_login_unquoted);
  g_test_add_func ("/trace/capture/snaplen", test_snaplen);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    g_test_add_data_func (bad_cases[i].name, &bad_cases[i], test_bad);
  g_test_add_func ("/trace/capture/every-prefix", test_every_prefix);
  g_test_add_func ("/trace/capture/truncated-while-read", test_truncated_while_read);
  return g_test_run ();
}
