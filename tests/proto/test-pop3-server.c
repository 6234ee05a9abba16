/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlPop3Server: scripted dialogues per state and command, bad input, the textbook session. */

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "pl-memory-store.h"
#include "pl-pop3-grammar.h"
#include "pl-pop3-server.h"
#include "pl-textbook.h"
#include "engine-test-util.h"

#define S(str) str, sizeof (str) - 1

#define CAPA_REPLY \
  "+OK capability list follows\r\n" \
  "TOP\r\nUSER\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n" \
  "SASL PLAIN\r\nIMPLEMENTATION Postlab\r\n.\r\n"
#define LIST_REPLY "+OK 2 messages (1410 octets)\r\n1 498\r\n2 912\r\n.\r\n"
#define AUTH_ERR "-ERR [AUTH] invalid user name or password\r\n"
#define LOGIN "user bob\r\npass hungry\r\n"

/* The dialogue helper ---------------------------------------------------------- */

/* A server engine on a store, with everything fed to it and everything it said. */
typedef struct {
  PlTestDialogue talk;
  PlMailStore    *store;
} Dialogue;

static Dialogue *
dialogue_new_full (PlMailStore              *store,
                   const PlPop3ServerConfig *config)
{
  Dialogue *d = g_new0 (Dialogue, 1);

  d->store = store != NULL ? g_object_ref (store) : pl_test_textbook_store ();
  pl_test_dialogue_init (&d->talk, pl_pop3_server_new (d->store, config));
  return d;
}

static Dialogue *
dialogue_new (void)
{
  return dialogue_new_full (NULL, NULL);
}

static void
dialogue_free (Dialogue *d)
{
  pl_test_dialogue_clear (&d->talk);
  g_object_unref (d->store);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Dialogue, dialogue_free)

static void
dialogue_login (Dialogue *d)
{
  pl_test_dialogue_expect (&d->talk, LOGIN, "+OK\r\n+OK user successfully logged on\r\n");
  g_assert_cmpint (pl_pop3_server_get_state (PL_POP3_SERVER (d->talk.server)), ==,
                   PL_POP3_SERVER_TRANSACTION);
}

static guint
bob_count (Dialogue *d)
{
  return pl_memory_store_count (PL_MEMORY_STORE (d->store), PL_TEXTBOOK_USER);
}

