/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlPop3Client: the client engine against the server engine, in memory. */

#include <string.h>

#include <glib.h>

#include "pl-memory-store.h"
#include "pl-pop3-client.h"
#include "pl-pop3-server.h"
#include "pl-textbook.h"
#include "engine-test-util.h"

#define S(str) str, sizeof (str) - 1

static const char *const textbook_script[] = {
  "user bob", "pass hungry", "list", "retr 1", "dele 1", "retr 2", "dele 2", "quit", NULL,
};

/* A client and a server on one store, joined by the pump. */
typedef struct {
  PlTestLink      pair;
  PlMailStore    *store;
} Link;

static Link *
link_new (PlMailStore              *store,
          const PlPop3ClientConfig *config)
{
  Link *l = g_new0 (Link, 1);

  l->store = store != NULL ? g_object_ref (store) : pl_test_textbook_store ();
  pl_test_link_init (&l->pair, pl_pop3_client_new (config),
                     pl_pop3_server_new (l->store, &(PlPop3ServerConfig) { NULL, 1000, 3 }));
  return l;
}

static void
link_free (Link *l)
{
  pl_test_link_clear (&l->pair);
  g_object_unref (l->store);
  g_free (l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Link, link_free)

/* What both sides of a POP3 session must agree on. */
static const PlEventKind units[] = { PL_EVENT_REPLY, PL_EVENT_COMMAND };

static guint
bob_count (Link *l)
{
  return pl_memory_store_count (PL_MEMORY_STORE (l->store), PL_TEXTBOOK_USER);
}

/* The command lines the client sent, as "VERB args|VERB args|...". */
static char *
sent_commands (Link *l)
{
  g_autoptr(GPtrArray) commands = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_COMMAND);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < commands->len; i++)
    {
      PlEvent *event = commands->pdata[i];

      g_string_append_printf (out, "%s%s%s%s", i > 0 ? "|" : "", event->verb,
                              event->args[0] != '\0' ? " " : "", event->args);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
assert_textbook_messages (Link *l)
{
  PlPop3Client *client = PL_POP3_CLIENT (l->pair.client);

  g_assert_cmpuint (pl_pop3_client_get_n_messages (client), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GBytes) want = pl_textbook_message (i);

      g_assert_true (g_bytes_equal (pl_pop3_client_get_message (client, i), want));
    }
  g_assert_null (pl_pop3_client_get_message (client, 2));
}

typedef struct {
  const char *path;
  gboolean    delete_after_retrieve;
  const char *commands;
  guint       left;       /* messages in the maildrop afterwards */
} FetchCase;

static const FetchCase fetch_cases[] = {
  { "/pop3/client/fetch", FALSE, "USER bob|PASS hungry|LIST|RETR 1|RETR 2|QUIT", 2 },
  { "/pop3/client/fetch-delete", TRUE, "USER bob|PASS hungry|LIST|RETR 1|DELE 1|RETR 2|DELE 2|QUIT", 0 },
};

