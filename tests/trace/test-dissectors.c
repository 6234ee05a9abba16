/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the SMTP, POP3, IMAP and HTTP dissectors on byte streams, split at every position. */
#include <string.h>

#include <glib.h>

#include "pl-dissector.h"
#include "pl-sanitizer.h"

typedef struct {
  char        dir;      /* 'C', 'S', or 'G' for a gap of client octets ('g' for server) */
  const char *bytes;    /* for a gap: the number of octets, as text */
  gsize       len;      /* 0: strlen (bytes) */
} Chunk;

typedef struct {
  const char *name;
  PlProtocol  protocol;
  gboolean    implicit_tls;
  Chunk       chunks[24];
  /* One line per event: "C command VERB", "S reply STATUS", "C data", "- note"; IMAP adds the tag. */
  const char *events[32];
  /* Texts some events must have, by index into events: "3=text" (whole text) */
  const char *texts[4];
} Case;

#define TLS_HELLO "\x16\x03\x01\x00\x05\x01" "ello"
#define TLS_SERVER "\x16\x03\x03\x00\x02hi\x17\x03\x03\x00\x03xyz"

static const Case cases[] = {
  { "/trace/smtp/pipelining-bdat", PL_PROTOCOL_SMTP, FALSE,
    { { 'S', "220 mx.b.example ESMTP\r\n" }, { 'C', "EHLO a.example\r\n" },
      { 'S', "250-mx.b.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n" },
      { 'C', "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nBDAT 12 LAST\r\nHello world!" },
      { 'S', "250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n" }, { 'C', "QUIT\r\n" }, { 'S', "221 bye\r\n" } },
    { "S reply 220", "C command EHLO", "S reply 250", "C command MAIL", "C command RCPT", "C command BDAT",
      "C data", "S reply 250", "S reply 250", "S reply 250", "C command QUIT", "S reply 221", NULL },
    { "6=Hello world!", "5=BDAT 12 LAST" } },
  { "/trace/smtp/data-unstuffed", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "DATA\r\n" }, { 'S', "354 go ahead\r\n" },
      { 'C', "Subject: dots\r\n\r\n..leading dot\r\n...two\r\n.\r\n" }, { 'S', "250 ok\r\n" } },
    { "C command DATA", "S reply 354", "C data", "S reply 250", NULL },
    { "2=Subject: dots\n\n.leading dot\n..two\n." } },
  /* RFC 2920 3.1: commands may follow the "." at once; its reply comes first, then theirs. */
  { "/trace/smtp/second-message-pipelined", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "DATA\r\n" }, { 'S', "354 go\r\n" },
      { 'C', "One\r\n.\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n" },
      { 'S', "250 queued 1\r\n250 ok\r\n250 ok\r\n354 go\r\n" }, { 'C', "Two\r\n.\r\n" },
      { 'S', "250 queued 2\r\n" }, { 'C', "QUIT\r\n" } },
    { "C command DATA", "S reply 354", "C data", "C command MAIL", "C command RCPT", "C command DATA",
      "S reply 250", "S reply 250", "S reply 250", "S reply 354", "C data", "S reply 250", "C command QUIT", NULL },
    { "2=One\n.", "10=Two\n.", "11=250 queued 2" } },
  { "/trace/smtp/data-refused", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "DATA\r\n" }, { 'S', "554 no valid recipients\r\n" }, { 'C', "QUIT\r\n" }, { 'S', "221 bye\r\n" } },
    { "C command DATA", "S reply 554", "C command QUIT", "S reply 221", NULL } },
  { "/trace/smtp/auth-login", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "AUTH LOGIN\r\n" }, { 'S', "334 VXNlcm5hbWU6\r\n" }, { 'C', "Ym9i\r\n" },
      { 'S', "334 UGFzc3dvcmQ6\r\n" }, { 'C', "aHVuZ3J5\r\n" }, { 'S', "235 ok\r\n" }, { 'C', "NOOP\r\n" } },
    { "C command AUTH", "S reply 334", "C command", "S reply 334", "C command", "S reply 235", "C command NOOP", NULL },
    { "2=Ym9i  (decodes to: \"bob\")", "4=aHVuZ3J5  (decodes to: \"hungry\")" } },
  { "/trace/smtp/starttls", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "STARTTLS\r\n" }, { 'S', "220 ready\r\n" }, { 'C', TLS_HELLO, 10 }, { 'S', TLS_SERVER, 15 } },
    { "C command STARTTLS", "S reply 220", "C data", "S data", "S data", NULL },
    { "2=TLS handshake record (ClientHello), 10 octets" } },
  { "/trace/smtp/starttls-refused", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "STARTTLS\r\n" }, { 'S', "454 not now\r\n" }, { 'C', "QUIT\r\n" } },
    { "C command STARTTLS", "S reply 454", "C command QUIT", NULL } },
  { "/trace/smtp/gap-in-data", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "DATA\r\n" }, { 'S', "354 go\r\n" }, { 'C', "line one\r\nline" }, { 'G', "100" },
      { 'C', "end\r\n.\r\n" }, { 'S', "250 ok\r\n" }, { 'C', "QUIT\r\n" } },
    { "C command DATA", "S reply 354", "C data", "- note", "C data", "S reply 250", "C command QUIT", NULL },
    { "3=missing 100 bytes (client to server)" } },
  { "/trace/smtp/gap-in-bdat-keeps-place", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "BDAT 10 LAST\r\nabc" }, { 'G', "4" }, { 'C', "hijQUIT\r\n" } },
    { "C command BDAT", "C data", "- note", "C data", "C command QUIT", NULL } },
  /* A gap (a snaplen of 96) takes the end of a reply: the replies after it still answer the right commands. */
  { "/trace/smtp/gap-takes-reply-end", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "EHLO a.example\r\n" }, { 'S', "250-mx.b.example\r\n250-STARTT" }, { 'g', "9" },
      { 'C', "STARTTLS\r\n" }, { 'S', "220 Ready to st" }, { 'g', "12" }, { 'C', TLS_HELLO, 10 },
      { 'S', TLS_SERVER, 15 } },
    { "C command EHLO", "S reply 250", "- note", "C command STARTTLS", "S reply 220", "- note", "C data",
      "S data", "S data", NULL },
    { "4=220 Ready to st", "8=TLS application data record (encrypted), 8 octets" } },
  { "/trace/smtp/gap-then-next-reply", PL_PROTOCOL_SMTP, FALSE,
    { { 'C', "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n" }, { 'S', "250 2.1.0 Sender o" }, { 'g', "4" },
      { 'S', "250 2.1.5 Ok\r\n354 go\r\n" }, { 'C', "Hi\r\n.\r\n" }, { 'S', "250 queued\r\n" } },
    { "C command MAIL", "C command RCPT", "C command DATA", "S reply 250", "- note", "S reply 250", "S reply 354",
      "C data", "S reply 250", NULL },
    { "7=Hi\n." } },
  { "/trace/smtp/implicit-tls", PL_PROTOCOL_SMTP, TRUE,
    { { 'C', TLS_HELLO, 10 }, { 'S', TLS_SERVER, 15 } },
    { "C data", "S data", "S data", NULL } },

  { "/trace/pop3/textbook", PL_PROTOCOL_POP3, FALSE,
    { { 'S', "+OK POP3 server ready\r\n" }, { 'C', "user bob\r\n" }, { 'S', "+OK\r\n" }, { 'C', "pass hungry\r\n" },
      { 'S', "+OK user successfully logged on\r\n" }, { 'C', "list\r\n" }, { 'S', "+OK\r\n1 498\r\n2 912\r\n.\r\n" },
      { 'C', "retr 1\r\n" }, { 'S', "+OK\r\n" }, { 'S', "Subject: hi\r\n\r\n..dot\r\n" }, { 'S', ".\r\n" },
      { 'C', "dele 1\r\n" }, { 'S', "+OK\r\n" }, { 'C', "quit\r\n" }, { 'S', "+OK POP3 server signing off\r\n" } },
    { "S reply +OK", "C command USER", "S reply +OK", "C command PASS", "S reply +OK", "C command LIST",
      "S reply +OK", "C command RETR", "S reply +OK", "C command DELE", "S reply +OK", "C command QUIT",
      "S reply +OK", NULL },
    { "8=+OK\nSubject: hi\n\n.dot\n.", "6=+OK\n1 498\n2 912\n." } },
  { "/trace/pop3/err-has-no-body", PL_PROTOCOL_POP3, FALSE,
    { { 'C', "RETR 9\r\n" }, { 'S', "-ERR no such message\r\n" }, { 'C', "STAT\r\n" }, { 'S', "+OK 2 320\r\n" } },
    { "C command RETR", "S reply -ERR", "C command STAT", "S reply +OK", NULL } },
  { "/trace/pop3/mid-session-body", PL_PROTOCOL_POP3, FALSE,
    { { 'S', "+OK 2 messages\r\n1 498\r\n2 912\r\n.\r\n" }, { 'S', "+OK\r\n" }, { 'C', "STAT\r\n" },
      { 'S', "+OK 2 1410\r\n" } },
    { "S reply +OK", "S reply +OK", "C command STAT", "S reply +OK", NULL } },
  { "/trace/pop3/mid-body-start", PL_PROTOCOL_POP3, FALSE,
    { { 'S', "rest of a message\r\n..dotted\r\n.\r\n" }, { 'C', "QUIT\r\n" }, { 'S', "+OK bye\r\n" } },
    { "S reply", "C command QUIT", "S reply +OK", NULL } },
  { "/trace/pop3/stls", PL_PROTOCOL_POP3, FALSE,
    { { 'C', "STLS\r\n" }, { 'S', "+OK begin TLS\r\n" }, { 'C', TLS_HELLO, 10 }, { 'S', TLS_SERVER, 15 } },
    { "C command STLS", "S reply +OK", "C data", "S data", "S data", NULL } },
  { "/trace/pop3/gap-in-body", PL_PROTOCOL_POP3, FALSE,
    { { 'C', "RETR 1\r\n" }, { 'S', "+OK\r\nline\r\n" }, { 'g', "1448" }, { 'S', "more\r\n.\r\n" }, { 'C', "QUIT\r\n" } },
    { "C command RETR", "S reply +OK", "- note", "S reply", "C command QUIT", NULL } },

  /* captures/pop3-snaplen96.pcap: each reply's first 30 octets, then a gap. */
  { "/trace/pop3/gap-takes-reply-end", PL_PROTOCOL_POP3, FALSE,
    { { 'S', "+OK ready\r\n" }, { 'C', "PASS hungry\r\n" }, { 'S', "+OK logged o" }, { 'g', "5" },
      { 'C', "LIST\r\n" }, { 'S', "+OK 2 messages\r\n" }, { 'g', "17" }, { 'C', "RETR 1\r\n" },
      { 'S', "+OK 498 octets\r\nDate: Mon, 14 " }, { 'g', "487" }, { 'C', "QUIT\r\n" }, { 'S', "+OK bye\r\n" } },
    { "S reply +OK", "C command PASS", "S reply +OK", "- note", "C command LIST", "S reply +OK", "- note",
      "C command RETR", "S reply +OK", "- note", "C command QUIT", "S reply +OK", NULL },
    { "8=+OK 498 octets\nDate: Mon, 14 ", "11=+OK bye" } },
  { "/trace/pop3/gap-cuts-stls-reply", PL_PROTOCOL_POP3, FALSE,
    { { 'C', "STLS\r\n" }, { 'S', "+OK Begin T" }, { 'g', "5" }, { 'C', TLS_HELLO, 10 }, { 'S', TLS_SERVER, 15 } },
    { "C command STLS", "S reply +OK", "- note", "C data", "S data", "S data", NULL } },
  /* A body cut by a gap goes on when no later command waits: a "+OK" line in it is text. */
  { "/trace/pop3/gap-in-body-status-text", PL_PROTOCOL_POP3, FALSE,
    { { 'C', "RETR 1\r\n" }, { 'S', "+OK\r\nline\r\n" }, { 'g', "100" }, { 'S', "+OK is text here\r\n.\r\n" },
      { 'C', "QUIT\r\n" }, { 'S', "+OK bye\r\n" } },
    { "C command RETR", "S reply +OK", "- note", "S reply", "C command QUIT", "S reply +OK", NULL } },

  { "/trace/imap/login-unquoted", PL_PROTOCOL_IMAP, FALSE,
    { { 'S', "* OK IMAP4rev1 ready\r\n" }, { 'C', "a1 LOGIN samir pfres\r\n" }, { 'S', "a1 OK LOGIN completed\r\n" } },
    { "S reply * OK", "C command a1 LOGIN", "S reply a1 OK", NULL },
    { "1=a1 LOGIN samir pfres" } },
  { "/trace/imap/sync-literals", PL_PROTOCOL_IMAP, FALSE,
    { { 'C', "a2 LOGIN {3}\r\n" }, { 'S', "+ Ready\r\n" }, { 'C', "bob {6}\r\n" }, { 'S', "+ Ready\r\n" },
      { 'C', "hungry\r\n" }, { 'S', "a2 OK done\r\n" } },
    { "C command a2 LOGIN", "S reply +", "C command a2", "S reply +", "C command a2", "S reply a2 OK", NULL } },
  { "/trace/imap/literal-plus-and-server-literal", PL_PROTOCOL_IMAP, FALSE,
    { { 'C', "a3 APPEND INBOX {8+}\r\nhi\r\nyo\r\n\r\n" }, { 'S', "a3 OK appended\r\n" },
      { 'C', "a4 FETCH 1 BODY[]\r\n" }, { 'S', "* 1 FETCH (BODY[] {4}\r\nhi\r\n)\r\n" }, { 'S', "a4 OK\r\n" } },
    { "C command a3 APPEND", "S reply a3 OK", "C command a4 FETCH", "S reply * FETCH", "S reply a4 OK", NULL } },
  { "/trace/imap/idle", PL_PROTOCOL_IMAP, FALSE,
    { { 'C', "a5 IDLE\r\n" }, { 'S', "+ idling\r\n" }, { 'S', "* 3 EXISTS\r\n" }, { 'C', "DONE\r\n" },
      { 'S', "a5 OK IDLE terminated\r\n" } },
    { "C command a5 IDLE", "S reply +", "S reply * EXISTS", "C command DONE", "S reply a5 OK", NULL } },
  { "/trace/imap/mid-literal-start", PL_PROTOCOL_IMAP, FALSE,
    { { 'S', "end of a message\r\n)\r\n* 2 FETCH (FLAGS (\\Seen))\r\n" }, { 'S', "a9 OK\r\n" } },
    { "S reply", "S reply * FETCH", "S reply a9 OK", NULL } },
  { "/trace/imap/starttls", PL_PROTOCOL_IMAP, FALSE,
    { { 'C', "a0 STARTTLS\r\n" }, { 'S', "a0 OK Begin TLS\r\n" }, { 'C', TLS_HELLO, 10 }, { 'S', TLS_SERVER, 15 } },
    { "C command a0 STARTTLS", "S reply a0 OK", "C data", "S data", "S data", NULL } },

  { "/trace/http/keep-alive", PL_PROTOCOL_HTTP, FALSE,
    { { 'C', "GET /inbox HTTP/1.1\r\nHost: mail.b.example\r\n\r\n" },
      { 'S', "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello" },
      { 'C', "POST /send HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n"
             "{\"to\":\"bob@b.example\",\"subject\":\"hi\"}\r\n" },
      { 'S', "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" },
      { 'C', "HEAD / HTTP/1.1\r\n\r\n" }, { 'S', "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" },
      { 'C', "GET /m/1 HTTP/1.1\r\n\r\n" },
      { 'S', "HTTP/1.1 200 OK\r\nContent-Type: message/rfc822\r\nContent-Length: 4\r\n\r\nX: y" } },
    { "C command GET", "S reply 200", "C command POST", "- note", "S reply 200", "C command HEAD", "S reply 200",
      "C command GET", "S reply 200", "- note", NULL },
    { "1=HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\nhello" } },
  { "/trace/http/until-close", PL_PROTOCOL_HTTP, FALSE,
    { { 'C', "GET / HTTP/1.0\r\n\r\n" }, { 'S', "HTTP/1.0 200 OK\r\n\r\nall " }, { 'S', "of it" } },
    { "C command GET", "S reply 200", NULL } },
};