/* "+OK <n> octets", the message dot-stuffed, "." : what RETR must send. */
static char *
expected_retr (guint index)
{
  g_autoptr(GBytes) message = pl_textbook_message (index);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree char *first = g_strdup_printf ("+OK %" G_GSIZE_FORMAT " octets\r\n",
                                            g_bytes_get_size (message));

  g_byte_array_append (out, (const guint8 *) first, (guint) strlen (first));
  pl_pop3_dot_stuff (out, g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  g_byte_array_append (out, (const guint8 *) ".\r\n\0", 4);
  return (char *) g_byte_array_free (g_steal_pointer (&out), FALSE);
}

/* Scripted exchanges: one test per state and command --------------------------- */

typedef struct {
  const char *path;
  gboolean    login;     /* start in TRANSACTION */
  const char *prelude;   /* sent first, its replies not checked */
  const char *input;
  gsize       input_len;
  const char *expected;
} Exchange;

static const Exchange exchanges[] = {
  /* AUTHORIZATION */
  { "/pop3/server/authorization/user", FALSE, NULL, S ("USER bob\r\n"), "+OK\r\n" },
  { "/pop3/server/authorization/user-lower-case", FALSE, NULL, S ("user bob\r\n"), "+OK\r\n" },
  { "/pop3/server/authorization/user-unknown", FALSE, NULL, S ("user nobody\r\n"), "+OK\r\n" },
  { "/pop3/server/authorization/user-missing-name", FALSE, NULL, S ("user\r\n"), "-ERR USER needs an argument\r\n" },
  { "/pop3/server/authorization/user-again", FALSE, "user alice\r\n", S ("user bob\r\npass hungry\r\n"),
    "+OK\r\n+OK user successfully logged on\r\n" },
  { "/pop3/server/authorization/pass", FALSE, "user bob\r\n", S ("pass hungry\r\n"), "+OK user successfully logged on\r\n" },
  { "/pop3/server/authorization/pass-without-user", FALSE, NULL, S ("pass hungry\r\n"), "-ERR send USER first\r\n" },
  { "/pop3/server/authorization/pass-missing", FALSE, "user bob\r\n", S ("pass\r\n"), "-ERR PASS needs an argument\r\n" },
  { "/pop3/server/authorization/pass-wrong", FALSE, "user bob\r\n", S ("pass full\r\n"), AUTH_ERR },
  { "/pop3/server/authorization/pass-unknown-user", FALSE, "user nobody\r\n", S ("pass hungry\r\n"), AUTH_ERR },
  { "/pop3/server/authorization/pass-after-failure", FALSE, "user bob\r\npass full\r\n", S ("pass hungry\r\n"),
    "-ERR send USER first\r\n" },
  { "/pop3/server/authorization/capa", FALSE, NULL, S ("capa\r\n"), CAPA_REPLY },
  { "/pop3/server/authorization/capa-with-args", FALSE, NULL, S ("capa x\r\n"), "-ERR CAPA takes no arguments\r\n" },
  { "/pop3/server/authorization/quit", FALSE, NULL, S ("quit\r\n"), "+OK POP3 server signing off\r\n" },
  { "/pop3/server/authorization/stat", FALSE, NULL, S ("stat\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/list", FALSE, NULL, S ("list\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/retr", FALSE, NULL, S ("retr 1\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/dele", FALSE, NULL, S ("dele 1\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/noop", FALSE, NULL, S ("noop\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/rset", FALSE, NULL, S ("rset\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/top", FALSE, NULL, S ("top 1 1\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/uidl", FALSE, NULL, S ("uidl\r\n"), "-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/bare-lf", FALSE, NULL, S ("user bob\npass hungry\n"),
    "+OK\r\n+OK user successfully logged on\r\n" },
  { "/pop3/server/authorization/auth-list", FALSE, NULL, S ("auth\r\n"), "+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n" },
  /* base64 of "\0bob\0hungry" */
  { "/pop3/server/authorization/auth-plain", FALSE, NULL, S ("AUTH PLAIN AGJvYgBodW5ncnk=\r\n"),
    "+OK user successfully logged on\r\n" },
  { "/pop3/server/authorization/auth-plain-authzid", FALSE, NULL, S ("AUTH PLAIN Ym9iAGJvYgBodW5ncnk=\r\n"),
    "+OK user successfully logged on\r\n" },
  { "/pop3/server/authorization/auth-plain-other-authzid", FALSE, NULL, S ("AUTH PLAIN YWxpY2UAYm9iAGh1bmdyeQ==\r\n"),
    "-ERR [AUTH] cannot act on behalf of another user\r\n" },
  { "/pop3/server/authorization/auth-plain-continue", FALSE, NULL, S ("AUTH PLAIN\r\nAGJvYgBodW5ncnk=\r\n"),
    "+ \r\n+OK user successfully logged on\r\n" },
  { "/pop3/server/authorization/auth-plain-cancel", FALSE, NULL, S ("AUTH PLAIN\r\n*\r\nnoop\r\n"),
    "+ \r\n-ERR authentication cancelled\r\n-ERR command not valid before login\r\n" },
  { "/pop3/server/authorization/auth-plain-wrong", FALSE, NULL, S ("AUTH PLAIN AGJvYgBmdWxs\r\n"), AUTH_ERR },
  { "/pop3/server/authorization/auth-plain-bad-base64", FALSE, NULL, S ("AUTH PLAIN !!!\r\n"),
    "-ERR invalid base64 in SASL response\r\n" },
  { "/pop3/server/authorization/auth-plain-malformed", FALSE, NULL, S ("AUTH PLAIN Ym9i\r\n"),
    "-ERR malformed PLAIN response\r\n" },
  { "/pop3/server/authorization/auth-other-mechanism", FALSE, NULL, S ("AUTH CRAM-MD5\r\n"),
    "-ERR unsupported SASL mechanism\r\n" },

  /* TRANSACTION */
  { "/pop3/server/transaction/stat", TRUE, NULL, S ("stat\r\n"), "+OK 2 1410\r\n" },
  { "/pop3/server/transaction/stat-args", TRUE, NULL, S ("stat 1\r\n"), "-ERR STAT takes no arguments\r\n" },
  { "/pop3/server/transaction/list", TRUE, NULL, S ("list\r\n"), LIST_REPLY },
  { "/pop3/server/transaction/list-trailing-space", TRUE, NULL, S ("list \r\n"), LIST_REPLY },
  { "/pop3/server/transaction/list-one", TRUE, NULL, S ("list 2\r\n"), "+OK 2 912\r\n" },
  { "/pop3/server/transaction/list-leading-zero", TRUE, NULL, S ("list 01\r\n"), "+OK 1 498\r\n" },
  { "/pop3/server/transaction/list-missing", TRUE, NULL, S ("list 3\r\n"),
    "-ERR no such message, only 2 messages in maildrop\r\n" },
  { "/pop3/server/transaction/list-zero", TRUE, NULL, S ("list 0\r\n"),
    "-ERR invalid message number: messages are numbered from 1\r\n" },
  { "/pop3/server/transaction/list-non-numeric", TRUE, NULL, S ("list one\r\n"), "-ERR invalid message number\r\n" },
  { "/pop3/server/transaction/list-negative", TRUE, NULL, S ("list -1\r\n"), "-ERR invalid message number\r\n" },
  { "/pop3/server/transaction/list-huge", TRUE, NULL, S ("list 99999999999999999999999999\r\n"),
    "-ERR no such message, only 2 messages in maildrop\r\n" },
  { "/pop3/server/transaction/list-too-many", TRUE, NULL, S ("list 1 2\r\n"), "-ERR too many arguments\r\n" },
  { "/pop3/server/transaction/list-after-dele", TRUE, "dele 1\r\n", S ("list\r\n"),
    "+OK 1 message (912 octets)\r\n2 912\r\n.\r\n" },
  { "/pop3/server/transaction/list-deleted", TRUE, "dele 1\r\n", S ("list 1\r\n"), "-ERR message 1 already deleted\r\n" },
  { "/pop3/server/transaction/stat-after-dele", TRUE, "dele 1\r\n", S ("stat\r\n"), "+OK 1 912\r\n" },
  { "/pop3/server/transaction/retr-missing-number", TRUE, NULL, S ("retr\r\n"), "-ERR missing message number\r\n" },
  { "/pop3/server/transaction/retr-missing", TRUE, NULL, S ("retr 3\r\n"),
    "-ERR no such message, only 2 messages in maildrop\r\n" },
  { "/pop3/server/transaction/retr-zero", TRUE, NULL, S ("retr 0\r\n"),
    "-ERR invalid message number: messages are numbered from 1\r\n" },
  { "/pop3/server/transaction/retr-non-numeric", TRUE, NULL, S ("retr x1\r\n"), "-ERR invalid message number\r\n" },
  { "/pop3/server/transaction/retr-huge", TRUE, NULL, S ("retr 4294967297\r\n"),
    "-ERR no such message, only 2 messages in maildrop\r\n" },
  { "/pop3/server/transaction/retr-deleted", TRUE, "dele 1\r\n", S ("retr 1\r\n"), "-ERR message 1 already deleted\r\n" },
  { "/pop3/server/transaction/dele", TRUE, NULL, S ("dele 1\r\n"), "+OK message 1 deleted\r\n" },
  { "/pop3/server/transaction/dele-twice", TRUE, "dele 1\r\n", S ("dele 1\r\n"), "-ERR message 1 already deleted\r\n" },
  { "/pop3/server/transaction/dele-missing", TRUE, NULL, S ("dele 7\r\n"),
    "-ERR no such message, only 2 messages in maildrop\r\n" },
  { "/pop3/server/transaction/dele-missing-number", TRUE, NULL, S ("dele\r\n"), "-ERR missing message number\r\n" },
  { "/pop3/server/transaction/noop", TRUE, NULL, S ("noop\r\n"), "+OK\r\n" },
  { "/pop3/server/transaction/noop-args", TRUE, NULL, S ("noop 1\r\n"), "-ERR NOOP takes no arguments\r\n" },
  { "/pop3/server/transaction/rset", TRUE, "dele 1\r\ndele 2\r\n", S ("rset\r\nlist\r\n"),
    "+OK maildrop has 2 messages (1410 octets)\r\n" LIST_REPLY },
  { "/pop3/server/transaction/top-usage", TRUE, NULL, S ("top 1\r\n"), "-ERR usage: TOP message-number lines\r\n" },
  { "/pop3/server/transaction/top-bad-lines", TRUE, NULL, S ("top 1 x\r\n"), "-ERR invalid number of lines\r\n" },
  { "/pop3/server/transaction/top-negative-lines", TRUE, NULL, S ("top 1 -1\r\n"), "-ERR invalid number of lines\r\n" },
  { "/pop3/server/transaction/top-missing", TRUE, NULL, S ("top 3 1\r\n"),
    "-ERR no such message, only 2 messages in maildrop\r\n" },
  { "/pop3/server/transaction/top-deleted", TRUE, "dele 2\r\n", S ("top 2 1\r\n"), "-ERR message 2 already deleted\r\n" },
  { "/pop3/server/transaction/top-too-many", TRUE, NULL, S ("top 1 2 3\r\n"), "-ERR too many arguments\r\n" },
  { "/pop3/server/transaction/uidl-missing", TRUE, NULL, S ("uidl 3\r\n"),
    "-ERR no such message, only 2 messages in maildrop\r\n" },
  { "/pop3/server/transaction/uidl-deleted", TRUE, "dele 1\r\n", S ("uidl 1\r\n"), "-ERR message 1 already deleted\r\n" },
  { "/pop3/server/transaction/user", TRUE, NULL, S ("user bob\r\n"), "-ERR command not valid after login\r\n" },
  { "/pop3/server/transaction/pass", TRUE, NULL, S ("pass hungry\r\n"), "-ERR command not valid after login\r\n" },
  { "/pop3/server/transaction/auth", TRUE, NULL, S ("auth\r\n"), "-ERR command not valid after login\r\n" },
  { "/pop3/server/transaction/capa", TRUE, NULL, S ("CAPA\r\n"), CAPA_REPLY },
  { "/pop3/server/transaction/quit", TRUE, NULL, S ("quit\r\n"), "+OK POP3 server signing off\r\n" },
  { "/pop3/server/transaction/quit-args", TRUE, NULL, S ("quit now\r\n"), "-ERR QUIT takes no arguments\r\n" },

  /* Bad input, in either state: answered, and the session goes on (the NOOP after each). */
  { "/pop3/server/bad/unknown-command", TRUE, NULL, S ("xyzzy\r\nnoop\r\n"), "-ERR unknown command \"XYZZY\"\r\n+OK\r\n" },
  { "/pop3/server/bad/apop-unsupported", FALSE, NULL, S ("apop bob 0123\r\n"), "-ERR unknown command \"APOP\"\r\n" },
  { "/pop3/server/bad/empty-line", TRUE, NULL, S ("\r\nnoop\r\n"), "-ERR empty command\r\n+OK\r\n" },
  { "/pop3/server/bad/nul", TRUE, NULL, S ("no\0op\r\nnoop\r\n"), "-ERR NUL octet in command\r\n+OK\r\n" },
  { "/pop3/server/bad/nul-in-args", TRUE, NULL, S ("retr 1\0\r\nnoop\r\n"), "-ERR NUL octet in command\r\n+OK\r\n" },
  { "/pop3/server/bad/lone-cr", TRUE, NULL, S ("no\rop\r\nnoop\r\n"), "-ERR stray CR in command\r\n+OK\r\n" },
  { "/pop3/server/bad/leading-space", TRUE, NULL, S (" noop\r\nnoop\r\n"), "-ERR invalid command\r\n+OK\r\n" },
  { "/pop3/server/bad/control-in-verb", TRUE, NULL, S ("no\x1bop\r\nnoop\r\n"), "-ERR invalid command\r\n+OK\r\n" },
  { "/pop3/server/bad/eight-bit-verb", FALSE, NULL, S ("\xc3\xa9\r\nquit\r\n"),
    "-ERR invalid command\r\n+OK POP3 server signing off\r\n" },
  { "/pop3/server/bad/space-only", FALSE, NULL, S (" \r\n"), "-ERR invalid command\r\n" },
  { "/pop3/server/bad/after-quit-ignored", TRUE, NULL, S ("quit\r\nnoop\r\nstat\r\n"), "+OK POP3 server signing off\r\n" },
};

static void
test_exchange (gconstpointer data)
{
  const Exchange *ex = data;
  g_autoptr(Dialogue) d = dialogue_new_full (NULL, &(PlPop3ServerConfig) { NULL, 250, 3 });
  g_autofree char *got = NULL;

  if (ex->login)
    dialogue_login (d);
  if (ex->prelude != NULL)
    g_free (pl_test_dialogue_say (&d->talk, ex->prelude));
  got = pl_test_dialogue_say_len (&d->talk, ex->input, ex->input_len);
  g_assert_cmpstr (got, ==, ex->expected);
  /* Whatever was said, nothing in the maildrop changed unless QUIT committed a DELE. */
  g_assert_cmpuint (bob_count (d), ==, 2);
}

/* The session of the textbook figure ------------------------------------------ */

typedef struct {
  const char *say;
  const char *reply;    /* NULL: the RETR of message (index) */
  guint       retr;
} Step;

static const Step textbook_steps[] = {
  { "user bob\r\n", "+OK\r\n", 0 },
  { "pass hungry\r\n", "+OK user successfully logged on\r\n", 0 },
  { "list\r\n", LIST_REPLY, 0 },
  { "retr 1\r\n", NULL, 0 },
  { "dele 1\r\n", "+OK message 1 deleted\r\n", 0 },
  { "retr 2\r\n", NULL, 1 },
  { "dele 2\r\n", "+OK message 2 deleted\r\n", 0 },
  { "quit\r\n", "+OK POP3 server signing off\r\n", 0 },
};

static void
test_textbook_session (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *greeting = g_strndup ((const char *) d->talk.output->data, d->talk.output->len);
  g_autofree char *retr2 = expected_retr (1);

  g_assert_cmpstr (greeting, ==, "+OK POP3 server ready\r\n");
  /* Message 2 has a line starting with ".": it goes out with one more. */
  g_assert_nonnull (strstr (retr2, "\r\n... and that's the plan."));

  for (gsize i = 0; i < G_N_ELEMENTS (textbook_steps); i++)
    {
      g_autofree char *expected = textbook_steps[i].reply != NULL
        ? g_strdup (textbook_steps[i].reply) : expected_retr (textbook_steps[i].retr);

      pl_test_dialogue_expect (&d->talk, textbook_steps[i].say, expected);
      if (i + 1 < G_N_ELEMENTS (textbook_steps))
        g_assert_false (pl_engine_is_finished (d->talk.server));
    }
  g_assert_true (pl_engine_is_finished (d->talk.server));
  g_assert_false (pl_engine_is_failed (d->talk.server));
  g_assert_cmpuint (bob_count (d), ==, 0);
  g_assert_cmpstr (d->talk.recorder->states->str, ==,
                   "AUTHORIZATION>TRANSACTION;TRANSACTION>UPDATE;UPDATE>CLOSED;");
  g_assert_cmpint (pl_pop3_server_get_state (PL_POP3_SERVER (d->talk.server)), ==, PL_POP3_SERVER_CLOSED);
}

/* The same session cut off before QUIT: no UPDATE state, nothing deleted, the lock released. */
static void
test_connection_lost (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(Dialogue) again = NULL;

  for (gsize i = 0; i + 1 < G_N_ELEMENTS (textbook_steps); i++)
    g_free (pl_test_dialogue_say (&d->talk, textbook_steps[i].say));
  pl_engine_connection_lost (d->talk.server);

  g_assert_true (pl_engine_is_finished (d->talk.server));
  g_assert_cmpuint (bob_count (d), ==, 2);
  g_assert_cmpstr (d->talk.recorder->states->str, ==, "AUTHORIZATION>TRANSACTION;TRANSACTION>CLOSED;");
  notes = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "connection lost without QUIT: no UPDATE state, 2 messages marked deleted stay in the maildrop");

  /* The next session finds both messages, numbered as before. */
  again = dialogue_new_full (d->store, NULL);
  dialogue_login (again);
  pl_test_dialogue_expect (&again->talk, "list\r\n", LIST_REPLY);
}

/* A line cut off by the disconnect still shows, as what it was. */
static void
test_connection_lost_mid_line (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GByteArray) c_stream = NULL;
  g_autoptr(GPtrArray) notes = NULL;

  g_free (pl_test_dialogue_say (&d->talk, "user bob\r\npa"));
  pl_engine_connection_lost (d->talk.server);
  c_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_CLIENT);
  g_assert_cmpmem (c_stream->data, c_stream->len, d->talk.input->data, d->talk.input->len);
  notes = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_nonnull (strstr (((PlEvent *) notes->pdata[0])->text, "middle of a line"));
  /* Lost again, or fed after: nothing more happens. */
  pl_engine_connection_lost (d->talk.server);
  pl_engine_feed (d->talk.server, (const guint8 *) "noop\r\n", 6);
  g_assert_cmpuint (pl_test_take_output (d->talk.server, NULL), ==, 0);
}

/* TOP and UIDL, whose replies come from the message and the store. */
static void
test_top (void)
{
  static const struct {
    guint       msg;
    const char *lines;
    guint       body_lines;   /* G_MAXUINT: the whole body */
  } cases[] = {
    { 1, "0", 0 }, { 1, "1", 1 }, { 1, "3", 3 }, { 2, "10", 10 },
    { 2, "1000", G_MAXUINT }, { 2, "99999999999999999999", G_MAXUINT },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Dialogue) d = dialogue_new ();
      g_autoptr(GBytes) message = pl_textbook_message (cases[i].msg - 1);
      const char *text = g_bytes_get_data (message, NULL);
      gsize msg_len = g_bytes_get_size (message);
      const char *body = strstr (text, "\r\n\r\n") + 4;
      const char *end = body;
      g_autoptr(GByteArray) expected = g_byte_array_new ();
      g_autofree char *first = g_strdup_printf ("+OK top of message %u follows\r\n", cases[i].msg);
      g_autofree char *command = g_strdup_printf ("top %u %s\r\n", cases[i].msg, cases[i].lines);
      g_autofree char *got = NULL;

      for (guint l = 0; l < cases[i].body_lines && end < text + msg_len; l++)
        end = strstr (end, "\r\n") + 2;
      if (cases[i].body_lines == G_MAXUINT)
        end = text + msg_len;
      g_byte_array_append (expected, (const guint8 *) first, (guint) strlen (first));
      pl_pop3_dot_stuff (expected, (const guint8 *) text, (gsize) (end - text));
      g_byte_array_append (expected, (const guint8 *) ".\r\n", 3);

      dialogue_login (d);
      got = pl_test_dialogue_say (&d->talk, command);
      g_test_message ("%s", command);
      g_assert_cmpmem (got, strlen (got), expected->data, expected->len);
    }
}

static gboolean
is_uid (const char *uid)
{
  gsize len = strlen (uid);

  if (len < 1 || len > 70)
    return FALSE;
  for (const char *p = uid; *p != '\0'; p++)
    if (*p < 0x21 || *p > 0x7e)
      return FALSE;
  return TRUE;
}

static void
test_uidl (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *all = NULL;
  g_autofree char *one = NULL;
  g_auto(GStrv) lines = NULL;
  char uid1[80], uid2[80], uid_one[80];
  guint n1, n2, n_one;

  dialogue_login (d);
  all = pl_test_dialogue_say (&d->talk, "uidl\r\n");
  lines = g_strsplit (all, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_cmpstr (lines[0], ==, "+OK unique-id listing follows");
  g_assert_cmpint (sscanf (lines[1], "%u %79s", &n1, uid1), ==, 2);
  g_assert_cmpint (sscanf (lines[2], "%u %79s", &n2, uid2), ==, 2);
  g_assert_cmpstr (lines[3], ==, ".");
  g_assert_cmpuint (n1, ==, 1);
  g_assert_cmpuint (n2, ==, 2);
  g_assert_true (is_uid (uid1));
  g_assert_true (is_uid (uid2));
  g_assert_cmpstr (uid1, !=, uid2);

  one = pl_test_dialogue_say (&d->talk, "uidl 2\r\n");
  g_assert_cmpint (sscanf (one, "+OK %u %79s", &n_one, uid_one), ==, 2);
  g_assert_cmpuint (n_one, ==, 2);
  g_assert_cmpstr (uid_one, ==, uid2);

  /* A deleted message drops out of the listing; the other keeps its number and id. */
  g_free (pl_test_dialogue_say (&d->talk, "dele 1\r\n"));
  g_free (one);
  one = pl_test_dialogue_say (&d->talk, "uidl\r\n");
  {
    g_autofree char *expected = g_strdup_printf ("+OK unique-id listing follows\r\n2 %s\r\n.\r\n", uid2);
    g_assert_cmpstr (one, ==, expected);
  }
}

/* Logins that fail ----------------------------------------------------------------- */

static void
test_greeting_config (void)
{
  g_autoptr(Dialogue) d = dialogue_new_full (NULL, &(PlPop3ServerConfig) { "Postlab POP3 at your service", 0, 0 });

  static const char expected[] = "+OK Postlab POP3 at your service\r\n";

  g_assert_cmpmem (d->talk.output->data, d->talk.output->len, expected, sizeof expected - 1);
}

/* A wrong password: -ERR [AUTH] only after the delay, then a right one still works. */
static void
test_wrong_password (void)
{
  g_autoptr(Dialogue) d = dialogue_new_full (NULL, &(PlPop3ServerConfig) { NULL, 1500, 3 });

  pl_test_dialogue_expect (&d->talk, "user bob\r\n", "+OK\r\n");
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 0);
  pl_test_dialogue_expect (&d->talk, "pass full\r\n", AUTH_ERR);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 1500);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 0);
  g_assert_null (pl_pop3_server_get_user (PL_POP3_SERVER (d->talk.server)));
  g_assert_cmpint (pl_pop3_server_get_state (PL_POP3_SERVER (d->talk.server)), ==, PL_POP3_SERVER_AUTHORIZATION);

  dialogue_login (d);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 0);
  g_assert_cmpstr (pl_pop3_server_get_user (PL_POP3_SERVER (d->talk.server)), ==, "bob");
}

/* After max_auth_failures, the server says so and ends the session. */
static void
test_max_auth_failures (void)
{
  g_autoptr(Dialogue) d = dialogue_new_full (NULL, &(PlPop3ServerConfig) { NULL, 10, 3 });

  pl_test_dialogue_expect (&d->talk, "user bob\r\npass a\r\n", "+OK\r\n" AUTH_ERR);
  pl_test_dialogue_expect (&d->talk, "user nobody\r\npass b\r\n", "+OK\r\n" AUTH_ERR);
  g_assert_false (pl_engine_is_finished (d->talk.server));
  pl_test_dialogue_expect (&d->talk, "user bob\r\npass c\r\nuser bob\r\npass hungry\r\n",
                   "+OK\r\n-ERR [AUTH] invalid user name or password; too many failed logins, closing connection\r\n");
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 10);
  g_assert_true (pl_engine_is_finished (d->talk.server));
  g_assert_cmpint (pl_pop3_server_get_state (PL_POP3_SERVER (d->talk.server)), ==, PL_POP3_SERVER_CLOSED);
}

