/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of PlMessageSummary: headers parsed by GMime, encoded words, Received: order. */
#include "pl-message.h"

#include <string.h>

static PlMessageSummary *
parse_text (const char *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

  return pl_message_summary_parse (bytes);
}

static void
test_fields (void)
{
  static const struct {
    const char *message;
    const char *from;
    const char *to;
    const char *subject;
    const char *date;
    const char *message_id;
  } cases[] = {
    { "From: Alice <alice@a.example>\r\nTo: bob@b.example\r\nSubject: Hungry?\r\n"
      "Date: Mon, 14 Apr 2025 11:02:17 +0000\r\nMessage-ID: <1@a.example>\r\n\r\nbody\r\n",
      "Alice <alice@a.example>", "bob@b.example", "Hungry?",
      "Mon, 14 Apr 2025 11:02:17 +0000", "1@a.example" },
    /* LF line ends work the same. */
    { "From: alice@a.example\nSubject: lf\n\nbody\n",
      "alice@a.example", NULL, "lf", NULL, NULL },
    /* RFC 2047 encoded words are decoded to UTF-8. */
    { "From: =?UTF-8?Q?Andr=C3=A9?= <andre@a.example>\r\n"
      "Subject: =?ISO-8859-1?Q?caf=E9?= =?UTF-8?B?4pyT?=\r\n\r\n",
      "André <andre@a.example>", NULL, "café✓", NULL, NULL },
    /* A folded Subject is unfolded. */
    { "Subject: a long\r\n subject line\r\n\r\n",
      NULL, NULL, "a long subject line", NULL, NULL },
    /* Several recipients. */
    { "To: bob@b.example, Carol <carol@c.example>\r\n\r\n",
      NULL, "bob@b.example, Carol <carol@c.example>", NULL, NULL, NULL },
    /* A body that looks like headers is not read as headers. */
    { "Subject: real\r\n\r\nSubject: fake\r\nFrom: x@y\r\n",
      NULL, NULL, "real", NULL, NULL },
    /* No headers at all, or nothing. */
    { "\r\njust a body\r\n", NULL, NULL, NULL, NULL, NULL },
    { "\nSubject: in the body\n\n", NULL, NULL, NULL, NULL, NULL },
    { "", NULL, NULL, NULL, NULL, NULL },
    { "garbage without a colon or a newline", NULL, NULL, NULL, NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PlMessageSummary) summary = parse_text (cases[i].message);

      g_test_message ("case %u", i);
      g_assert_nonnull (summary);
      g_assert_cmpstr (summary->from, ==, cases[i].from);
      g_assert_cmpstr (summary->to, ==, cases[i].to);
      g_assert_cmpstr (summary->subject, ==, cases[i].subject);
      g_assert_cmpstr (summary->date, ==, cases[i].date);
      g_assert_cmpstr (summary->message_id, ==, cases[i].message_id);
      g_assert_nonnull (summary->received);
    }
}

static void
test_received (void)
{
  static const char message[] =
    "Received: from mail.a.example by mail.b.example; Mon, 14 Apr 2025 11:02:19 +0000\r\n"
    "Subject: path\r\n"
    "received: from alice-laptop by mail.a.example;\r\n"
    "\tMon, 14 Apr 2025 11:02:18 +0000\r\n"
    "From: alice@a.example\r\n"
    "\r\n"
    "Received: in the body, not a header\r\n";
  g_autoptr(PlMessageSummary) summary = parse_text (message);

  g_assert_cmpuint (summary->received->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (summary->received, 0), ==,
                   "from mail.a.example by mail.b.example; Mon, 14 Apr 2025 11:02:19 +0000");
  g_assert_nonnull (strstr (g_ptr_array_index (summary->received, 1), "from alice-laptop by mail.a.example;"));
  g_assert_nonnull (strstr (g_ptr_array_index (summary->received, 1), "11:02:18"));
}

/* Summaries may be made from several threads at once (GMime is set up once). */
static gpointer
parse_many (gpointer data)
{
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(PlMessageSummary) summary = parse_text ("Subject: =?UTF-8?Q?hi?=\r\n\r\n");

      if (g_strcmp0 (summary->subject, "hi") != 0)
        return GUINT_TO_POINTER (FALSE);
    }
  return GUINT_TO_POINTER (TRUE);
}

static void
test_threads (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("parse", parse_many, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (GPOINTER_TO_UINT (g_thread_join (threads[i])));
}

static void
test_free_null (void)
{
  pl_message_summary_free (NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/store/message/fields", test_fields);
  g_test_add_func ("/store/message/received", test_received);
  g_test_add_func ("/store/message/threads", test_threads);
  g_test_add_func ("/store/message/free-null", test_free_null);

  return g_test_run ();
}
