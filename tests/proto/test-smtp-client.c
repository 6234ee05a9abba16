/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlSmtpClient: the client engine against the server engine in memory, and against canned servers. */

#include <string.h>

#include <glib.h>

#include "pl-smtp-client.h"
#include "pl-smtp-grammar.h"
#include "pl-smtp-server.h"
#include "engine-test-util.h"
#include "smtp-test-util.h"

#define S(str) str, sizeof (str) - 1

#define MESSAGE "Subject: hi\r\n\r\nhello\r\n.dot line\r\n"
#define ACCEPTED "250 Message accepted for delivery"

static const char *const to_bob[] = { "bob@b.example", NULL };

/* A client and a server on a test world, joined by the pump. */
typedef struct {
  PlTestLink      pair;
  PlTestSmtpWorld *world;
} Link;

typedef struct {
  const char *const *recipients;
  const char        *message;
  const char        *mail_from;
  const char        *auth_user;
  const char        *auth_password;
  gboolean           no_pipelining;
  const char *const *script;
} ClientSetup;

static PlEngine *
client_new (const ClientSetup *setup)
{
  g_autoptr(GBytes) message = g_bytes_new (setup->message != NULL ? setup->message : MESSAGE,
                                           strlen (setup->message != NULL ? setup->message : MESSAGE));
  PlSmtpClientConfig config = {
    .helo_name = "mail.a.example",
    .mail_from = setup->mail_from != NULL ? setup->mail_from : "alice@a.example",
    .recipients = setup->recipients != NULL ? setup->recipients : to_bob,
    .message = message,
    .auth_user = setup->auth_user,
    .auth_password = setup->auth_password,
    .no_pipelining = setup->no_pipelining,
    .script = setup->script,
  };

  return pl_smtp_client_new (&config);
}

static Link *
link_new (const ClientSetup        *setup,
          const PlSmtpServerConfig *server_config)
{
  Link *l = g_new0 (Link, 1);

  l->world = pl_test_smtp_world_new ();
  pl_test_link_init (&l->pair, client_new (setup),
                     pl_test_smtp_server_new (l->world, server_config));
  return l;
}

static void
link_free (Link *l)
{
  pl_test_link_clear (&l->pair);
  pl_test_smtp_world_free (l->world);
  g_free (l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Link, link_free)

/* What both sides of an SMTP session must agree on. */
static const PlEventKind units[] = { PL_EVENT_REPLY, PL_EVENT_COMMAND, PL_EVENT_DATA };

static const PlSmtpClientResult *
result_of (PlEngine *client)
{
  return pl_smtp_client_get_result (PL_SMTP_CLIENT (client));
}

/*
 * The dialogue as the client saw it, one word per unit: a reply's code, a
 * command's line (without CRLF), "<data>" for the message. Units separated
 * by " | ", so pipelined batches show as commands in a row.
 */
static char *
shape (PlTestRecorder *recorder)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < recorder->events->len; i++)
    {
      PlEvent *event = recorder->events->pdata[i];
      gsize len;
      const guint8 *data;

      if (event->kind == PL_EVENT_NOTE)
        continue;
      if (out->len > 0)
        g_string_append (out, " | ");
      data = pl_event_get_data (event, &len);
      if (event->kind == PL_EVENT_REPLY)
        g_string_append (out, event->status != NULL ? event->status : "?");
      else if (event->kind == PL_EVENT_DATA)
        g_string_append (out, "<data>");
      else
        g_string_append_len (out, (const char *) data, (gssize) (len >= 2 ? len - 2 : len));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
assert_recipient (const PlSmtpClientResult *result,
                  guint                     index,
                  const char               *address,
                  PlSmtpVerdict             verdict,
                  guint                     code)
{
  g_assert_cmpuint (index, <, result->n_recipients);
  g_assert_cmpstr (result->recipients[index].address, ==, address);
  g_assert_cmpint (result->recipients[index].verdict, ==, verdict);
  g_assert_cmpuint (result->recipients[index].code, ==, code);
  g_assert_nonnull (result->recipients[index].reply);
}

/* Sending through the server ------------------------------------------------------------------ */

typedef struct {
  const char    *path;
  gboolean       no_pipelining;
  const char    *shape;
} DeliverCase;

static const DeliverCase deliver_cases[] = {
  { "/smtp/client/deliver/pipelining", FALSE,
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> SIZE=33 | RCPT TO:<bob@b.example> | DATA"
    " | 250 | 250 | 354 | <data> | 250 | QUIT | 221" },
  { "/smtp/client/deliver/no-pipelining", TRUE,
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> SIZE=33 | 250 | RCPT TO:<bob@b.example> | 250"
    " | DATA | 354 | <data> | 250 | QUIT | 221" },
};

static void
test_deliver (gconstpointer data)
{
  const DeliverCase *dc = data;
  g_autoptr(Link) l = link_new (&(ClientSetup) { .no_pipelining = dc->no_pipelining }, NULL);
  g_autofree char *got = NULL;
  g_autofree char *message = NULL;
  const PlSmtpClientResult *result;
  g_autoptr(GPtrArray) sent = NULL;

  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==, dc->shape);

  result = result_of (l->pair.client);
  g_assert_cmpint (result->verdict, ==, PL_SMTP_VERDICT_DELIVERED);
  g_assert_cmpuint (result->code, ==, 250);
  g_assert_cmpstr (result->reply, ==, ACCEPTED);
  g_assert_cmpuint (result->n_recipients, ==, 1);
  assert_recipient (result, 0, "bob@b.example", PL_SMTP_VERDICT_DELIVERED, 250);
  g_assert_true (pl_engine_is_finished (l->pair.client));
  g_assert_false (pl_engine_is_failed (l->pair.client));
  g_assert_cmpint (pl_engine_get_state (l->pair.client), ==, PL_SMTP_CLIENT_DONE);
  g_assert_true (pl_engine_is_finished (l->pair.server));
  g_assert_false (pl_engine_is_failed (l->pair.server));
  g_assert_cmpstr (l->pair.client_recorder->states->str, ==,
                   "GREETING>EHLO;EHLO>MAIL;MAIL>RCPT;RCPT>DATA;DATA>MESSAGE;MESSAGE>QUIT;QUIT>DONE;");

  /* The message arrives as sent, its "." line unstuffed again, behind the server's Received:. */
  message = pl_test_smtp_delivered_text (l->world, 0);
  g_assert_cmpstr (message, ==,
                   "Received: from mail.a.example (127.0.0.1)\r\n"
                   "\tby mail.b.example (Postlab) with ESMTP id 1\r\n"
                   "\tfor <bob@b.example>; " PL_TEST_SMTP_NOW "\r\n" MESSAGE);
  /* On the wire the "." line went out stuffed, and the DATA event shows it plain. */
  sent = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_DATA);
  g_assert_cmpuint (sent->len, ==, 1);
  {
    static const char wire[] = "Subject: hi\r\n\r\nhello\r\n..dot line\r\n.\r\n";
    GBytes *octets = ((PlEvent *) sent->pdata[0])->octets;

    g_assert_cmpmem (g_bytes_get_data (octets, NULL), g_bytes_get_size (octets), wire, sizeof wire - 1);
  }
  g_assert_cmpstr (((PlEvent *) sent->pdata[0])->text, ==, "Subject: hi\n\nhello\n.dot line\n.");

  g_assert_true (g_strv_contains (pl_smtp_client_get_extensions (PL_SMTP_CLIENT (l->pair.client)), "PIPELINING"));
  g_assert_true (g_strv_contains (pl_smtp_client_get_extensions (PL_SMTP_CLIENT (l->pair.client)), "SIZE 10485760"));
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