static void
test_fetch (gconstpointer data)
{
  const FetchCase *fc = data;
  g_autoptr(Link) l = link_new (NULL, &(PlPop3ClientConfig) {
      "bob", "hungry", fc->delete_after_retrieve, NULL });
  g_autofree char *commands = NULL;

  pl_test_link_run (&l->pair, 0, 0);
  commands = sent_commands (l);
  g_assert_cmpstr (commands, ==, fc->commands);
  g_assert_true (pl_engine_is_finished (l->pair.client));
  g_assert_false (pl_engine_is_failed (l->pair.client));
  g_assert_null (pl_pop3_client_get_error (PL_POP3_CLIENT (l->pair.client)));
  g_assert_cmpint (pl_engine_get_state (l->pair.client), ==, PL_POP3_CLIENT_DONE);
  g_assert_true (pl_engine_is_finished (l->pair.server));
  assert_textbook_messages (l);
  g_assert_cmpuint (bob_count (l), ==, fc->left);
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

/* The state changes, as the animation would see them. */
static void
test_fetch_states (void)
{
  g_autoptr(Link) l = link_new (NULL, &(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL });

  pl_test_link_run (&l->pair, 0, 0);
  g_assert_cmpstr (l->pair.client_recorder->states->str, ==,
                   "GREETING>USER;USER>PASS;PASS>LIST;LIST>RETR;RETR>DELE;DELE>RETR;"
                   "RETR>DELE;DELE>QUIT;QUIT>DONE;");
}

/* The textbook figure, typed as a person would: lower case, one line after each reply. */
static void
test_script_textbook (void)
{
  g_autoptr(Link) l = link_new (NULL, &(PlPop3ClientConfig) { NULL, NULL, FALSE, textbook_script });
  g_autoptr(GPtrArray) commands = NULL;
  g_autoptr(GPtrArray) replies = NULL;
  static const char *const want_replies[] = {
    "+OK POP3 server ready",
    "+OK",
    "+OK user successfully logged on",
    "+OK 2 messages (1410 octets)\n1 498\n2 912\n.",
    NULL, /* retr 1 */
    "+OK message 1 deleted",
    NULL, /* retr 2 */
    "+OK message 2 deleted",
    "+OK POP3 server signing off",
  };

  pl_test_link_run (&l->pair, 0, 0);
  commands = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_COMMAND);
  replies = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_REPLY);
  g_assert_cmpuint (commands->len, ==, 8);
  for (guint i = 0; i < commands->len; i++)
    {
      PlEvent *event = commands->pdata[i];
      g_autofree char *line = g_strconcat (textbook_script[i], "\r\n", NULL);

      /* Sent as typed, lower case kept; the verb is shown in upper case. */
      g_assert_cmpmem (g_bytes_get_data (event->octets, NULL), g_bytes_get_size (event->octets),
                       line, strlen (line));
      g_assert_nonnull (event->verb);
      g_assert_cmpint (g_ascii_strncasecmp (event->verb, textbook_script[i], strlen (event->verb)), ==, 0);
    }
  g_assert_cmpuint (replies->len, ==, G_N_ELEMENTS (want_replies));
  for (guint i = 0; i < replies->len; i++)
    if (want_replies[i] != NULL)
      g_assert_cmpstr (((PlEvent *) replies->pdata[i])->text, ==, want_replies[i]);
  g_assert_true (g_str_has_prefix (((PlEvent *) replies->pdata[4])->text, "+OK 498 octets\nDate: "));
  g_assert_true (g_str_has_suffix (((PlEvent *) replies->pdata[6])->text, "Alice\n."));

  g_assert_true (pl_engine_is_finished (l->pair.client));
  g_assert_false (pl_engine_is_failed (l->pair.client));
  g_assert_cmpint (pl_engine_get_state (l->pair.client), ==, PL_POP3_CLIENT_DONE);
  assert_textbook_messages (l);
  g_assert_cmpuint (bob_count (l), ==, 0);
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

/* A script does not stop at -ERR; it remembers it. Bare LIST/UIDL/CAPA take bodies, LIST n does not. */
static void
test_script_shapes (void)
{
  static const char *const script[] = {
    "capa", "stat", "user bob", "pass hungry", "list 1", "uidl", "uidl 2", "top 2 0",
    "retr 9", "list", "noop", NULL,
  };
  g_autoptr(Link) l = link_new (NULL, &(PlPop3ClientConfig) { NULL, NULL, FALSE, script });
  g_autoptr(GPtrArray) replies = NULL;

  pl_test_link_run (&l->pair, 0, 0);
  replies = pl_test_recorder_filter (l->pair.client_recorder, PL_EVENT_REPLY);
  g_assert_cmpuint (replies->len, ==, 12);
  g_assert_true (pl_engine_is_finished (l->pair.client));
  g_assert_false (pl_engine_is_failed (l->pair.client));
  g_assert_cmpstr (pl_pop3_client_get_error (PL_POP3_CLIENT (l->pair.client)), ==,
                   "-ERR no such message, only 2 messages in maildrop");
  g_assert_cmpstr (((PlEvent *) replies->pdata[10])->text, ==, "+OK 2 messages (1410 octets)\n1 498\n2 912\n.");
  g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (l->pair.client)), ==, 0);
  /* The script ended without QUIT: the server sees the connection drop, and deletes nothing. */
  g_assert_true (pl_engine_is_finished (l->pair.server));
  g_assert_cmpuint (bob_count (l), ==, 2);
  pl_test_link_assert_streams (&l->pair);
  pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
}

typedef struct {
  const char *path;
  const char *user;
  const char *password;
  const char *commands;
  const char *error;
} FailCase;