typedef struct {
  GPtrArray *events;
  guint      encrypted;
} Sink;

static void
on_emit (PlEvent  *event,
         gpointer  user_data)
{
  Sink *sink = user_data;

  g_ptr_array_add (sink->events, pl_event_ref (event));
}

static void
on_encrypted (const char *how,
              gpointer    user_data)
{
  ((Sink *) user_data)->encrypted++;
}

static char *
summary (const PlEvent *e)
{
  GString *s = g_string_new (NULL);

  g_string_append_c (s, e->dir == PL_DIR_NONE ? '-' : (char) e->dir);
  g_string_append_c (s, ' ');
  g_string_append (s, pl_event_kind_to_string (e->kind));
  if (e->tag != NULL)
    g_string_append_printf (s, " %s", e->tag);
  if (e->verb != NULL)
    g_string_append_printf (s, " %s", e->verb);
  if (e->status != NULL)
    g_string_append_printf (s, " %s", e->status);
  return g_string_free (s, FALSE);
}

static gsize
chunk_len (const Chunk *c)
{
  return c->len > 0 ? c->len : strlen (c->bytes);
}

/* Runs @tc, chunk @split_chunk cut at @split_at (G_MAXSIZE: not cut); checks events and octets. */
static void
run_case (const Case *tc,
          guint       split_chunk,
          gsize       split_at)
{
  Sink sink = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref), 0 };
  PlDissectorSink vtable = { on_emit, on_encrypted };
  PlDissector *d = pl_dissector_new (tc->protocol, &vtable, &sink);
  g_autoptr(GString) fed_c = g_string_new (NULL);
  g_autoptr(GString) fed_s = g_string_new (NULL);
  g_autoptr(GString) got_c = g_string_new (NULL);
  g_autoptr(GString) got_s = g_string_new (NULL);
  guint n_expected = 0;

  if (tc->implicit_tls)
    pl_dissector_start_tls (d, "implicit TLS");
  for (guint i = 0; i < G_N_ELEMENTS (tc->chunks) && tc->chunks[i].dir != 0; i++)
    {
      const Chunk *c = &tc->chunks[i];
      gsize len = chunk_len (c);

      if (c->dir == 'G' || c->dir == 'g')
        {
          pl_dissector_gap (d, c->dir == 'G' ? PL_DIR_CLIENT : PL_DIR_SERVER,
                            g_ascii_strtoull (c->bytes, NULL, 10), i);
          g_string_append (c->dir == 'G' ? fed_c : fed_s, "|");
          continue;
        }
      if (i == split_chunk && split_at < len)
        {
          pl_dissector_feed (d, c->dir == 'C' ? PL_DIR_CLIENT : PL_DIR_SERVER, (const guint8 *) c->bytes, split_at, i);
          pl_dissector_feed (d, c->dir == 'C' ? PL_DIR_CLIENT : PL_DIR_SERVER,
                             (const guint8 *) c->bytes + split_at, len - split_at, i + 0.5);
        }
      else
        pl_dissector_feed (d, c->dir == 'C' ? PL_DIR_CLIENT : PL_DIR_SERVER, (const guint8 *) c->bytes, len, i);
      g_string_append_len (c->dir == 'C' ? fed_c : fed_s, c->bytes, (gssize) len);
    }
  pl_dissector_finish (d, 100);

  while (tc->events[n_expected] != NULL)
    n_expected++;
  for (guint i = 0; i < sink.events->len; i++)
    {
      PlEvent *e = g_ptr_array_index (sink.events, i);
      g_autofree char *got = summary (e);
      gsize len;
      const guint8 *data = pl_event_get_data (e, &len);

      if (e->kind == PL_EVENT_NOTE && g_str_has_prefix (e->text, "missing "))
        g_string_append (strstr (e->text, "client to server") != NULL ? got_c : got_s, "|");
      if (data != NULL)
        g_string_append_len (e->dir == PL_DIR_CLIENT ? got_c : got_s, (const char *) data, (gssize) len);
      if (i < n_expected)
        g_assert_cmpstr (got, ==, tc->events[i]);
    }
  g_assert_cmpuint (sink.events->len, ==, n_expected);
  {
    gboolean tls_seen = FALSE;

    for (guint i = 0; i < sink.events->len; i++)
      tls_seen |= g_str_has_prefix (((PlEvent *) g_ptr_array_index (sink.events, i))->text, "TLS ");
    /* The connection is said to be encrypted once, when TLS begins, and only then. */
    g_assert_cmpuint (sink.encrypted, ==, tls_seen ? 1 : 0);
  }
  /* Nothing dropped, nothing invented: each direction's octets, gaps in their place. */
  g_assert_cmpstr (got_c->str, ==, fed_c->str);
  g_assert_cmpstr (got_s->str, ==, fed_s->str);
  for (guint i = 0; i < G_N_ELEMENTS (tc->texts) && tc->texts[i] != NULL; i++)
    {
      guint index = (guint) g_ascii_strtoull (tc->texts[i], NULL, 10);
      const char *text = strchr (tc->texts[i], '=') + 1;

      g_assert_cmpuint (index, <, sink.events->len);
      g_assert_cmpstr (((PlEvent *) g_ptr_array_index (sink.events, index))->text, ==, text);
    }
  pl_dissector_free (d);
  g_ptr_array_unref (sink.events);
}