/* AUTH PLAIN on the submission hop: relaying for an authenticated user; credentials shown decoded. */
static void
test_auth_plain (void)
{
  static const char *const to_carol[] = { "carol@c.example", NULL };
  g_autoptr(Link) l = link_new (&(ClientSetup) { .recipients = to_carol, .auth_user = "alice",
                                                 .auth_password = "secret" }, NULL);
  g_autoptr(GPtrArray) commands = NULL;
  g_autofree char *got = NULL;
  PlEvent *auth;

  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==,
                   "220 | EHLO mail.a.example | 250 | AUTH PLAIN AGFsaWNlAHNlY3JldA== | 235"
                   " | MAIL FROM:<alice@a.example> SIZE=33 | RCPT TO:<carol@c.example> | DATA"
                   " | 250 | 250 | 354 | <data> | 250 | QUIT | 221");
  g_assert_cmpint (result_of (l->pair.client)->verdict, ==, PL_SMTP_VERDICT_DELIVERED);
  g_assert_cmpstr (((PlTestSmtpDelivery *) l->world->deliveries->pdata[0])->auth_user, ==, "alice");
  commands = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_COMMAND);
  auth = commands->pdata[1];
  g_assert_cmpstr (auth->verb, ==, "AUTH");
  g_assert_cmpstr (auth->text, ==, "AUTH PLAIN AGFsaWNlAHNlY3JldA==  (decodes to: \"\" / \"alice\" / \"secret\")");
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

/* Wrong password: 535 is permanent, the client quits without MAIL. */
static void
test_auth_wrong (void)
{
  g_autoptr(Link) l = link_new (&(ClientSetup) { .auth_user = "alice", .auth_password = "wrong" }, NULL);
  g_autofree char *got = NULL;
  const PlSmtpClientResult *result;

  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==, "220 | EHLO mail.a.example | 250 | AUTH PLAIN AGFsaWNlAHdyb25n | 535 | QUIT | 221");
  result = result_of (l->pair.client);
  g_assert_cmpint (result->verdict, ==, PL_SMTP_VERDICT_PERMANENT);
  g_assert_cmpuint (result->code, ==, 535);
  g_assert_cmpstr (result->reply, ==, "535 Authentication credentials invalid");
  assert_recipient (result, 0, "bob@b.example", PL_SMTP_VERDICT_PERMANENT, 535);
  g_assert_true (pl_engine_is_failed (l->pair.client));
  g_assert_cmpuint (l->world->deliveries->len, ==, 0);
  pl_test_link_assert_streams (&l->pair);
}

/* Credentials but a server without AUTH: nothing is sent in the clear, the message is not sent. */
static void
test_auth_not_offered (void)
{
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Link) l = NULL;
  g_autofree char *got = NULL;
  const PlSmtpClientResult *result;

  config.offer_auth = FALSE;
  l = link_new (&(ClientSetup) { .auth_user = "alice", .auth_password = "secret" }, &config);
  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==, "220 | EHLO mail.a.example | 250 | QUIT | 221");
  result = result_of (l->pair.client);
  g_assert_cmpint (result->verdict, ==, PL_SMTP_VERDICT_PERMANENT);
  g_assert_cmpuint (result->code, ==, 0);
  g_assert_cmpstr (result->reply, ==, "the server does not offer AUTH PLAIN or LOGIN");
}