static const FailCase fail_cases[] = {
  { "/pop3/client/wrong-password", "bob", "full", "USER bob|PASS full|QUIT",
    "-ERR [AUTH] invalid user name or password" },
  { "/pop3/client/unknown-user", "nobody", "hungry", "USER nobody|PASS hungry|QUIT",
    "-ERR [AUTH] invalid user name or password" },
  { "/pop3/client/user-refused", "", "hungry", "USER|QUIT", "-ERR USER needs an argument" },
};

static void
test_fail (gconstpointer data)
{
  const FailCase *fc = data;
  g_autoptr(Link) l = link_new (NULL, &(PlPop3ClientConfig) { fc->user, fc->password, TRUE, NULL });
  g_autofree char *commands = NULL;

  pl_test_link_run (&l->pair, 0, 0);
  commands = sent_commands (l);
  g_assert_cmpstr (commands, ==, fc->commands);
  g_assert_true (pl_engine_is_finished (l->pair.client));
  g_assert_true (pl_engine_is_failed (l->pair.client));
  g_assert_cmpstr (pl_pop3_client_get_error (PL_POP3_CLIENT (l->pair.client)), ==, fc->error);
  g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (l->pair.client)), ==, 0);
  g_assert_cmpuint (bob_count (l), ==, 2);
  pl_test_link_assert_streams (&l->pair);
}

/* The maildrop is in use: PASS gets [IN-USE], the client quits and fails. */
static void
test_locked (void)
{
  g_autoptr(PlMailStore) store = pl_test_textbook_store ();
  g_autoptr(PlMaildrop) held = pl_mail_store_open_maildrop (store, "bob", NULL);
  g_autoptr(Link) l = link_new (store, &(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL });

  g_assert_nonnull (held);
  pl_test_link_run (&l->pair, 0, 0);
  g_assert_true (pl_engine_is_failed (l->pair.client));
  g_assert_cmpstr (pl_pop3_client_get_error (PL_POP3_CLIENT (l->pair.client)), ==,
                   "-ERR [IN-USE] maildrop locked by another session");
}

/* A maildrop with no messages: LIST, then straight to QUIT. */
static void
test_empty_maildrop (void)
{
  g_autoptr(PlMailStore) store = pl_memory_store_new ();
  g_autoptr(Link) l = NULL;
  g_autofree char *commands = NULL;

  pl_memory_store_add_user (PL_MEMORY_STORE (store), "bob", "hungry");
  l = link_new (store, &(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL });
  pl_test_link_run (&l->pair, 0, 0);
  commands = sent_commands (l);
  g_assert_cmpstr (commands, ==, "USER bob|PASS hungry|LIST|QUIT");
  g_assert_false (pl_engine_is_failed (l->pair.client));
  g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (l->pair.client)), ==, 0);
}

/* Every reply cut at every octet (each server batch split at k), and octet by octet. */
static void
test_split_replies (void)
{
  gsize longest = 0;

  {
    g_autoptr(Link) l = link_new (NULL, &(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL });

    pl_test_link_run (&l->pair, 1, 0);
    assert_textbook_messages (l);
    g_assert_false (pl_engine_is_failed (l->pair.client));
    g_assert_cmpuint (bob_count (l), ==, 0);
    pl_test_link_assert_streams (&l->pair);
    pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
    for (guint i = 0; i < l->pair.server_recorder->events->len; i++)
      {
        PlEvent *event = l->pair.server_recorder->events->pdata[i];
        if (event->octets != NULL)
          longest = MAX (longest, g_bytes_get_size (event->octets));
      }
  }

  for (gsize split = 1; split < longest; split++)
    {
      g_autoptr(Link) l = link_new (NULL, &(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL });
      g_autofree char *commands = NULL;

      pl_test_link_run (&l->pair, 0, split);
      commands = sent_commands (l);
      g_assert_cmpstr (commands, ==, "USER bob|PASS hungry|LIST|RETR 1|DELE 1|RETR 2|DELE 2|QUIT");
      assert_textbook_messages (l);
      g_assert_false (pl_engine_is_failed (l->pair.client));
      pl_test_link_assert_streams (&l->pair);
      pl_test_link_assert_same_units (&l->pair, units, G_N_ELEMENTS (units));
    }
}

/*
 * The whole server side of a session handed over at once, and cut in two at
 * every octet: the client reads several replies from one feed.
 */