static void
test_case (gconstpointer data)
{
  const Case *tc = data;

  run_case (tc, G_MAXUINT, G_MAXSIZE);
  /* The same cut in two at every position of every chunk: segments may end anywhere. */
  for (guint i = 0; i < G_N_ELEMENTS (tc->chunks) && tc->chunks[i].dir != 0; i++)
    {
      if (tc->chunks[i].dir != 'C' && tc->chunks[i].dir != 'S')
        continue;
      for (gsize at = 1; at < chunk_len (&tc->chunks[i]); at++)
        run_case (tc, i, at);
    }
}

/* Byte by byte: no per-call assumption about where units end. */
static void
test_byte_by_byte (void)
{
  const char *stream = "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 5 LAST\r\nHELLOQUIT\r\n";
  Sink sink = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref), 0 };
  PlDissectorSink vtable = { on_emit, on_encrypted };
  PlDissector *d = pl_dissector_new (PL_PROTOCOL_SMTP, &vtable, &sink);

  for (gsize i = 0; stream[i] != '\0'; i++)
    pl_dissector_feed (d, PL_DIR_CLIENT, (const guint8 *) stream + i, 1, i);
  pl_dissector_finish (d, 99);
  g_assert_cmpuint (sink.events->len, ==, 5);
  g_assert_cmpstr (((PlEvent *) g_ptr_array_index (sink.events, 3))->text, ==, "HELLO");
  g_assert_cmpstr (((PlEvent *) g_ptr_array_index (sink.events, 4))->verb, ==, "QUIT");
  pl_dissector_free (d);
  g_ptr_array_unref (sink.events);
}