/* Per-recipient results: delivered, refused (550), and try-later (452) in one transaction. */
static void
test_recipients (gconstpointer data)
{
  static const char *const rcpts[] = { "bob@b.example", "carol@b.example", "full@b.example", NULL };
  gboolean no_pipelining = GPOINTER_TO_INT (data);
  g_autoptr(Link) l = link_new (&(ClientSetup) { .recipients = rcpts, .no_pipelining = no_pipelining }, NULL);
  const PlSmtpClientResult *result;
  PlTestSmtpDelivery *delivered;

  pl_test_link_run (&l->pair, 0, 0);
  result = result_of (l->pair.client);
  g_assert_cmpuint (result->n_recipients, ==, 3);
  assert_recipient (result, 0, "bob@b.example", PL_SMTP_VERDICT_DELIVERED, 250);
  assert_recipient (result, 1, "carol@b.example", PL_SMTP_VERDICT_PERMANENT, 550);
  assert_recipient (result, 2, "full@b.example", PL_SMTP_VERDICT_TEMPORARY, 452);
  g_assert_cmpstr (result->recipients[1].reply, ==, "550 carol@b.example ... No such user here");
  g_assert_cmpstr (result->recipients[0].reply, ==, ACCEPTED);
  /* Something is worth trying again: the whole is temporary, decided by the 452. */
  g_assert_cmpint (result->verdict, ==, PL_SMTP_VERDICT_TEMPORARY);
  g_assert_cmpuint (result->code, ==, 452);
  g_assert_true (pl_engine_is_failed (l->pair.client));
  g_assert_cmpuint (l->world->deliveries->len, ==, 1);
  delivered = l->world->deliveries->pdata[0];
  g_assert_cmpstrv (delivered->recipients, to_bob);
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

typedef struct {
  const char    *path;
  gboolean       no_pipelining;
  const char    *mail_from;
  const char    *recipient;
  const char    *shape;
  PlSmtpVerdict  verdict;
  guint          code;
  const char    *reply;
} RefusalCase;

static const RefusalCase refusal_cases[] = {
  { "/smtp/client/refused/unknown-user", FALSE, NULL, "carol@b.example",
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> SIZE=33 | RCPT TO:<carol@b.example> | DATA"
    " | 250 | 550 | 503 | QUIT | 221",
    PL_SMTP_VERDICT_PERMANENT, 550, "550 carol@b.example ... No such user here" },
  { "/smtp/client/refused/unknown-user-no-pipelining", TRUE, NULL, "carol@b.example",
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> SIZE=33 | 250 | RCPT TO:<carol@b.example>"
    " | 550 | QUIT | 221",
    PL_SMTP_VERDICT_PERMANENT, 550, "550 carol@b.example ... No such user here" },
  { "/smtp/client/refused/relay-denied", FALSE, NULL, "carol@c.example",
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> SIZE=33 | RCPT TO:<carol@c.example> | DATA"
    " | 250 | 550 | 503 | QUIT | 221",
    PL_SMTP_VERDICT_PERMANENT, 550, "550 carol@c.example ... Relay access denied" },
  { "/smtp/client/refused/mailbox-full", TRUE, NULL, "full@b.example",
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> SIZE=33 | 250 | RCPT TO:<full@b.example>"
    " | 452 | QUIT | 221",
    PL_SMTP_VERDICT_TEMPORARY, 452, "452 full@b.example ... Mailbox full, try again later" },
  /* The sender is refused: with pipelining the RCPT and DATA replies are read before QUIT. */
  { "/smtp/client/refused/sender", FALSE, "spammer@bad.example", "bob@b.example",
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<spammer@bad.example> SIZE=33 | RCPT TO:<bob@b.example> | DATA"
    " | 550 | 503 | 503 | QUIT | 221",
    PL_SMTP_VERDICT_PERMANENT, 550, "550 Sender address rejected: go away" },
  { "/smtp/client/refused/sender-no-pipelining", TRUE, "spammer@bad.example", "bob@b.example",
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<spammer@bad.example> SIZE=33 | 550 | QUIT | 221",
    PL_SMTP_VERDICT_PERMANENT, 550, "550 Sender address rejected: go away" },
};

static void
test_refusal (gconstpointer data)
{
  const RefusalCase *rc = data;
  const char *const rcpts[] = { rc->recipient, NULL };
  g_autoptr(Link) l = link_new (&(ClientSetup) { .recipients = rcpts, .mail_from = rc->mail_from,
                                                 .no_pipelining = rc->no_pipelining }, NULL);
  g_autofree char *got = NULL;
  const PlSmtpClientResult *result;

  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==, rc->shape);
  result = result_of (l->pair.client);
  g_assert_cmpint (result->verdict, ==, rc->verdict);
  g_assert_cmpuint (result->code, ==, rc->code);
  g_assert_cmpstr (result->reply, ==, rc->reply);
  assert_recipient (result, 0, rc->recipient, rc->verdict, rc->code);
  g_assert_true (pl_engine_is_failed (l->pair.client));
  g_assert_cmpuint (l->world->deliveries->len, ==, 0);
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

/* The server could not store it (451 after "."): try later, and the client never saw 250. */
static void
test_deliver_451 (void)
{
  g_autoptr(Link) l = link_new (&(ClientSetup) { 0 }, NULL);
  const PlSmtpClientResult *result;
  g_autoptr(GPtrArray) replies = NULL;

  l->world->deliver_reply = pl_smtp_reply_new (451, "Requested action aborted: local error in processing");
  pl_test_link_run (&l->pair, 0, 0);
  result = result_of (l->pair.client);
  g_assert_cmpint (result->verdict, ==, PL_SMTP_VERDICT_TEMPORARY);
  g_assert_cmpuint (result->code, ==, 451);
  g_assert_cmpstr (result->reply, ==, "451 Requested action aborted: local error in processing");
  assert_recipient (result, 0, "bob@b.example", PL_SMTP_VERDICT_TEMPORARY, 451);
  replies = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_REPLY);
  for (guint i = 0; i < replies->len; i++)
    g_assert_cmpstr (((PlEvent *) replies->pdata[i])->text, !=, ACCEPTED);
  g_assert_true (pl_engine_is_failed (l->pair.client));
}

