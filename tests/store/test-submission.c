/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of what a mail server writes into messages: dates, the headers a submission lacks, bounces. */
#include <locale.h>
#include <string.h>

#include "pl-message.h"
#include "pl-submission.h"

static GDateTime *
fixed_time (void)
{
  g_autoptr(GTimeZone) zone = g_time_zone_new_offset (2 * 3600 + 30 * 60);

  return g_date_time_new (zone, 2025, 4, 14, 11, 2, 7);
}

static void
test_date (void)
{
  g_autoptr(GDateTime) when = fixed_time ();
  g_autoptr(GDateTime) utc = g_date_time_new_utc (2024, 12, 1, 0, 0, 0);
  g_autoptr(GTimeZone) west = g_time_zone_new_offset (-5 * 3600);
  g_autoptr(GDateTime) new_york = g_date_time_new (west, 2025, 1, 5, 23, 59, 59);
  g_autofree char *a = pl_rfc5322_date (when);
  g_autofree char *b = pl_rfc5322_date (utc);
  g_autofree char *c = pl_rfc5322_date (new_york);

  g_assert_cmpstr (a, ==, "Mon, 14 Apr 2025 11:02:07 +0230");
  g_assert_cmpstr (b, ==, "Sun, 1 Dec 2024 00:00:00 +0000");
  g_assert_cmpstr (c, ==, "Sun, 5 Jan 2025 23:59:59 -0500");
}

static const struct {
  const char *name;
  const char *in;
  const char *out;
  const char *added;
} completions[] = {
  { "both-missing",
    "Received: from x ([127.0.0.1])\r\n\tby mail.a.example; date\r\nSubject: hi\r\n\r\nbody\r\n",
    "Received: from x ([127.0.0.1])\r\n\tby mail.a.example; date\r\nSubject: hi\r\n"
    "Date: Mon, 14 Apr 2025 11:02:07 +0230\r\nMessage-ID: <ID1@mail.a.example>\r\n\r\nbody\r\n",
    "Date, Message-ID" },
  { "date-present",
    "Subject: hi\r\nDATE: Sun, 1 Dec 2024 00:00:00 +0000\r\n\r\nbody\r\n",
    "Subject: hi\r\nDATE: Sun, 1 Dec 2024 00:00:00 +0000\r\nMessage-ID: <ID1@mail.a.example>\r\n\r\nbody\r\n",
    "Message-ID" },
  { "id-present",
    "message-id: <x@y>\r\n\r\n",
    "message-id: <x@y>\r\nDate: Mon, 14 Apr 2025 11:02:07 +0230\r\n\r\n",
    "Date" },
  { "nothing-missing",
    "Date: x\r\nMessage-Id: <x@y>\r\n\r\nbody with Date: in it\r\n",
    NULL, NULL },
  { "folded-fields",
    "Subject: a\r\n long subject\r\nTo: bob\r\n\r\nx\r\n",
    "Subject: a\r\n long subject\r\nTo: bob\r\nDate: Mon, 14 Apr 2025 11:02:07 +0230\r\n"
    "Message-ID: <ID1@mail.a.example>\r\n\r\nx\r\n",
    "Date, Message-ID" },
  { "no-header-at-all",
    "just a body line\r\n",
    "Date: Mon, 14 Apr 2025 11:02:07 +0230\r\nMessage-ID: <ID1@mail.a.example>\r\n\r\njust a body line\r\n",
    "Date, Message-ID" },
  { "body-without-blank-line",
    "Subject: hi\r\nthis is body\r\n",
    "Subject: hi\r\nDate: Mon, 14 Apr 2025 11:02:07 +0230\r\nMessage-ID: <ID1@mail.a.example>\r\n\r\nthis is body\r\n",
    "Date, Message-ID" },
  { "header-only",
    "Subject: hi\r\n",
    "Subject: hi\r\nDate: Mon, 14 Apr 2025 11:02:07 +0230\r\nMessage-ID: <ID1@mail.a.example>\r\n",
    "Date, Message-ID" },
  { "empty",
    "",
    "Date: Mon, 14 Apr 2025 11:02:07 +0230\r\nMessage-ID: <ID1@mail.a.example>\r\n",
    "Date, Message-ID" },
  { "date-in-body-only",
    "Subject: x\r\n\r\nDate: not a header\r\n",
    "Subject: x\r\nDate: Mon, 14 Apr 2025 11:02:07 +0230\r\nMessage-ID: <ID1@mail.a.example>\r\n\r\nDate: not a header\r\n",
    "Date, Message-ID" },
};

static void
test_complete (gconstpointer data)
{
  gsize i = GPOINTER_TO_SIZE (data);
  g_autoptr(GDateTime) when = fixed_time ();
  g_autoptr(GBytes) in = g_bytes_new_static (completions[i].in, strlen (completions[i].in));
  g_autofree char *added = NULL;
  g_autoptr(GBytes) out = pl_submission_complete (in, when, "ID1", "mail.a.example", &added);
  const char *expected = completions[i].out != NULL ? completions[i].out : completions[i].in;

  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), expected, strlen (expected));
  g_assert_cmpstr (added, ==, completions[i].added);
}