/* max_auth_failures 0: the server never gives up on its own. */
static void
test_unlimited_auth_failures (void)
{
  g_autoptr(Dialogue) d = dialogue_new_full (NULL, &(PlPop3ServerConfig) { NULL, 0, 0 });

  for (guint i = 0; i < 20; i++)
    pl_test_dialogue_expect (&d->talk, "user bob\r\npass wrong\r\n", "+OK\r\n" AUTH_ERR);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 0);
  dialogue_login (d);
}

/* A second session on the same maildrop gets [IN-USE] until the first one ends. */
static void
test_maildrop_locked (void)
{
  g_autoptr(Dialogue) first = dialogue_new ();
  g_autoptr(Dialogue) second = NULL;
  g_autoptr(Dialogue) third = NULL;

  dialogue_login (first);
  second = dialogue_new_full (first->store, NULL);
  pl_test_dialogue_expect (&second->talk, LOGIN, "+OK\r\n-ERR [IN-USE] maildrop locked by another session\r\n");
  g_assert_cmpuint (pl_engine_take_delay (second->talk.server), ==, 0);
  g_assert_cmpint (pl_pop3_server_get_state (PL_POP3_SERVER (second->talk.server)), ==,
                   PL_POP3_SERVER_AUTHORIZATION);
  pl_test_dialogue_expect (&second->talk, "stat\r\n", "-ERR command not valid before login\r\n");

  g_free (pl_test_dialogue_say (&first->talk, "dele 1\r\nquit\r\n"));
  dialogue_login (second);
  pl_test_dialogue_expect (&second->talk, "stat\r\n", "+OK 1 912\r\n");
  /* AUTH PLAIN meets the same lock. */
  third = dialogue_new_full (first->store, NULL);
  pl_test_dialogue_expect (&third->talk, "AUTH PLAIN AGJvYgBodW5ncnk=\r\n",
                   "-ERR [IN-USE] maildrop locked by another session\r\n");
}