/* Bigger than the server's SIZE: not sent at all (RFC 1870 section 6.1). */
static void
test_size_limit (void)
{
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Link) l = NULL;
  g_autofree char *got = NULL;
  g_autofree char *big = g_strnfill (500, 'x');
  const PlSmtpClientResult *result;

  config.max_message_size = 100;
  l = link_new (&(ClientSetup) { .message = big }, &config);
  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==, "220 | EHLO mail.a.example | 250 | QUIT | 221");
  result = result_of (l->pair.client);
  g_assert_cmpint (result->verdict, ==, PL_SMTP_VERDICT_PERMANENT);
  g_assert_cmpuint (result->code, ==, 0);
  g_assert_cmpstr (result->reply, ==, "message of 502 octets is over the server's limit of 100 (SIZE)");
}

/* 8-bit content is announced when the server offers 8BITMIME; bare LF lines go out as CRLF. */
static void
test_message_encoding (void)
{
  g_autoptr(Link) l = link_new (&(ClientSetup) { .message = "Subject: caf\xc3\xa9\n\n.\n..\nend" }, NULL);
  g_autoptr(GPtrArray) commands = NULL;
  g_autofree char *message = NULL;

  pl_test_link_run (&l->pair, 0, 0);
  commands = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_COMMAND);
  g_assert_cmpstr (((PlEvent *) commands->pdata[1])->text, ==,
                   "MAIL FROM:<alice@a.example> SIZE=30 BODY=8BITMIME");
  g_assert_true (((PlTestSmtpDelivery *) l->world->deliveries->pdata[0])->body_8bitmime);
  message = pl_test_smtp_delivered_text (l->world, 0);
  g_assert_true (g_str_has_suffix (message, PL_TEST_SMTP_NOW "\r\nSubject: caf\xc3\xa9\r\n\r\n.\r\n..\r\nend\r\n"));
  pl_test_link_assert_streams (&l->pair);
}

/* Every server batch cut at every octet, and octet by octet: the same dialogue and outcome. */
static void
test_split_replies (void)
{
  static const char *const rcpts[] = { "bob@b.example", "carol@b.example", NULL };
  gsize longest = 0;
  g_autofree char *reference = NULL;

  {
    g_autoptr(Link) l = link_new (&(ClientSetup) { .recipients = rcpts, .auth_user = "bob",
                                                   .auth_password = "hungry" }, NULL);

    pl_test_link_run (&l->pair, 1, 0);
    reference = shape (l->pair.client_recorder);
    assert_recipient (result_of (l->pair.client), 0, "bob@b.example", PL_SMTP_VERDICT_DELIVERED, 250);
    assert_recipient (result_of (l->pair.client), 1, "carol@b.example", PL_SMTP_VERDICT_PERMANENT, 550);
    pl_test_link_assert_streams (&l->pair);
    pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
    for (guint i = 0; i < l->pair.server_recorder->events->len; i++)
      {
        PlEvent *event = l->pair.server_recorder->events->pdata[i];
        if (event->octets != NULL)
          longest = MAX (longest, g_bytes_get_size (event->octets));
      }
  }
  g_assert_cmpuint (longest, >, 100);

  for (gsize split = 1; split <= longest; split++)
    {
      g_autoptr(Link) l = link_new (&(ClientSetup) { .recipients = rcpts, .auth_user = "bob",
                                                     .auth_password = "hungry" }, NULL);
      g_autofree char *got = NULL;

      pl_test_link_run (&l->pair, 0, split);
      got = shape (l->pair.client_recorder);
      g_assert_cmpstr (got, ==, reference);
      assert_recipient (result_of (l->pair.client), 0, "bob@b.example", PL_SMTP_VERDICT_DELIVERED, 250);
      g_assert_cmpuint (l->world->deliveries->len, ==, 1);
      pl_test_link_assert_streams (&l->pair);
      pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
    }
}

/*
 * The whole server side of a session handed over at once, and cut in two
 * at every octet: the client reads several replies from one feed and says
 * the same.
 */
static void
test_replies_in_one_feed (void)
{
  g_autoptr(Link) reference = link_new (&(ClientSetup) { 0 }, NULL);
  const guint8 *s;
  gsize len;

  pl_test_link_run (&reference->pair, 0, 0);
  s = reference->pair.s_stream->data;
  len = reference->pair.s_stream->len;

  for (gsize split = 0; split <= len; split++)
    {
      g_autoptr(PlEngine) client = client_new (&(ClientSetup) { 0 });
      g_autoptr(PlTestRecorder) recorder = pl_test_recorder_new (client);
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_autoptr(GByteArray) replies = NULL;

      pl_engine_start (client);
      pl_engine_feed (client, s, split);
      pl_engine_feed (client, s + split, len - split);
      pl_test_take_output (client, out);
      g_assert_cmpmem (out->data, out->len, reference->pair.c_stream->data, reference->pair.c_stream->len);
      g_assert_true (pl_engine_is_finished (client));
      g_assert_false (pl_engine_is_failed (client));
      g_assert_cmpint (result_of (client)->verdict, ==, PL_SMTP_VERDICT_DELIVERED);
      replies = pl_test_recorder_concat (recorder, PL_DIR_SERVER);
      g_assert_cmpmem (replies->data, replies->len, s, len);
    }
}

/* Against canned servers: what real servers in the wild may say ---------------------------------- */

typedef struct {
  const char    *path;
  gboolean       auth;          /* with alice's credentials */
  const char    *server;        /* all the server says; then the connection closes */
  gsize          server_len;
  const char    *shape;
  PlSmtpVerdict  verdict;
  guint          code;
  gboolean       failed;
  guint          n_notes;
} CannedCase;

#define OK_TAIL "250 ok\r\n250 ok\r\n354 go\r\n250 done\r\n221 bye\r\n"