static void
test_replies_in_one_feed (void)
{
  g_autoptr(Link) reference = link_new (NULL, &(PlPop3ClientConfig) { NULL, NULL, FALSE, textbook_script });
  const guint8 *s;
  gsize len;

  pl_test_link_run (&reference->pair, 0, 0);
  s = reference->pair.s_stream->data;
  len = reference->pair.s_stream->len;

  for (gsize split = 0; split <= len; split++)
    {
      g_autoptr(PlEngine) client = pl_pop3_client_new (&(PlPop3ClientConfig) { NULL, NULL, FALSE, textbook_script });
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
      g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (client)), ==, 2);
      replies = pl_test_recorder_concat (recorder, PL_DIR_SERVER);
      g_assert_cmpmem (replies->data, replies->len, s, len);
    }
}

typedef struct {
  const char *path;
  const char *server;      /* what the server says, all of it */
  gsize       server_len;
  const char *commands;
  const char *error;
  guint       n_replies;
  guint       n_notes;
} CannedCase;

static const CannedCase canned_cases[] = {
  { "/pop3/client/canned/err-greeting", S ("-ERR go away\r\n"), "", "-ERR go away", 1, 0 },
  { "/pop3/client/canned/not-pop3", S ("220 smtp.example ESMTP\r\n"), "",
    "220 smtp.example ESMTP", 1, 1 },
  { "/pop3/client/canned/closed-after-greeting", S ("+OK hi\r\n"), "USER bob",
    "connection closed before the session ended", 1, 0 },
  { "/pop3/client/canned/cut-in-retr", S ("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 5\r\n.\r\n+OK 5 octets\r\nab"),
    "USER bob|PASS hungry|LIST|RETR 1", "connection closed before the session ended", 5, 1 },
  { "/pop3/client/canned/retr-err", S ("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 5\r\n7 9\r\n.\r\n-ERR gone\r\n+OK bye\r\n"),
    "USER bob|PASS hungry|LIST|RETR 1|QUIT", "-ERR gone", 6, 0 },
  { "/pop3/client/canned/bad-listing", S ("+OK\r\n+OK\r\n+OK\r\n+OK\r\nfoo\r\n3 5\r\n0 1\r\n.\r\n"
                                          "+OK\r\n..x\r\n.\r\n+OK\r\n+OK bye\r\n"),
    "USER bob|PASS hungry|LIST|RETR 3|DELE 3|QUIT", NULL, 7, 2 },
  { "/pop3/client/canned/bare-lf-server", S ("+OK\n+OK\n+OK\n+OK\n1 3\n.\n+OK\nhi\n.\n+OK\n+OK bye\n"),
    "USER bob|PASS hungry|LIST|RETR 1|DELE 1|QUIT", NULL, 7, 0 },
  { "/pop3/client/canned/quit-err", S ("+OK\r\n+OK\r\n+OK\r\n+OK\r\n.\r\n-ERR some deleted messages not removed\r\n"),
    "USER bob|PASS hungry|LIST|QUIT", "-ERR some deleted messages not removed", 5, 0 },
};

/* The client against a scripted server: bytes fed at once, then the connection closes. */
static void
test_canned (gconstpointer data)
{
  const CannedCase *cc = data;
  g_autoptr(PlEngine) client = pl_pop3_client_new (&(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL });
  g_autoptr(PlTestRecorder) recorder = pl_test_recorder_new (client);
  g_autoptr(GPtrArray) commands = NULL;
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GByteArray) s_stream = NULL;
  g_autoptr(GString) sent = g_string_new (NULL);

  pl_engine_start (client);
  pl_engine_feed (client, (const guint8 *) cc->server, cc->server_len);
  pl_engine_connection_lost (client);

  commands = pl_test_recorder_filter (recorder, PL_EVENT_COMMAND);
  for (guint i = 0; i < commands->len; i++)
    {
      PlEvent *event = commands->pdata[i];
      g_string_append_printf (sent, "%s%s%s%s", i > 0 ? "|" : "", event->verb,
                              event->args[0] != '\0' ? " " : "", event->args);
    }
  g_assert_cmpstr (sent->str, ==, cc->commands);
  g_assert_true (pl_engine_is_finished (client));
  g_assert_cmpint (pl_engine_is_failed (client), ==, cc->error != NULL);
  g_assert_cmpstr (pl_pop3_client_get_error (PL_POP3_CLIENT (client)), ==, cc->error);
  replies = pl_test_recorder_filter (recorder, PL_EVENT_REPLY);
  g_assert_cmpuint (replies->len, ==, cc->n_replies);
  notes = pl_test_recorder_filter (recorder, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, cc->n_notes);
  s_stream = pl_test_recorder_concat (recorder, PL_DIR_SERVER);
  g_assert_cmpmem (s_stream->data, s_stream->len, cc->server, cc->server_len);
}