/* The 10,000-octet line: -ERR, the rest discarded, the session goes on; the event holds the kept prefix. */
static void
test_line_too_long (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) line = g_string_new ("user ");
  g_autoptr(GPtrArray) commands = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  PlEvent *command;
  gsize len;
  const guint8 *data;

  while (line->len < 10000)
    g_string_append_c (line, 'x');
  g_string_append (line, "\r\n");
  pl_test_dialogue_expect (&d->talk, line->str, "-ERR line too long (at most 512 octets)\r\n");
  dialogue_login (d);
  pl_test_dialogue_expect (&d->talk, "stat\r\n", "+OK 2 1410\r\n");

  commands = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_COMMAND);
  command = commands->pdata[0];
  data = pl_event_get_data (command, &len);
  g_assert_cmpmem (data, len, line->str, 512);
  g_assert_cmpstr (command->verb, ==, "USER");
  notes = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "client line longer than 512 octets: 9490 more octets discarded");
  /* Greeting, the line, the note, then the line's answer. */
  g_assert_true (d->talk.recorder->events->pdata[1] == (gpointer) command);
  g_assert_true (d->talk.recorder->events->pdata[2] == notes->pdata[0]);
  g_assert_cmpstr (((PlEvent *) d->talk.recorder->events->pdata[3])->status, ==, "-ERR");
}