static const CannedCase canned_cases[] = {
  { "/smtp/client/canned/greeting-554", FALSE, S ("554 no service here\r\n221 bye\r\n"),
    "554 | QUIT | 221", PL_SMTP_VERDICT_PERMANENT, 554, TRUE, 0 },
  { "/smtp/client/canned/greeting-421", FALSE, S ("421 too busy\r\n"),
    "421", PL_SMTP_VERDICT_TEMPORARY, 421, TRUE, 0 },
  { "/smtp/client/canned/greeting-multiline", FALSE, S ("220-mx.example ESMTP\r\n220 welcome\r\n250 mx\r\n" OK_TAIL),
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> | 250 | RCPT TO:<bob@b.example> | 250"
    " | DATA | 354 | <data> | 250 | QUIT | 221", PL_SMTP_VERDICT_DELIVERED, 250, FALSE, 0 },
  /* RFC 5321 4.1.4: an old server that does not know EHLO. */
  { "/smtp/client/canned/ehlo-refused-helo", FALSE, S ("220 old\r\n500 what?\r\n250 hello\r\n" OK_TAIL),
    "220 | EHLO mail.a.example | 500 | HELO mail.a.example | 250 | MAIL FROM:<alice@a.example> | 250"
    " | RCPT TO:<bob@b.example> | 250 | DATA | 354 | <data> | 250 | QUIT | 221", PL_SMTP_VERDICT_DELIVERED, 250, FALSE, 0 },
  { "/smtp/client/canned/helo-refused", FALSE, S ("220 old\r\n502 no\r\n554 no\r\n221 bye\r\n"),
    "220 | EHLO mail.a.example | 502 | HELO mail.a.example | 554 | QUIT | 221", PL_SMTP_VERDICT_PERMANENT, 554, TRUE, 0 },
  { "/smtp/client/canned/ehlo-451", FALSE, S ("220 x\r\n451 later\r\n221 bye\r\n"),
    "220 | EHLO mail.a.example | 451 | QUIT | 221", PL_SMTP_VERDICT_TEMPORARY, 451, TRUE, 0 },
  /* RFC 5321 3.8: 421 at any point; the server closes, so does the client. */
  { "/smtp/client/canned/421-after-mail", FALSE, S ("220 x\r\n250 x\r\n421 shutting down\r\n"),
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> | 421", PL_SMTP_VERDICT_TEMPORARY, 421, TRUE, 0 },
  /* The "." was never answered: not delivered as far as we know; try again. */
  { "/smtp/client/canned/lost-before-dot-reply", FALSE, S ("220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> | 250 | RCPT TO:<bob@b.example> | 250"
    " | DATA | 354 | <data>", PL_SMTP_VERDICT_TEMPORARY, 0, TRUE, 1 },
  /* 250 after "." is the server's responsibility: delivered, whatever happens to QUIT. */
  { "/smtp/client/canned/lost-after-dot-reply", FALSE, S ("220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n"),
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> | 250 | RCPT TO:<bob@b.example> | 250"
    " | DATA | 354 | <data> | 250 | QUIT", PL_SMTP_VERDICT_DELIVERED, 250, FALSE, 0 },
  { "/smtp/client/canned/lost-mid-reply", FALSE, S ("220 x\r\n250-x\r\n250-PIPEL"),
    "220 | EHLO mail.a.example | ?", PL_SMTP_VERDICT_TEMPORARY, 0, TRUE, 2 },
  { "/smtp/client/canned/malformed-reply", FALSE, S ("220 x\r\nHELLO THERE\r\n221 bye\r\n"),
    "220 | EHLO mail.a.example | ? | QUIT | 221", PL_SMTP_VERDICT_TEMPORARY, 0, TRUE, 1 },
  { "/smtp/client/canned/bare-lf-server", FALSE, S ("220 x\n250-x\n250 SIZE 0\n250 ok\n250 ok\n354 go\n250 done\n221 bye\n"),
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> SIZE=33 | 250 | RCPT TO:<bob@b.example> | 250"
    " | DATA | 354 | <data> | 250 | QUIT | 221", PL_SMTP_VERDICT_DELIVERED, 250, FALSE, 0 },
  { "/smtp/client/canned/auth-login-only", TRUE,
    S ("220 x\r\n250-x\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 ok\r\n" OK_TAIL),
    "220 | EHLO mail.a.example | 250 | AUTH LOGIN | 334 | YWxpY2U= | 334 | c2VjcmV0 | 235"
    " | MAIL FROM:<alice@a.example> | 250 | RCPT TO:<bob@b.example> | 250 | DATA | 354 | <data> | 250 | QUIT | 221",
    PL_SMTP_VERDICT_DELIVERED, 250, FALSE, 0 },
  { "/smtp/client/canned/auth-unexpected-challenge", TRUE,
    S ("220 x\r\n250-x\r\n250 AUTH PLAIN\r\n334 \r\n501 cancelled\r\n221 bye\r\n"),
    "220 | EHLO mail.a.example | 250 | AUTH PLAIN AGFsaWNlAHNlY3JldA== | 334 | * | 501 | QUIT | 221",
    PL_SMTP_VERDICT_PERMANENT, 0, TRUE, 0 },
  { "/smtp/client/canned/auth-454", TRUE, S ("220 x\r\n250-x\r\n250 AUTH PLAIN LOGIN\r\n454 try later\r\n221 bye\r\n"),
    "220 | EHLO mail.a.example | 250 | AUTH PLAIN AGFsaWNlAHNlY3JldA== | 454 | QUIT | 221",
    PL_SMTP_VERDICT_TEMPORARY, 454, TRUE, 0 },
  /* RFC 2920 3.1: DATA accepted though no recipient was: "." at once, nothing sent. */
  { "/smtp/client/canned/data-354-without-recipients", FALSE,
    S ("220 x\r\n250-x\r\n250 PIPELINING\r\n250 ok\r\n550 no\r\n354 go\r\n554 no valid recipients\r\n221 bye\r\n"),
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> | RCPT TO:<bob@b.example> | DATA | 250 | 550"
    " | 354 | <data> | 554 | QUIT | 221", PL_SMTP_VERDICT_PERMANENT, 550, TRUE, 0 },
  { "/smtp/client/canned/data-refused", FALSE, S ("220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n451 no\r\n221 bye\r\n"),
    "220 | EHLO mail.a.example | 250 | MAIL FROM:<alice@a.example> | 250 | RCPT TO:<bob@b.example> | 250 | DATA | 451"
    " | QUIT | 221", PL_SMTP_VERDICT_TEMPORARY, 451, TRUE, 0 },
};

static void
test_canned (gconstpointer data)
{
  const CannedCase *cc = data;
  g_autoptr(PlEngine) client = client_new (&(ClientSetup) { .auth_user = cc->auth ? "alice" : NULL,
                                                            .auth_password = cc->auth ? "secret" : NULL });
  g_autoptr(PlTestRecorder) recorder = pl_test_recorder_new (client);
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GByteArray) s_stream = NULL;
  g_autofree char *got = NULL;
  const PlSmtpClientResult *result;

  pl_engine_start (client);
  pl_engine_feed (client, (const guint8 *) cc->server, cc->server_len);
  pl_test_take_output (client, NULL);
  pl_engine_connection_lost (client);

  got = shape (recorder);
  g_assert_cmpstr (got, ==, cc->shape);
  result = result_of (client);
  g_assert_cmpint (result->verdict, ==, cc->verdict);
  g_assert_cmpuint (result->code, ==, cc->code);
  g_assert_nonnull (result->reply);
  g_assert_true (pl_engine_is_finished (client));
  g_assert_cmpint (pl_engine_is_failed (client), ==, cc->failed);
  notes = pl_test_recorder_filter (recorder, PL_EVENT_NOTE);
  for (guint i = 0; i < notes->len; i++)
    g_test_message ("note: %s", ((PlEvent *) notes->pdata[i])->text);
  g_assert_cmpuint (notes->len, ==, cc->n_notes);
  s_stream = pl_test_recorder_concat (recorder, PL_DIR_SERVER);
  g_assert_cmpmem (s_stream->data, s_stream->len, cc->server, cc->server_len);
}

/* The script: a person at telnet ------------------------------------------------------------------- */

static const char *const textbook_script[] = {
  "HELO crepes.fr", "MAIL FROM: <alice@crepes.fr>", "RCPT TO: <bob@b.example>", "DATA",
  "Do you like ketchup?", "How about pickles?", ".", "QUIT", NULL,
};

static void
test_script_textbook (void)
{
  g_autoptr(Link) l = link_new (&(ClientSetup) { .script = textbook_script }, NULL);
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(GPtrArray) data = NULL;
  g_autofree char *got = NULL;
  g_autofree char *message = NULL;
  const PlSmtpClientResult *result;
  static const char *const want_replies[] = {
    "220 mail.b.example ESMTP Postlab",
    "250 mail.b.example Hello crepes.fr, pleased to meet you",
    "250 alice@crepes.fr ... Sender ok",
    "250 bob@b.example ... Recipient ok",
    "354 Enter mail, end with \".\" on a line by itself",
    ACCEPTED,
    "221 mail.b.example closing connection",
  };

  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==, "220 | HELO crepes.fr | 250 | MAIL FROM: <alice@crepes.fr> | 250"
                   " | RCPT TO: <bob@b.example> | 250 | DATA | 354 | <data> | 250 | QUIT | 221");
  replies = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_REPLY);
  g_assert_cmpuint (replies->len, ==, G_N_ELEMENTS (want_replies));
  for (guint i = 0; i < replies->len; i++)
    g_assert_cmpstr (((PlEvent *) replies->pdata[i])->text, ==, want_replies[i]);
  data = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_DATA);
  g_assert_cmpstr (((PlEvent *) data->pdata[0])->text, ==, "Do you like ketchup?\nHow about pickles?\n.");

  result = result_of (l->pair.client);
  g_assert_cmpint (result->verdict, ==, PL_SMTP_VERDICT_DELIVERED);
  g_assert_cmpuint (result->code, ==, 250);
  g_assert_cmpuint (result->n_recipients, ==, 0);
  g_assert_true (pl_engine_is_finished (l->pair.client));
  g_assert_false (pl_engine_is_failed (l->pair.client));
  message = pl_test_smtp_delivered_text (l->world, 0);
  g_assert_true (g_str_has_suffix (message, "\r\nDo you like ketchup?\r\nHow about pickles?\r\n"));
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