static void
test_dup_header (void)
{
  static const char text[] = "Received: x\r\n\ty\r\nSubject: s\r\n\r\nbody\r\n";
  g_autoptr(GBytes) message = g_bytes_new_static (text, sizeof text - 1);
  g_autofree char *header = pl_message_dup_header (message, 1000);
  g_autofree char *short_header = pl_message_dup_header (message, 5);

  g_assert_cmpstr (header, ==, "Received: x\r\n\ty\r\nSubject: s");
  g_assert_cmpstr (short_header, ==, "Recei");
}

static void
test_bounce (void)
{
  static const char original_text[] =
    "Received: from laptop ([127.0.0.1])\r\n\tby mail.a.example (Postlab) with ESMTP id ABC;\r\n\tdate\r\n"
    "From: alice@a.example\r\nTo: nobody@b.example\r\nSubject: Lunch\r\n\r\nsecret body\r\n";
  g_autoptr(GBytes) original = g_bytes_new_static (original_text, sizeof original_text - 1);
  g_autoptr(GDateTime) when = fixed_time ();
  const PlBounceRecipient recipients[] = {
    { "nobody@b.example", "mail.b.example (127.0.0.1:2526) said: 550 5.1.1 <nobody@b.example>: unknown user" },
  };
  g_autoptr(GBytes) bounce = pl_bounce_compose ("mail.a.example", "alice@a.example", recipients, 1,
                                                "The other server refused it for good (a 5xx reply).",
                                                original, "ABC", when, "DEF");
  g_autofree char *text = g_strndup (g_bytes_get_data (bounce, NULL), g_bytes_get_size (bounce));
  g_autoptr(PlMessageSummary) summary = pl_message_summary_parse (bounce);

  g_assert_true (g_str_has_prefix (text, "Date: Mon, 14 Apr 2025 11:02:07 +0230\r\n"
                                         "From: Mail Delivery System <MAILER-DAEMON@mail.a.example>\r\n"
                                         "To: <alice@a.example>\r\n"
                                         "Subject: Undelivered Mail Returned to Sender\r\n"
                                         "Message-ID: <DEF@mail.a.example>\r\n"
                                         "Auto-Submitted: auto-replied\r\n"));
  g_assert_nonnull (strstr (text, "\r\n\r\nThis is the mail system at mail.a.example.\r\n"));
  g_assert_nonnull (strstr (text, "\r\n<nobody@b.example>\r\n    mail.b.example (127.0.0.1:2526) said: "
                                  "550 5.1.1 <nobody@b.example>: unknown user\r\n"));
  g_assert_nonnull (strstr (text, "The other server refused it for good"));
  g_assert_nonnull (strstr (text, "queued here as ABC"));
  g_assert_nonnull (strstr (text, "\r\nSubject: Lunch\r\n"));
  g_assert_nonnull (strstr (text, "\r\n\tby mail.a.example (Postlab) with ESMTP id ABC;\r\n"));
  /* The headers, not the body: a bounce must not carry the content back around. */
  g_assert_null (strstr (text, "secret body"));
  /* Every line ends with CRLF. */
  for (const char *p = text; (p = strchr (p, '\n')) != NULL; p++)
    g_assert_cmpint (p[-1], ==, '\r');
  g_assert_cmpstr (summary->subject, ==, "Undelivered Mail Returned to Sender");
}

static void
test_bounce_long_and_bad_lines (void)
{
  g_autoptr(GString) reason = g_string_new ("said: ");
  g_autoptr(GBytes) original = g_bytes_new_static ("Subject: \xff\xfe\r\n\r\n", 15);
  g_autoptr(GDateTime) when = fixed_time ();
  PlBounceRecipient recipient = { "bob@b.example", NULL };
  g_autoptr(GBytes) bounce = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  for (guint i = 0; i < 300; i++)
    g_string_append (reason, "word ");
  recipient.reason = reason->str;
  bounce = pl_bounce_compose ("mail.a.example", "alice@a.example", &recipient, 1, NULL, original, NULL,
                              when, "X");
  text = g_strndup (g_bytes_get_data (bounce, NULL), g_bytes_get_size (bounce));
  g_assert_true (g_utf8_validate (text, -1, NULL));
  lines = g_strsplit (text, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint (strlen (lines[i]), <=, 998);
}

int
main (int    argc,
      char **argv)
{
  /* The names in dates are English whatever the locale says. */
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/submission/date", test_date);
  for (gsize i = 0; i < G_N_ELEMENTS (completions); i++)
    {
      g_autofree char *path = g_strdup_printf ("/submission/complete/%s", completions[i].name);

      g_test_add_data_func (path, GSIZE_TO_POINTER (i), test_complete);
    }
  g_test_add_func ("/submission/dup-header", test_dup_header);
  g_test_add_func ("/submission/bounce", test_bounce);
  g_test_add_func ("/submission/bounce-long-and-bad-lines", test_bounce_long_and_bad_lines);
  return g_test_run ();
}