/* The same line arriving in many small pieces. */
static void
test_line_too_long_in_pieces (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *got = pl_test_dialogue_say (&d->talk, "0123456789");
      g_string_append (out, got);
    }
  g_assert_cmpstr (out->str, ==, "");
  pl_test_dialogue_expect (&d->talk, "\r\nquit\r\n", "-ERR line too long (at most 512 octets)\r\n"
                   "+OK POP3 server signing off\r\n");
}

/* Pipelined commands in one feed (RFC 2449 PIPELINING) are answered in order. */
static void
test_pipelined (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *retr1 = expected_retr (0);
  g_autofree char *expected = g_strconcat ("+OK\r\n+OK user successfully logged on\r\n",
                                           "+OK 2 1410\r\n", LIST_REPLY, retr1,
                                           "+OK message 1 deleted\r\n",
                                           "-ERR message 1 already deleted\r\n",
                                           "+OK POP3 server signing off\r\n", NULL);

  pl_test_dialogue_expect (&d->talk, LOGIN "stat\r\nlist\r\nretr 1\r\ndele 1\r\nretr 1\r\nquit\r\nnoop\r\n", expected);
  g_assert_cmpuint (bob_count (d), ==, 1);
}

/*
 * A flood of pipelined RETR: the output waiting at any moment stays bounded,
 * every command is still answered in order once the driver sends, and a
 * connection lost midway shows the commands held back, unanswered.
 */
static void
test_pipelined_flood (void)
{
  const guint n = 2000;
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) flood = g_string_new (NULL);
  g_autofree char *retr2 = expected_retr (1);
  g_autoptr(GByteArray) all = g_byte_array_new ();
  gsize pending;
  guint rounds = 0;

  dialogue_login (d);
  for (guint i = 0; i < n; i++)
    g_string_append (flood, "retr 2\r\n");
  pl_engine_feed (d->talk.server, (const guint8 *) flood->str, flood->len);
  for (;;)
    {
      const guint8 *data = pl_engine_get_output (d->talk.server, &pending);

      g_assert_cmpuint (pending, <, 64 * 1024 + strlen (retr2));
      if (pending == 0)
        break;
      g_byte_array_append (all, data, (guint) pending);
      pl_engine_consume_output (d->talk.server, pending);
      rounds++;
    }
  g_assert_cmpuint (rounds, >, 10);
  g_assert_cmpuint (all->len, ==, n * strlen (retr2));
  for (guint i = 0; i < n; i++)
    g_assert_cmpmem (all->data + i * strlen (retr2), strlen (retr2), retr2, strlen (retr2));

  {
    g_autoptr(Dialogue) cut = dialogue_new ();
    g_autoptr(GPtrArray) notes = NULL;
    g_autoptr(GByteArray) c_stream = NULL;

    dialogue_login (cut);
    pl_engine_feed (cut->talk.server, (const guint8 *) flood->str, flood->len);
    g_byte_array_append (cut->talk.input, (const guint8 *) flood->str, (guint) flood->len);
    pl_engine_get_output (cut->talk.server, &pending);
    g_assert_cmpuint (pending, >, 0);
    pl_engine_connection_lost (cut->talk.server);
    notes = pl_test_recorder_filter (cut->talk.recorder, PL_EVENT_NOTE);
    g_assert_cmpuint (notes->len, ==, 2);
    g_assert_true (g_str_has_prefix (((PlEvent *) notes->pdata[0])->text, "connection lost: "));
    g_assert_true (g_str_has_suffix (((PlEvent *) notes->pdata[0])->text, " commands never answered"));
    c_stream = pl_test_recorder_concat (cut->talk.recorder, PL_DIR_CLIENT);
    g_assert_cmpmem (c_stream->data, c_stream->len, cut->talk.input->data, cut->talk.input->len);
    g_assert_cmpuint (bob_count (cut), ==, 2);
  }
}