/* DATA refused in a script: its message lines are skipped, and the script goes on after the ".". */
static void
test_script_data_refused (void)
{
  static const char *const script[] = { "HELO x", "DATA", "hello", ".", "NOOP", "QUIT", NULL };
  g_autoptr(Link) l = link_new (&(ClientSetup) { .script = script }, NULL);
  g_autoptr(GPtrArray) notes = NULL;
  g_autofree char *got = NULL;

  pl_test_link_run (&l->pair, 0, 0);
  got = shape (l->pair.client_recorder);
  g_assert_cmpstr (got, ==, "220 | HELO x | 250 | DATA | 503 | NOOP | 250 | QUIT | 221");
  notes = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==, "DATA refused: the 2 message lines of the script not sent");
  g_assert_cmpint (result_of (l->pair.client)->verdict, ==, PL_SMTP_VERDICT_NONE);
  g_assert_false (pl_engine_is_failed (l->pair.client));
  pl_test_link_assert_streams (&l->pair);
}

/* AUTH LOGIN by hand: the base64 lines are shown decoded on the client's side too. */
static void
test_script_auth_login (void)
{
  static const char *const script[] = { "EHLO x", "AUTH LOGIN", "YWxpY2U=", "c2VjcmV0", "QUIT", NULL };
  g_autoptr(Link) l = link_new (&(ClientSetup) { .script = script }, NULL);
  g_autoptr(GPtrArray) commands = NULL;

  pl_test_link_run (&l->pair, 0, 0);
  commands = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_COMMAND);
  g_assert_cmpuint (commands->len, ==, 5);
  g_assert_cmpstr (((PlEvent *) commands->pdata[2])->text, ==, "YWxpY2U=  (decodes to: \"alice\")");
  g_assert_null (((PlEvent *) commands->pdata[2])->verb);
  g_assert_cmpstr (((PlEvent *) commands->pdata[3])->text, ==, "c2VjcmV0  (decodes to: \"secret\")");
  g_assert_cmpstr (pl_smtp_server_get_auth_user (PL_SMTP_SERVER (l->pair.server)), ==, "alice");
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