/*
 * Long message bodies are passed over many lines at a time, looking for a
 * line that begins with '.': the stuffed line and the end are found at
 * every place (against the 32-octet steps of the search), whatever dots
 * the prose holds, in one segment or in two.
 */
static void
test_body_dots (void)
{
  for (gsize pad = 0; pad < 100; pad++)
    for (gsize split = 0; split < 3; split++)
      {
        Sink sink = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref), 0 };
        PlDissectorSink vtable = { on_emit, on_encrypted };
        PlDissector *d = pl_dissector_new (PL_PROTOCOL_SMTP, &vtable, &sink);
        g_autoptr(GString) body = g_string_new ("DATA\r\n");
        g_autoptr(GString) want = g_string_new (NULL);
        g_autofree char *prose = g_strnfill (pad, 'a');
        gsize at;
        PlEvent *data;

        for (gsize i = 0; i < pad; i += 7)
          prose[i] = '.';
        g_string_append_printf (body, "x%s\r\n..stuffed. Two. Dots.\r\nEnd of text.%s\r\n.\r\nQUIT\r\n", prose, prose);
        g_string_append_printf (want, "x%s\n.stuffed. Two. Dots.\nEnd of text.%s\n.", prose, prose);
        at = split == 0 ? body->len : split == 1 ? body->len / 2 : 6 + pad / 2;
        pl_dissector_feed (d, PL_DIR_CLIENT, (const guint8 *) body->str, at, 1);
        pl_dissector_feed (d, PL_DIR_CLIENT, (const guint8 *) body->str + at, body->len - at, 2);
        pl_dissector_finish (d, 3);
        g_assert_cmpuint (sink.events->len, ==, 3);
        data = g_ptr_array_index (sink.events, 1);
        g_assert_cmpint (data->kind, ==, PL_EVENT_DATA);
        g_assert_cmpstr (data->text, ==, want->str);
        g_assert_cmpstr (((PlEvent *) g_ptr_array_index (sink.events, 2))->verb, ==, "QUIT");
        pl_dissector_free (d);
        g_ptr_array_unref (sink.events);
      }
}