static const char textbook_input[] =
  "user bob\r\npass hungry\r\nlist\r\nretr 1\r\ndele 1\r\nretr 2\r\ndele 2\r\nquit\r\n";

/* The client's bytes cut in two at every position give the same dialogue. */
static void
test_split_every_position (void)
{
  g_autoptr(Dialogue) whole = dialogue_new ();
  gsize len = strlen (textbook_input);

  g_free (pl_test_dialogue_say (&whole->talk, textbook_input));
  g_assert_cmpuint (bob_count (whole), ==, 0);

  for (gsize split = 0; split <= len; split++)
    {
      g_autoptr(Dialogue) d = dialogue_new ();

      g_free (pl_test_dialogue_say_len (&d->talk, textbook_input, split));
      g_free (pl_test_dialogue_say_len (&d->talk, textbook_input + split, len - split));
      g_assert_cmpmem (d->talk.output->data, d->talk.output->len, whole->talk.output->data, whole->talk.output->len);
      g_assert_cmpuint (bob_count (d), ==, 0);
      g_assert_cmpuint (d->talk.recorder->events->len, ==, whole->talk.recorder->events->len);
    }

  {
    g_autoptr(Dialogue) d = dialogue_new ();

    for (gsize i = 0; i < len; i++)
      g_free (pl_test_dialogue_say_len (&d->talk, textbook_input + i, 1));
    g_assert_cmpmem (d->talk.output->data, d->talk.output->len, whole->talk.output->data, whole->talk.output->len);
  }
}

/* Events: each direction's octets concatenated are that direction's byte stream. */
static void
test_event_octets (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(GByteArray) c_stream = NULL;
  g_autoptr(GByteArray) s_stream = NULL;
  g_autoptr(GByteArray) c_expected = g_byte_array_new ();
  gsize long_start;

  g_string_append (input, "user bob\n\r\nxyzzy\r\n");
  g_string_append_len (input, "no\0op\r\n", 7);
  long_start = input->len;
  for (guint i = 0; i < 2000; i++)
    g_string_append_c (input, 'z');
  g_string_append (input, "\r\n");
  g_string_append (input, "pass hungry\r\n");
  g_string_append (input, "user bob\r\npass hungry\r\nlist\r\nretr 2\r\ntop 2 3\r\ncapa\r\nquit\r\n");
  g_free (pl_test_dialogue_say_len (&d->talk, input->str, input->len));

  s_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_SERVER);
  g_assert_cmpmem (s_stream->data, s_stream->len, d->talk.output->data, d->talk.output->len);
  /* The client's stream, less what the long line lost past its first 512 octets. */
  g_byte_array_append (c_expected, (const guint8 *) input->str, (guint) (long_start + 512));
  g_byte_array_append (c_expected, (const guint8 *) input->str + long_start + 2002,
                       (guint) (input->len - long_start - 2002));
  c_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_CLIENT);
  g_assert_cmpmem (c_stream->data, c_stream->len, c_expected->data, c_expected->len);

  /* Wire order: greeting, then each command followed by its one reply (notes aside). */
  {
    PlDirection last = PL_DIR_CLIENT;

    for (guint i = 0; i < d->talk.recorder->events->len; i++)
      {
        PlEvent *event = d->talk.recorder->events->pdata[i];

        if (event->kind == PL_EVENT_NOTE)
          continue;
        g_assert_cmpint (event->dir, !=, last);
        g_assert_cmpint (event->kind, ==, event->dir == PL_DIR_CLIENT ? PL_EVENT_COMMAND : PL_EVENT_REPLY);
        last = event->dir;
      }
    g_assert_cmpint (last, ==, PL_DIR_SERVER);
  }
}

/* What each event says: verb and args as sent, status, un-dot-stuffed text. */
static void
test_event_fields (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GPtrArray) commands = NULL;
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(GBytes) message2 = pl_textbook_message (1);
  g_autofree char *message2_text = pl_display_text_from_octets (g_bytes_get_data (message2, NULL),
                                                                g_bytes_get_size (message2), FALSE);
  g_autofree char *retr_text = g_strconcat ("+OK 912 octets\n", message2_text, "\n.", NULL);
  PlEvent *event;

  g_free (pl_test_dialogue_say (&d->talk, "user bob\r\npass hungry\r\nretr 2\r\nretr 9\r\nxyzzy 1\r\n\r\n"));
  commands = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_COMMAND);
  replies = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_REPLY);
  g_assert_cmpuint (commands->len, ==, 6);
  g_assert_cmpuint (replies->len, ==, 7);

  event = commands->pdata[0];
  g_assert_cmpint (event->dir, ==, PL_DIR_CLIENT);
  g_assert_cmpstr (event->verb, ==, "USER");
  g_assert_cmpstr (event->args, ==, "bob");
  g_assert_cmpstr (event->text, ==, "user bob");
  event = commands->pdata[1];
  g_assert_cmpstr (event->verb, ==, "PASS");
  g_assert_cmpstr (event->args, ==, "hungry");     /* in the clear: the lesson of PASS */
  event = commands->pdata[4];
  g_assert_cmpstr (event->verb, ==, "XYZZY");
  g_assert_cmpstr (event->args, ==, "1");
  event = commands->pdata[5];
  g_assert_null (event->verb);
  g_assert_cmpstr (event->text, ==, "");

  event = replies->pdata[0];
  g_assert_cmpint (event->dir, ==, PL_DIR_SERVER);
  g_assert_cmpstr (event->status, ==, "+OK");
  g_assert_cmpstr (event->text, ==, "+OK POP3 server ready");
  event = replies->pdata[3];
  g_assert_cmpstr (event->status, ==, "+OK");
  g_assert_cmpstr (event->text, ==, retr_text);
  g_assert_nonnull (strstr (event->text, "\n.. and that's the plan."));
  g_assert_null (strstr (event->text, "..."));
  event = replies->pdata[4];
  g_assert_cmpstr (event->status, ==, "-ERR");
  event = replies->pdata[6];
  g_assert_cmpstr (event->status, ==, "-ERR");
  g_assert_cmpstr (event->text, ==, "-ERR empty command");
}

/* Only one bare-LF note per session, however many such lines. */
static void
test_bare_lf_note (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GPtrArray) notes = NULL;

  pl_test_dialogue_expect (&d->talk, "user bob\npass hungry\nstat\n", "+OK\r\n+OK user successfully logged on\r\n+OK 2 1410\r\n");
  notes = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_nonnull (strstr (((PlEvent *) notes->pdata[0])->text, "bare LF"));
}

/* A store that fails: to reach the replies for a broken disk ------------------------ */

#define TEST_TYPE_BROKEN_MAILDROP (test_broken_maildrop_get_type ())
G_DECLARE_FINAL_TYPE (TestBrokenMaildrop, test_broken_maildrop, TEST, BROKEN_MAILDROP, PlMaildrop)

struct _TestBrokenMaildrop
{
  PlMaildrop parent_instance;
};