/* A script cut off by the server: the client fails. */
static void
test_script_cut_off (void)
{
  static const char *const script[] = { "HELO x", "NOOP", NULL };
  g_autoptr(PlEngine) client = client_new (&(ClientSetup) { .script = script });

  pl_engine_start (client);
  pl_engine_feed (client, (const guint8 *) "220 hi\r\n", 8);
  pl_test_take_output (client, NULL);
  pl_engine_connection_lost (client);
  g_assert_true (pl_engine_is_finished (client));
  g_assert_true (pl_engine_is_failed (client));
}

/* An address with a line end in it would smuggle commands in: refused at construction. */
static void
test_injection_refused (void)
{
  static const char *const evil[] = { "bob@b.example>\r\nRCPT TO:<eve@e.example", NULL };
  static const char *const evil_script[] = { "HELO x\r\nQUIT", NULL };
  g_autoptr(GBytes) message = g_bytes_new_static ("x", 1);
  PlEngine *client;

  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_CRITICAL, "*all_fit_in_line*");
  client = pl_smtp_client_new (&(PlSmtpClientConfig) { .helo_name = "mail.a.example", .mail_from = "a@a.example",
                                                       .recipients = evil, .message = message });
  g_test_assert_expected_messages ();
  g_assert_null (client);
  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_CRITICAL, "*fits_in_line*");
  client = pl_smtp_client_new (&(PlSmtpClientConfig) { .helo_name = "mail.a.example", .mail_from = "a@a\n.example",
                                                       .recipients = to_bob, .message = message });
  g_test_assert_expected_messages ();
  g_assert_null (client);
  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_CRITICAL, "*all_fit_in_line*");
  client = pl_smtp_client_new (&(PlSmtpClientConfig) { .script = evil_script });
  g_test_assert_expected_messages ();
  g_assert_null (client);
}

/*
 * Random server output, as an ordinary test: the client never crashes,
 * its reply events add up to what it was fed, and it never sends anything
 * it was not meant to.
 */
static void
test_random_replies (void)
{
  static const char *const pieces[] = {
    "220", "250", "354", "334", "421", "451", "550", "-", " ", "\r\n", "\r\n", "\n", "\r", "x",
    "PIPELINING", "SIZE 10", "AUTH PLAIN", "\xff", "\0",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (2920);

  for (guint round = 0; round < 400; round++)
    {
      gboolean auth = g_rand_boolean (rand);
      g_autoptr(PlEngine) client = client_new (&(ClientSetup) { .auth_user = auth ? "alice" : NULL,
                                                                .auth_password = auth ? "secret" : NULL,
                                                                .no_pipelining = g_rand_boolean (rand) });
      g_autoptr(PlTestRecorder) recorder = pl_test_recorder_new (client);
      g_autoptr(GByteArray) input = g_byte_array_new ();
      g_autoptr(GByteArray) s_stream = NULL;
      g_autoptr(GPtrArray) commands = NULL;
      guint n_pieces = (guint) g_rand_int_range (rand, 1, 200);
      gsize pos = 0;

      for (guint i = 0; i < n_pieces; i++)
        {
          guint k = (guint) g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces));
          g_byte_array_append (input, (const guint8 *) pieces[k], k + 1 == G_N_ELEMENTS (pieces) ? 1 : (guint) strlen (pieces[k]));
        }
      pl_engine_start (client);
      while (pos < input->len)
        {
          gsize want = (gsize) g_rand_int_range (rand, 1, 32);
          gsize chunk = MIN (want, input->len - pos);

          pl_engine_feed (client, input->data + pos, chunk);
          pl_test_take_output (client, NULL);
          pos += chunk;
        }
      pl_engine_connection_lost (client);
      g_assert_true (pl_engine_is_finished (client));
      g_assert_cmpint (result_of (client)->verdict, !=, PL_SMTP_VERDICT_NONE);

      s_stream = pl_test_recorder_concat (recorder, PL_DIR_SERVER);
      g_assert_cmpuint (s_stream->len, <=, input->len);
      g_assert_cmpmem (s_stream->data, s_stream->len, input->data, s_stream->len);
      commands = pl_test_recorder_filter (recorder, PL_EVENT_COMMAND);
      for (guint i = 0; i < commands->len; i++)
        {
          const char *verb = ((PlEvent *) commands->pdata[i])->verb;
          const char *text = ((PlEvent *) commands->pdata[i])->text;

          if (verb == NULL)
            g_assert_true (g_str_has_prefix (text, "YWxpY2U=") || g_str_has_prefix (text, "c2VjcmV0")
                           || strcmp (text, "*") == 0);
          else
            g_assert_true (g_strv_contains ((const char *const[]) { "EHLO", "HELO", "AUTH", "MAIL", "RCPT",
                                                                     "DATA", "QUIT", NULL }, verb));
        }
    }
}