/* A message with a stuffed line comes back un-stuffed; the bad-listing case kept "..x" as ".x". */
static void
test_unstuffed_message (void)
{
  static const char server[] = "+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 12\r\n.\r\n"
                               "+OK\r\n..\r\n...x\r\n.y\r\n.\r\n+OK bye\r\n";
  static const char unstuffed[] = ".\r\n..x\r\ny\r\n";
  g_autoptr(PlEngine) client = pl_pop3_client_new (&(PlPop3ClientConfig) { "bob", "hungry", FALSE, NULL });
  GBytes *message;

  pl_engine_start (client);
  pl_engine_feed (client, (const guint8 *) server, sizeof server - 1);
  g_assert_true (pl_engine_is_finished (client));
  message = pl_pop3_client_get_message (PL_POP3_CLIENT (client), 0);
  g_assert_nonnull (message);
  g_assert_cmpmem (g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                   unstuffed, sizeof unstuffed - 1);
}

/* A server line past the client's limit: the kept part and a note, and that message is not kept. */
static void
test_overlong_server_line (void)
{
  g_autoptr(PlEngine) client = pl_pop3_client_new (&(PlPop3ClientConfig) { "bob", "hungry", FALSE, NULL });
  g_autoptr(PlTestRecorder) recorder = pl_test_recorder_new (client);
  g_autoptr(GString) server = g_string_new ("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 99999\r\n.\r\n+OK\r\n");
  g_autoptr(GPtrArray) notes = NULL;

  for (guint i = 0; i < 70000; i++)
    g_string_append_c (server, 'q');
  g_string_append (server, "\r\n.\r\n+OK bye\r\n");
  pl_engine_start (client);
  pl_engine_feed (client, (const guint8 *) server->str, server->len);
  g_assert_true (pl_engine_is_finished (client));
  g_assert_true (pl_engine_is_failed (client));
  g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (client)), ==, 0);
  notes = pl_test_recorder_filter (recorder, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "server line longer than 65536 octets: 4466 octets discarded");
}

/*
 * Random server output, as an ordinary test: the client never crashes, its
 * reply events add up to what it was fed (up to what an over-long line
 * lost), and it never sends a command it was not meant to.
 */