G_DEFINE_FINAL_TYPE (TestBrokenMaildrop, test_broken_maildrop, PL_TYPE_MAILDROP)

static GBytes *
test_broken_maildrop_read (PlMaildrop  *maildrop,
                           guint        index,
                           GError     **error)
{
  if (index == 0)
    return g_bytes_new_static ("Subject: x\r\n\r\n.\r\nbody", 21);
  g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO, "disk on fire");
  return NULL;
}

static gboolean
test_broken_maildrop_expunge (PlMaildrop   *maildrop,
                              const guint  *indices,
                              guint         n_indices,
                              GError      **error)
{
  g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO, "disk on fire");
  return FALSE;
}

static void
test_broken_maildrop_class_init (TestBrokenMaildropClass *klass)
{
  PL_MAILDROP_CLASS (klass)->read = test_broken_maildrop_read;
  PL_MAILDROP_CLASS (klass)->expunge = test_broken_maildrop_expunge;
}

static void
test_broken_maildrop_init (TestBrokenMaildrop *self)
{
}

#define TEST_TYPE_BROKEN_STORE (test_broken_store_get_type ())
G_DECLARE_FINAL_TYPE (TestBrokenStore, test_broken_store, TEST, BROKEN_STORE, PlMailStore)

struct _TestBrokenStore
{
  PlMailStore parent_instance;
  gboolean    cannot_open;
};

G_DEFINE_FINAL_TYPE (TestBrokenStore, test_broken_store, PL_TYPE_MAIL_STORE)

static gboolean
test_broken_store_has_user (PlMailStore *store,
                            const char  *user)
{
  return strcmp (user, "bob") == 0;
}

static gboolean
test_broken_store_check_password (PlMailStore *store,
                                  const char  *user,
                                  const char  *password)
{
  return strcmp (user, "bob") == 0 && strcmp (password, "hungry") == 0;
}

static PlMaildrop *
test_broken_store_open_maildrop (PlMailStore  *store,
                                 const char   *user,
                                 GError      **error)
{
  PlMaildrop *maildrop;

  if (TEST_BROKEN_STORE (store)->cannot_open)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO, "disk on fire");
      return NULL;
    }
  maildrop = g_object_new (TEST_TYPE_BROKEN_MAILDROP, NULL);
  pl_maildrop_set_user (maildrop, user);
  /* 21 octets; its "." line must go out as ".." and it lacks a final CRLF. */
  pl_maildrop_append_info (maildrop, 21, g_strdup ("uid-1"));
  pl_maildrop_append_info (maildrop, 10, g_strdup ("uid-2"));
  return maildrop;
}

static void
test_broken_store_class_init (TestBrokenStoreClass *klass)
{
  PlMailStoreClass *store_class = PL_MAIL_STORE_CLASS (klass);

  store_class->has_user = test_broken_store_has_user;
  store_class->check_password = test_broken_store_check_password;
  store_class->open_maildrop = test_broken_store_open_maildrop;
}

static void
test_broken_store_init (TestBrokenStore *self)
{
}

static void
test_store_failures (void)
{
  g_autoptr(TestBrokenStore) store = g_object_new (TEST_TYPE_BROKEN_STORE, NULL);
  g_autoptr(Dialogue) d = NULL;
  g_autoptr(Dialogue) closed = NULL;

  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_WARNING, "*disk on fire*");
  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_WARNING, "*disk on fire*");
  d = dialogue_new_full (PL_MAIL_STORE (store), NULL);
  dialogue_login (d);
  /* A message without a final line end gets one before the ".". */
  pl_test_dialogue_expect (&d->talk, "retr 1\r\n", "+OK 21 octets\r\nSubject: x\r\n\r\n..\r\nbody\r\n.\r\n");
  pl_test_dialogue_expect (&d->talk, "retr 2\r\n", "-ERR [SYS/TEMP] unable to read message 2\r\n");
  pl_test_dialogue_expect (&d->talk, "dele 1\r\nquit\r\n", "+OK message 1 deleted\r\n-ERR some deleted messages not removed\r\n");
  g_assert_true (pl_engine_is_finished (d->talk.server));

  store->cannot_open = TRUE;
  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_WARNING, "*disk on fire*");
  closed = dialogue_new_full (PL_MAIL_STORE (store), NULL);
  pl_test_dialogue_expect (&closed->talk, LOGIN, "+OK\r\n-ERR [SYS/TEMP] unable to open the maildrop\r\n");
  g_test_assert_expected_messages ();
}

/*
 * Random input, run as an ordinary test (a fuzz target without a fuzzer):
 * fragments of real commands, line ends, NULs and noise, cut into random
 * feeds. Whatever arrives, the server answers every line it reads with
 * "+OK", "-ERR" or "+ " replies, its events add up to its output, and the
 * maildrop loses nothing unless a QUIT in TRANSACTION followed a DELE.
 */
static void
test_random_input (void)
{
  static const char *const pieces[] = {
    "user bob", "pass hungry", "pass x", "USER ", "list", "retr ", "dele ", "top ", "uidl",
    "stat", "noop", "rset", "capa", "auth plain", "AGJvYgBodW5ncnk=", "*", "1", "2", " ", "0",
    "99999999999999999999", "\r\n", "\r\n", "\r\n", "\n", "\r", "\t", "\x01", "\xff", ".",
    "retr 1\r\n", "retr 2\r\n", "dele 1\r\n", "dele 2\r\n", "top 2 3\r\n", "list\r\n", "rset\r\n",
    "quit\r\n",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (1939);
  guint n_ok = 0;

  for (guint round = 0; round < 300; round++)
    {
      g_autoptr(Dialogue) d = dialogue_new_full (NULL, &(PlPop3ServerConfig) { NULL, 5, 0 });
      g_autoptr(GByteArray) input = g_byte_array_new ();
      g_autoptr(GByteArray) s_stream = NULL;
      g_autoptr(GPtrArray) replies = NULL;
      guint n_pieces = (guint) g_rand_int_range (rand, 1, 120);

      /* Half the sessions start in TRANSACTION, where most commands live. */
      if (round % 2 == 1)
        g_byte_array_append (input, (const guint8 *) LOGIN, sizeof LOGIN - 1);
      for (guint i = 0; i < n_pieces; i++)
        {
          const char *piece = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];
          if (g_rand_int_range (rand, 0, 40) == 0)
            g_byte_array_append (input, (const guint8 *) "\0", 1);
          else if (g_rand_int_range (rand, 0, 60) == 0)
            for (guint k = 0; k < 600; k++)
              g_byte_array_append (input, (const guint8 *) "L", 1);
          else
            g_byte_array_append (input, (const guint8 *) piece, (guint) strlen (piece));
        }
      pl_test_dialogue_feed_randomly (&d->talk, input->data, input->len, rand);
      if (g_rand_boolean (rand))
        pl_engine_connection_lost (d->talk.server);

      s_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_SERVER);
      g_assert_cmpmem (s_stream->data, s_stream->len, d->talk.output->data, d->talk.output->len);
      replies = pl_test_recorder_filter (d->talk.recorder, PL_EVENT_REPLY);
      for (guint i = 0; i < replies->len; i++)
        {
          PlEvent *event = replies->pdata[i];
          g_assert_true (g_strcmp0 (event->status, "+OK") == 0 || g_strcmp0 (event->status, "-ERR") == 0
                         || g_strcmp0 (event->status, "+") == 0);
        }
      if (g_strstr_len ((const char *) d->talk.output->data, d->talk.output->len, "deleted\r\n") == NULL)
        g_assert_cmpuint (bob_count (d), ==, 2);
      n_ok += g_strstr_len ((const char *) d->talk.output->data, d->talk.output->len, " octets\r\n") != NULL;
    }
  /* The noise did reach the commands that read the maildrop. */
  g_assert_cmpuint (n_ok, >, 20);
}