/* pl_smtp_client_reset() ------------------------------------------------------------------------ */

/*
 * A client reset after a session (two recipients, AUTH, one refused)
 * runs the next one (another message, no AUTH) exactly as a new client
 * does: same commands, same events, same result. The simulator runs its
 * sessions on engines taken back so.
 */
static void
test_reset_as_new (void)
{
  static const char *const two[] = { "bob@b.example", "nobody@b.example", NULL };
  ClientSetup first = { .recipients = two, .auth_user = "alice", .auth_password = "secret" };
  ClientSetup second = { .message = "Subject: two\r\n\r\n..two dots\r\nend\r\n" };
  g_autoptr(Link) used = link_new (&first, NULL);
  g_autoptr(Link) fresh = link_new (&second, NULL);
  g_autoptr(Link) again = g_new0 (Link, 1);
  g_autoptr(GBytes) message = g_bytes_new_static (second.message, strlen (second.message));
  PlSmtpClientConfig config = {
    .helo_name = "mail.a.example",
    .mail_from = "alice@a.example",
    .recipients = to_bob,
    .message = message,
  };
  PlSmtpClientConfig bad = { .helo_name = "x" };
  g_autofree char *fresh_shape = NULL;
  g_autofree char *again_shape = NULL;
  PlEngine *client;

  pl_test_link_run (&used->pair, 0, 0);
  g_assert_true (pl_engine_is_finished (used->pair.client));
  g_assert_cmpuint (result_of (used->pair.client)->n_recipients, ==, 2);
  client = g_object_ref (used->pair.client);

  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_CRITICAL, "*config->script != NULL*");
  g_assert_false (pl_smtp_client_reset (PL_SMTP_CLIENT (client), &bad));
  g_test_assert_expected_messages ();

  g_assert_true (pl_smtp_client_reset (PL_SMTP_CLIENT (client), &config));
  g_assert_false (pl_engine_is_finished (client));
  g_assert_cmpint (pl_engine_get_state (client), ==, PL_SMTP_CLIENT_GREETING);
  g_assert_cmpuint (result_of (client)->n_recipients, ==, 1);
  g_assert_cmpint (result_of (client)->recipients[0].verdict, ==, PL_SMTP_VERDICT_NONE);
  g_assert_null (pl_smtp_client_get_extensions (PL_SMTP_CLIENT (client))[0]);

  again->world = pl_test_smtp_world_new ();
  pl_test_link_init (&again->pair, client, pl_test_smtp_server_new (again->world, NULL));
  pl_test_link_run (&again->pair, 0, 0);
  pl_test_link_run (&fresh->pair, 0, 0);

  fresh_shape = shape (fresh->pair.client_recorder);
  again_shape = shape (again->pair.client_recorder);
  g_assert_cmpstr (again_shape, ==, fresh_shape);
  g_assert_cmpmem (again->pair.c_stream->data, again->pair.c_stream->len,
                   fresh->pair.c_stream->data, fresh->pair.c_stream->len);
  g_assert_cmpint (result_of (again->pair.client)->verdict, ==, PL_SMTP_VERDICT_DELIVERED);
  g_assert_cmpstr (result_of (again->pair.client)->reply, ==, result_of (fresh->pair.client)->reply);
  g_assert_cmpuint (again->world->deliveries->len, ==, 1);
  {
    g_autofree char *a = pl_test_smtp_delivered_text (again->world, 0);
    g_autofree char *b = pl_test_smtp_delivered_text (fresh->world, 0);

    g_assert_cmpstr (a, ==, b);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (deliver_cases); i++)
    g_test_add_data_func (deliver_cases[i].path, &deliver_cases[i], test_deliver);
  for (gsize i = 0; i < G_N_ELEMENTS (refusal_cases); i++)
    g_test_add_data_func (refusal_cases[i].path, &refusal_cases[i], test_refusal);
  for (gsize i = 0; i < G_N_ELEMENTS (canned_cases); i++)
    g_test_add_data_func (canned_cases[i].path, &canned_cases[i], test_canned);
  g_test_add_data_func ("/smtp/client/recipients/pipelining", GINT_TO_POINTER (FALSE), test_recipients);
  g_test_add_data_func ("/smtp/client/recipients/no-pipelining", GINT_TO_POINTER (TRUE), test_recipients);
  g_test_add_func ("/smtp/client/auth/plain", test_auth_plain);
  g_test_add_func ("/smtp/client/auth/wrong-password", test_auth_wrong);
  g_test_add_func ("/smtp/client/auth/not-offered", test_auth_not_offered);
  g_test_add_func ("/smtp/client/deliver-451", test_deliver_451);
  g_test_add_func ("/smtp/client/size-limit", test_size_limit);
  g_test_add_func ("/smtp/client/message-encoding", test_message_encoding);
  g_test_add_func ("/smtp/client/split-replies", test_split_replies);
  g_test_add_func ("/smtp/client/replies-in-one-feed", test_replies_in_one_feed);
  g_test_add_func ("/smtp/client/script/textbook", test_script_textbook);
  g_test_add_func ("/smtp/client/script/data-refused", test_script_data_refused);
  g_test_add_func ("/smtp/client/script/auth-login", test_script_auth_login);
  g_test_add_func ("/smtp/client/script/cut-off", test_script_cut_off);
  g_test_add_func ("/smtp/client/injection-refused", test_injection_refused);
  g_test_add_func ("/smtp/client/random-replies", test_random_replies);
  g_test_add_func ("/smtp/client/reset-as-new", test_reset_as_new);

  return g_test_run ();
}