/*
 * pl_dissector_set_transient(): a message gathered segment by segment keeps
 * its octets whole and exact whether its buffer is cut to its length (a
 * trace that keeps its events) or comes back for a later message once its
 * event is gone (one that streams). A buffer still held by an event is
 * never given to another message; one let go is (not under
 * AddressSanitizer, which must see each freed).
 */
static PlEvent *
gather_message (PlDissector *d,
                Sink        *sink,
                guint        message,
                GString     *body)
{
  PlEvent *event;

  g_string_truncate (body, 0);
  pl_dissector_feed (d, PL_DIR_CLIENT, (const guint8 *) "DATA\r\n", 6, 1);
  for (guint i = 0; body->len < 100 * 1000; i++)
    g_string_append_printf (body, "line %u of message %u\r\n", i, message);
  g_string_append (body, ".\r\n");
  /* Segments of 1,448 octets, as on the wire. */
  for (gsize at = 0; at < body->len; at += 1448)
    pl_dissector_feed (d, PL_DIR_CLIENT, (const guint8 *) body->str + at, MIN (1448, body->len - at), 2);
  g_assert_cmpuint (sink->events->len, ==, 2);
  event = pl_event_ref (g_ptr_array_index (sink->events, 1));
  g_assert_cmpint (event->kind, ==, PL_EVENT_DATA);
  g_ptr_array_set_size (sink->events, 0);
  return event;
}