static void
test_empty_maildrop (void)
{
  g_autoptr(PlMailStore) store = pl_memory_store_new ();
  g_autoptr(Dialogue) d = NULL;

  pl_memory_store_add_user (PL_MEMORY_STORE (store), "carol", "secret");
  d = dialogue_new_full (store, NULL);
  pl_test_dialogue_expect (&d->talk, "user carol\r\npass secret\r\nstat\r\nlist\r\nuidl\r\nretr 1\r\nrset\r\nquit\r\n",
                   "+OK\r\n+OK user successfully logged on\r\n+OK 0 0\r\n"
                   "+OK 0 messages (0 octets)\r\n.\r\n"
                   "+OK unique-id listing follows\r\n.\r\n"
                   "-ERR no such message, only 0 messages in maildrop\r\n"
                   "+OK maildrop has 0 messages (0 octets)\r\n"
                   "+OK POP3 server signing off\r\n");
}

typedef struct {
  GByteArray *all;
  guint       calls;
  gsize       largest;
} Drained;

static void
collect_output (const guint8 *data,
                gsize         len,
                gpointer      user_data)
{
  Drained *drained = user_data;

  g_byte_array_append (drained->all, data, (guint) len);
  drained->calls++;
  drained->largest = MAX (drained->largest, len);
}

/*
 * pl_engine_drain_output() sends what the get/consume loop of a driver
 * sends, in the same bounded pieces (the flood above), and holds it all
 * back while the engine asks for a delay (a failed login).
 */
static void
test_drain_output (void)
{
  const guint n = 2000;
  g_autoptr(Dialogue) d = dialogue_new_full (NULL, &(PlPop3ServerConfig) { NULL, 250, 3 });
  g_autoptr(GString) flood = g_string_new (NULL);
  g_autofree char *retr2 = expected_retr (1);
  Drained drained = { g_byte_array_new (), 0, 0 };
  guint delay = 0;

  /* A wrong password: its -ERR waits. */
  pl_engine_feed (d->talk.server, (const guint8 *) "user bob\r\npass wrong\r\n", 22);
  g_assert_false (pl_engine_drain_output (d->talk.server, &delay, collect_output, &drained));
  g_assert_cmpuint (delay, ==, 250);
  g_assert_cmpuint (drained.calls, ==, 0);
  /* Asked again (the driver waited): it goes, and the delay is not asked twice. */
  g_assert_false (pl_engine_drain_output (d->talk.server, &delay, collect_output, &drained));
  g_assert_cmpuint (delay, ==, 0);
  g_assert_cmpuint (drained.all->len, >=, strlen (AUTH_ERR));
  g_assert_cmpmem (drained.all->data + drained.all->len - strlen (AUTH_ERR), strlen (AUTH_ERR),
                   AUTH_ERR, strlen (AUTH_ERR));
  g_byte_array_set_size (drained.all, 0);
  drained.calls = 0;

  /* The flood: every reply, in order, in pieces no bigger than the get/consume loop sees. */
  pl_engine_feed (d->talk.server, (const guint8 *) LOGIN, strlen (LOGIN));
  g_assert_false (pl_engine_drain_output (d->talk.server, NULL, collect_output, &drained));
  g_byte_array_set_size (drained.all, 0);
  drained.calls = 0;
  for (guint i = 0; i < n; i++)
    g_string_append (flood, "retr 2\r\n");
  g_string_append (flood, "quit\r\n");
  pl_engine_feed (d->talk.server, (const guint8 *) flood->str, flood->len);
  g_assert_true (pl_engine_drain_output (d->talk.server, &delay, collect_output, &drained));
  g_assert_cmpuint (delay, ==, 0);
  g_assert_cmpuint (drained.calls, >, 10);
  g_assert_cmpuint (drained.largest, <, 64 * 1024 + strlen (retr2));
  g_assert_cmpuint (drained.all->len, >, n * strlen (retr2));
  for (guint i = 0; i < n; i++)
    g_assert_cmpmem (drained.all->data + i * strlen (retr2), strlen (retr2), retr2, strlen (retr2));
  g_assert_cmpmem (drained.all->data + n * strlen (retr2), 3, "+OK", 3);
  g_byte_array_unref (drained.all);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (exchanges); i++)
    g_test_add_data_func (exchanges[i].path, &exchanges[i], test_exchange);
  g_test_add_func ("/pop3/server/greeting-config", test_greeting_config);
  g_test_add_func ("/pop3/server/textbook-session", test_textbook_session);
  g_test_add_func ("/pop3/server/connection-lost-deletes-nothing", test_connection_lost);
  g_test_add_func ("/pop3/server/connection-lost-mid-line", test_connection_lost_mid_line);
  g_test_add_func ("/pop3/server/transaction/top", test_top);
  g_test_add_func ("/pop3/server/transaction/uidl", test_uidl);
  g_test_add_func ("/pop3/server/wrong-password-delay", test_wrong_password);
  g_test_add_func ("/pop3/server/max-auth-failures", test_max_auth_failures);
  g_test_add_func ("/pop3/server/unlimited-auth-failures", test_unlimited_auth_failures);
  g_test_add_func ("/pop3/server/maildrop-locked", test_maildrop_locked);
  g_test_add_func ("/pop3/server/bad/line-too-long", test_line_too_long);
  g_test_add_func ("/pop3/server/bad/line-too-long-in-pieces", test_line_too_long_in_pieces);
  g_test_add_func ("/pop3/server/pipelined", test_pipelined);
  g_test_add_func ("/pop3/server/pipelined-flood", test_pipelined_flood);
  g_test_add_func ("/pop3/server/split-every-position", test_split_every_position);
  g_test_add_func ("/pop3/server/event-octets", test_event_octets);
  g_test_add_func ("/pop3/server/event-fields", test_event_fields);
  g_test_add_func ("/pop3/server/bare-lf-note", test_bare_lf_note);
  g_test_add_func ("/pop3/server/store-failures", test_store_failures);
  g_test_add_func ("/pop3/server/empty-maildrop", test_empty_maildrop);
  g_test_add_func ("/pop3/server/random-input", test_random_input);
  g_test_add_func ("/pop3/server/drain-output", test_drain_output);

  return g_test_run ();
}