static void
test_random_replies (void)
{
  static const char *const pieces[] = {
    "+OK", "-ERR", "+ ", " ", "1", "2 ", "498", ".", "..", "\r\n", "\r\n", "\n", "\r", "x", "\xff",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (2449);

  for (guint round = 0; round < 300; round++)
    {
      g_autoptr(PlEngine) client = pl_pop3_client_new (&(PlPop3ClientConfig) { "bob", "hungry", g_rand_boolean (rand), NULL });
      g_autoptr(PlTestRecorder) recorder = pl_test_recorder_new (client);
      g_autoptr(GByteArray) input = g_byte_array_new ();
      g_autoptr(GByteArray) s_stream = NULL;
      g_autoptr(GPtrArray) commands = NULL;
      guint n_pieces = (guint) g_rand_int_range (rand, 1, 200);
      gsize pos = 0;

      for (guint i = 0; i < n_pieces; i++)
        {
          const char *piece = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];
          g_byte_array_append (input, (const guint8 *) piece, (guint) strlen (piece));
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

      s_stream = pl_test_recorder_concat (recorder, PL_DIR_SERVER);
      g_assert_cmpuint (s_stream->len, <=, input->len);
      g_assert_cmpmem (s_stream->data, s_stream->len, input->data, s_stream->len);
      commands = pl_test_recorder_filter (recorder, PL_EVENT_COMMAND);
      for (guint i = 0; i < commands->len; i++)
        {
          const char *verb = ((PlEvent *) commands->pdata[i])->verb;
          g_assert_true (g_strv_contains ((const char *const[]) { "USER", "PASS", "LIST", "RETR", "DELE", "QUIT", NULL }, verb));
        }
    }
}

/* pl_pop3_client_reset() and pl_pop3_server_reset() ---------------------------------------------- */

/*
 * Both engines reset after a session (a fetch that keeps the mail) run the
 * next one (download-and-delete) exactly as new engines do on a store
 * that held the same: same streams, same events, same store after. The
 * simulator runs its POP3 sessions on engines taken back so.
 */
static void
test_reset_as_new (void)
{
  g_autoptr(Link) used = link_new (NULL, &(PlPop3ClientConfig) { "bob", "hungry", FALSE, NULL });
  g_autoptr(Link) fresh = link_new (NULL, &(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL });
  g_autoptr(Link) again = g_new0 (Link, 1);
  PlEngine *client;
  PlEngine *server;

  pl_test_link_run (&used->pair, 0, 0);
  g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (used->pair.client)), ==, 2);
  g_assert_cmpuint (bob_count (used), ==, 2);
  client = g_object_ref (used->pair.client);
  server = g_object_ref (used->pair.server);

  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_CRITICAL, "*config->script != NULL*");
  g_assert_false (pl_pop3_client_reset (PL_POP3_CLIENT (client), &(PlPop3ClientConfig) { "bob", NULL, TRUE, NULL }));
  g_test_assert_expected_messages ();

  g_assert_true (pl_pop3_client_reset (PL_POP3_CLIENT (client), &(PlPop3ClientConfig) { "bob", "hungry", TRUE, NULL }));
  g_assert_true (pl_pop3_server_reset (PL_POP3_SERVER (server), used->store, &(PlPop3ServerConfig) { NULL, 1000, 3 }));
  g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (client)), ==, 0);
  g_assert_null (pl_pop3_client_get_error (PL_POP3_CLIENT (client)));
  g_assert_false (pl_engine_is_finished (client));
  g_assert_false (pl_engine_is_finished (server));
  g_assert_null (pl_pop3_server_get_user (PL_POP3_SERVER (server)));

  again->store = g_object_ref (used->store);
  pl_test_link_init (&again->pair, client, server);
  pl_test_link_run (&again->pair, 0, 0);
  pl_test_link_run (&fresh->pair, 0, 0);

  g_assert_cmpmem (again->pair.c_stream->data, again->pair.c_stream->len,
                   fresh->pair.c_stream->data, fresh->pair.c_stream->len);
  g_assert_cmpmem (again->pair.s_stream->data, again->pair.s_stream->len,
                   fresh->pair.s_stream->data, fresh->pair.s_stream->len);
  g_assert_cmpuint (again->pair.client_recorder->events->len, ==, fresh->pair.client_recorder->events->len);
  for (guint i = 0; i < again->pair.client_recorder->events->len; i++)
    g_assert_cmpstr (((PlEvent *) again->pair.client_recorder->events->pdata[i])->text, ==,
                     ((PlEvent *) fresh->pair.client_recorder->events->pdata[i])->text);
  g_assert_cmpuint (pl_pop3_client_get_n_messages (PL_POP3_CLIENT (client)), ==, 2);
  g_assert_cmpuint (bob_count (again), ==, 0);
  g_assert_cmpuint (bob_count (fresh), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (fetch_cases); i++)
    g_test_add_data_func (fetch_cases[i].path, &fetch_cases[i], test_fetch);
  for (gsize i = 0; i < G_N_ELEMENTS (fail_cases); i++)
    g_test_add_data_func (fail_cases[i].path, &fail_cases[i], test_fail);
  for (gsize i = 0; i < G_N_ELEMENTS (canned_cases); i++)
    g_test_add_data_func (canned_cases[i].path, &canned_cases[i], test_canned);
  g_test_add_func ("/pop3/client/fetch-states", test_fetch_states);
  g_test_add_func ("/pop3/client/script-textbook", test_script_textbook);
  g_test_add_func ("/pop3/client/script-shapes", test_script_shapes);
  g_test_add_func ("/pop3/client/maildrop-locked", test_locked);
  g_test_add_func ("/pop3/client/empty-maildrop", test_empty_maildrop);
  g_test_add_func ("/pop3/client/split-replies", test_split_replies);
  g_test_add_func ("/pop3/client/replies-in-one-feed", test_replies_in_one_feed);
  g_test_add_func ("/pop3/client/reset-as-new", test_reset_as_new);
  g_test_add_func ("/pop3/client/unstuffed-message", test_unstuffed_message);
  g_test_add_func ("/pop3/client/overlong-server-line", test_overlong_server_line);
  g_test_add_func ("/pop3/client/random-replies", test_random_replies);

  return g_test_run ();
}