static void
test_transient (gconstpointer data)
{
  gboolean transient = GPOINTER_TO_INT (data);
  Sink sink = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref), 0 };
  PlDissectorSink vtable = { on_emit, on_encrypted };
  PlDissector *d = pl_dissector_new (PL_PROTOCOL_SMTP, &vtable, &sink);
  g_autoptr(GString) body0 = g_string_new (NULL);
  g_autoptr(GString) body1 = g_string_new (NULL);
  g_autoptr(GString) body2 = g_string_new (NULL);
  PlEvent *e0, *e1, *e2;
  gsize len0, len1, len2;
  const guint8 *o0, *o1, *o2;

  pl_dissector_set_transient (d, transient);
  e0 = gather_message (d, &sink, 0, body0);
  e1 = gather_message (d, &sink, 1, body1);
  o0 = pl_event_get_data (e0, &len0);
  o1 = pl_event_get_data (e1, &len1);
  /* Both held: each its own buffer, the first untouched by the second. */
  g_assert_true (o0 != o1);
  g_assert_cmpmem (o0, len0, body0->str, body0->len);
  g_assert_cmpmem (o1, len1, body1->str, body1->len);
  pl_event_unref (e0);
  pl_event_unref (e1);
  e2 = gather_message (d, &sink, 2, body2);
  o2 = pl_event_get_data (e2, &len2);
  g_assert_cmpmem (o2, len2, body2->str, body2->len);
  if (transient && !PL_ADDRESS_SANITIZER)
    g_assert_true (o2 == o0 || o2 == o1);
  pl_event_unref (e2);
  pl_dissector_free (d);
  g_ptr_array_unref (sink.events);
}

/* A unit longer than the limit is shown in parts, octets intact. */
static void
test_max_unit (void)
{
  Sink sink = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref), 0 };
  PlDissectorSink vtable = { on_emit, on_encrypted };
  PlDissector *d = pl_dissector_new (PL_PROTOCOL_SMTP, &vtable, &sink);
  g_autoptr(GString) body = g_string_new ("DATA\r\n");
  gsize total = 0;

  pl_dissector_set_max_unit (d, 1000);
  for (guint i = 0; i < 200; i++)
    g_string_append (body, "0123456789012345678901234567890123456789\r\n");
  g_string_append (body, ".\r\n");
  pl_dissector_feed (d, PL_DIR_CLIENT, (const guint8 *) body->str, body->len, 1);
  pl_dissector_finish (d, 2);
  g_assert_cmpuint (sink.events->len, >, 5);
  for (guint i = 0; i < sink.events->len; i++)
    {
      gsize len;
      pl_event_get_data (g_ptr_array_index (sink.events, i), &len);
      g_assert_cmpuint (len, <=, 1000 + 42);
      total += len;
    }
  g_assert_cmpuint (total, ==, body->len);
  pl_dissector_free (d);
  g_ptr_array_unref (sink.events);
}

/*
 * Units that say how long they are (SMTP's SIZE=, POP3's "+OK n octets",
 * an IMAP literal) and lie, far over or under: room is made on their word
 * only up to max_unit, and every octet still comes out once, in units no
 * longer than max_unit and a line.
 */
typedef struct {
  const char *name;
  PlProtocol  protocol;
  const char *client;   /* sent first */
  const char *server;   /* then this, and the body from the server when @body_from_server */
  gboolean    body_from_server;
  const char *end;
} HintCase;

static const HintCase hint_cases[] = {
  { "smtp-size-huge", PL_PROTOCOL_SMTP, "MAIL FROM:<a@b> SIZE=18446744073709551615\r\nDATA\r\n", NULL, FALSE, ".\r\n" },
  { "smtp-size-tiny", PL_PROTOCOL_SMTP, "MAIL FROM:<a@b> SIZE=1\r\nDATA\r\n", NULL, FALSE, ".\r\n" },
  { "pop3-octets-huge", PL_PROTOCOL_POP3, "RETR 1\r\n", "+OK 99999999999999999999 octets\r\n", TRUE, ".\r\n" },
  { "pop3-octets-tiny", PL_PROTOCOL_POP3, "RETR 1\r\n", "+OK 2 octets\r\n", TRUE, ".\r\n" },
  { "imap-literal-huge", PL_PROTOCOL_IMAP, "a1 FETCH 1 BODY[]\r\n", "* 1 FETCH (BODY[] {4000000000}\r\n", TRUE, NULL },
};

static void
test_hints_that_lie (void)
{
  for (guint c = 0; c < G_N_ELEMENTS (hint_cases); c++)
    {
      const HintCase *hc = &hint_cases[c];
      Sink sink = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref), 0 };
      PlDissectorSink vtable = { on_emit, on_encrypted };
      PlDissector *d = pl_dissector_new (hc->protocol, &vtable, &sink);
      GString *fed[2] = { g_string_new (hc->client), g_string_new (hc->server) };
      g_autoptr(GString) body = g_string_new (NULL);
      GString *out[2] = { g_string_new (NULL), g_string_new (NULL) };
      GString *to = fed[hc->body_from_server ? 1 : 0];

      g_test_message ("case %s", hc->name);
      pl_dissector_set_max_unit (d, 1000);
      for (guint i = 0; i < 300; i++)
        g_string_append (body, "0123456789012345678901234567890123456789\r\n");
      if (hc->end != NULL)
        g_string_append (body, hc->end);
      g_string_append_len (to, body->str, (gssize) body->len);
      for (int side = 0; side < 2; side++)
        for (gsize at = 0; at < fed[side]->len; at += 37)
          pl_dissector_feed (d, side == 0 ? PL_DIR_CLIENT : PL_DIR_SERVER, (const guint8 *) fed[side]->str + at,
                             MIN (37, fed[side]->len - at), 1);
      pl_dissector_finish (d, 2);
      for (guint i = 0; i < sink.events->len; i++)
        {
          PlEvent *e = g_ptr_array_index (sink.events, i);
          gsize len = 0;
          const guint8 *data = pl_event_get_data (e, &len);

          if (e->kind == PL_EVENT_NOTE)
            continue;
          g_assert_cmpuint (len, <=, 1000 + 64);
          g_string_append_len (out[e->dir == PL_DIR_CLIENT ? 0 : 1], (const char *) data, (gssize) len);
        }
      g_assert_cmpstr (out[0]->str, ==, fed[0]->str);
      g_assert_cmpstr (out[1]->str, ==, fed[1]->str);
      for (int side = 0; side < 2; side++)
        {
          g_string_free (fed[side], TRUE);
          g_string_free (out[side], TRUE);
        }
      pl_dissector_free (d);
      g_ptr_array_unref (sink.events);
    }
}

typedef struct {
  const char *first;
  PlProtocol  hint;
  PlProtocol  protocol;
  gboolean    from_server;
} Sniff;

static const Sniff sniffs[] = {
  { "+OK POP3 server ready\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_POP3, TRUE },
  { "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_IMAP, TRUE },
  { "* 2 EXISTS\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_IMAP, TRUE },
  { "220 mx.example ESMTP Postfix\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_SMTP, TRUE },
  { "220 ProFTPD Server ready\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_UNKNOWN, FALSE },
  { "250 ok\r\n", PL_PROTOCOL_SMTP, PL_PROTOCOL_SMTP, TRUE },
  { "HTTP/1.1 200 OK\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_HTTP, TRUE },
  { "GET /inbox HTTP/1.1\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_HTTP, FALSE },
  { "EHLO client.example\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_SMTP, FALSE },
  { "user bob\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_POP3, FALSE },
  { "a001 LOGIN bob hungry\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_IMAP, FALSE },
  { "SSH-2.0-OpenSSH_9.2\r\n", PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_UNKNOWN, FALSE },
};

static void
test_sniff (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (sniffs); i++)
    {
      gboolean from_server = FALSE, need_more = TRUE, tls = TRUE;
      PlProtocol p = pl_protocol_sniff ((const guint8 *) sniffs[i].first, strlen (sniffs[i].first),
                                        sniffs[i].hint, &from_server, &need_more, &tls);

      g_assert_cmpint (p, ==, sniffs[i].protocol);
      g_assert_false (need_more);
      g_assert_false (tls);
      if (p != PL_PROTOCOL_UNKNOWN)
        g_assert_cmpint (from_server, ==, sniffs[i].from_server);
    }
  {
    gboolean from_server, need_more, tls;

    g_assert_cmpint (pl_protocol_sniff ((const guint8 *) "+OK POP3", 8, PL_PROTOCOL_UNKNOWN,
                                        &from_server, &need_more, &tls), ==, PL_PROTOCOL_UNKNOWN);
    g_assert_true (need_more);
    g_assert_cmpint (pl_protocol_sniff ((const guint8 *) TLS_HELLO, 10, PL_PROTOCOL_IMAP,
                                        &from_server, &need_more, &tls), ==, PL_PROTOCOL_IMAP);
    g_assert_true (tls);
  }
}

/* Pieces protocols are made of, so random streams reach deep states (literals, bodies, TLS). */
static const char * const vocabulary[] = {
  "220 mx ESMTP\r\n", "250-a\r\n", "250 ok\r\n", "354 go\r\n", "DATA\r\n", "BDAT 7 LAST\r\n", "BDAT 3\r\n",
  "STARTTLS\r\n", "AUTH LOGIN\r\n", "334 VXNlcg==\r\n", ".\r\n", "..x\r\n", "+OK\r\n", "-ERR no\r\n",
  "RETR 1\r\n", "LIST\r\n", "STLS\r\n", "a1 LOGIN {3}\r\n", "a2 APPEND x {5+}\r\n", "* 1 FETCH (BODY[] {4}\r\n",
  "+ go\r\n", "a1 OK\r\n", "a3 IDLE\r\n", "DONE\r\n", "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n",
  "Content-Length: 9\r\n", "Transfer-Encoding: chunked\r\n", "\r\n", "5\r\n", "0\r\n", "HEAD / HTTP/1.1\r\n",
  "\x16\x03\x01\x00\x04", "\x17\x03\x03", "\r", "\n", "x", "{", "}",
  "MAIL FROM:<a> SIZE=99999999999\r\n", "MAIL FROM:<a> SIZE=3\r\n", "+OK 99999999999 octets\r\n",
  "+OK 2 octets\r\n", "* 2 FETCH (BODY[] {99999}\r\n",
};

static void
test_random (gconstpointer data)
{
  PlProtocol protocol = GPOINTER_TO_INT (data);
  GRand *rand = g_rand_new_with_seed (1234 + protocol);

  for (guint iter = 0; iter < 3000; iter++)
    {
      Sink sink = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref), 0 };
      PlDissectorSink vtable = { on_emit, on_encrypted };
      PlDissector *d = pl_dissector_new (protocol, &vtable, &sink);
      GString *fed[2] = { g_string_new (NULL), g_string_new (NULL) };
      GString *got[2] = { g_string_new (NULL), g_string_new (NULL) };
      guint steps = g_rand_int_range (rand, 1, 40);

      pl_dissector_set_max_unit (d, g_rand_int_range (rand, 64, 400));
      if (g_rand_int_range (rand, 0, 8) == 0)
        pl_dissector_start_tls (d, "test");
      for (guint k = 0; k < steps; k++)
        {
          guint side = g_rand_int_range (rand, 0, 2);
          guint what = g_rand_int_range (rand, 0, 10);

          if (what == 0)
            {
              guint64 missing = g_rand_int_range (rand, 1, 50);

              pl_dissector_gap (d, side ? PL_DIR_SERVER : PL_DIR_CLIENT, missing, k);
              g_string_append_c (fed[side], '|');
            }
          else
            {
              GString *chunk = g_string_new (NULL);
              guint pieces = g_rand_int_range (rand, 1, 6);

              for (guint p = 0; p < pieces; p++)
                {
                  if (g_rand_int_range (rand, 0, 4) == 0)
                    for (guint b = g_rand_int_range (rand, 1, 12); b > 0; b--)
                      g_string_append_c (chunk, (char) g_rand_int_range (rand, 0, 256));
                  else
                    g_string_append (chunk, vocabulary[g_rand_int_range (rand, 0, G_N_ELEMENTS (vocabulary))]);
                }
              pl_dissector_feed (d, side ? PL_DIR_SERVER : PL_DIR_CLIENT, (const guint8 *) chunk->str, chunk->len, k);
              g_string_append_len (fed[side], chunk->str, (gssize) chunk->len);
              g_string_free (chunk, TRUE);
            }
        }
      pl_dissector_finish (d, 99);
      for (guint i = 0; i < sink.events->len; i++)
        {
          PlEvent *e = g_ptr_array_index (sink.events, i);
          gsize len;
          const guint8 *bytes = pl_event_get_data (e, &len);

          g_assert_true (g_utf8_validate (e->text, -1, NULL));
          if (e->kind == PL_EVENT_NOTE && g_str_has_prefix (e->text, "missing "))
            g_string_append_c (got[strstr (e->text, "client to server") != NULL ? 0 : 1], '|');
          else if (bytes != NULL)
            g_string_append_len (got[e->dir == PL_DIR_SERVER ? 1 : 0], (const char *) bytes, (gssize) len);
        }
      /* Whatever the input, the octets come out exactly once, in order, gaps where they were. */
      g_assert_cmpuint (got[0]->len, ==, fed[0]->len);
      g_assert_true (memcmp (got[0]->str, fed[0]->str, fed[0]->len) == 0);
      g_assert_cmpuint (got[1]->len, ==, fed[1]->len);
      g_assert_true (memcmp (got[1]->str, fed[1]->str, fed[1]->len) == 0);
      for (guint i = 0; i < 2; i++)
        {
          g_string_free (fed[i], TRUE);
          g_string_free (got[i], TRUE);
        }
      pl_dissector_free (d);
      g_ptr_array_unref (sink.events);
    }
  g_rand_free (rand);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].name, &cases[i], test_case);
  g_test_add_func ("/trace/smtp/byte-by-byte", test_byte_by_byte);
  g_test_add_func ("/trace/smtp/max-unit", test_max_unit);
  g_test_add_data_func ("/trace/smtp/transient", GINT_TO_POINTER (TRUE), test_transient);
  g_test_add_data_func ("/trace/smtp/kept", GINT_TO_POINTER (FALSE), test_transient);
  g_test_add_func ("/trace/smtp/body-dots", test_body_dots);
  g_test_add_func ("/trace/hints-that-lie", test_hints_that_lie);
  g_test_add_func ("/trace/sniff", test_sniff);
  g_test_add_data_func ("/trace/random/smtp", GINT_TO_POINTER (PL_PROTOCOL_SMTP), test_random);
  g_test_add_data_func ("/trace/random/pop3", GINT_TO_POINTER (PL_PROTOCOL_POP3), test_random);
  g_test_add_data_func ("/trace/random/imap", GINT_TO_POINTER (PL_PROTOCOL_IMAP), test_random);
  g_test_add_data_func ("/trace/random/http", GINT_TO_POINTER (PL_PROTOCOL_HTTP), test_random);
  g_test_add_data_func ("/trace/random/unknown", GINT_TO_POINTER (PL_PROTOCOL_UNKNOWN), test_random);
  return g_test_run ();
}
