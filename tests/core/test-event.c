/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlEvent: exact octets kept, display text made readable. */
#include "pl-event.h"
#include "pl-explain.h"

#include <string.h>

typedef struct {
  const char *name;
  const char *octets;
  gssize      len;        /* -1: strlen */
  gboolean    unstuff;
  const char *text;
} DisplayCase;

static const DisplayCase display_cases[] = {
  { "crlf",          "+OK POP3 server ready\r\n", -1, FALSE, "+OK POP3 server ready" },
  { "bare-lf",       "user bob\n", -1, FALSE, "user bob" },
  { "multi-line",    "+OK\r\n1 498\r\n2 912\r\n.\r\n", -1, FALSE, "+OK\n1 498\n2 912\n." },
  { "no-line-end",   "partial", -1, FALSE, "partial" },
  { "nul",           "a\0b\r\n", 5, FALSE, "a\xe2\x90\x80" "b" },
  { "control",       "a\x01z", -1, FALSE, "a\xef\xbf\xbdz" },
  { "tab-kept",      "a\tb", -1, FALSE, "a\tb" },
  { "utf8-kept",     "caf\xc3\xa9\r\n", -1, FALSE, "caf\xc3\xa9" },
  { "latin1-fixed",  "caf\xe9!", -1, FALSE, "caf\xef\xbf\xbd!" },
  { "cut-utf8",      "x\xc3", -1, FALSE, "x\xef\xbf\xbd" },
  { "unstuffed",     "+OK\r\n..sig\r\n.\r\n", -1, TRUE, "+OK\n.sig\n." },
  { "stuffed-kept",  "+OK\r\n..sig\r\n.\r\n", -1, FALSE, "+OK\n..sig\n." },
  { "dot-alone",     "..\r\n", -1, TRUE, "." },
  { "empty",         "", -1, FALSE, "" },
};

static void
test_display_text (gconstpointer data)
{
  const DisplayCase *c = data;
  gsize len = c->len < 0 ? strlen (c->octets) : (gsize) c->len;
  g_autofree char *text = pl_display_text_from_octets ((const guint8 *) c->octets, len, c->unstuff);

  g_assert_cmpstr (text, ==, c->text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
}

static void
test_event_octets_exact (void)
{
  static const guint8 raw[] = "USER bob\r\n\0tail";
  g_autoptr(PlEvent) event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, raw, sizeof raw);
  gsize len;
  const guint8 *data = pl_event_get_data (event, &len);

  g_assert_cmpmem (data, len, raw, sizeof raw);
  pl_event_set_verb (event, "user", "bob");
  g_assert_cmpstr (event->verb, ==, "USER");
  g_assert_cmpstr (event->args, ==, "bob");
  g_assert_cmpint (event->dir, ==, PL_DIR_CLIENT);
}

static void
test_event_note (void)
{
  g_autoptr(PlEvent) note = pl_event_new_note ("missing %u bytes (%s)", 1448u, "server to client");
  gsize len = 99;

  g_assert_cmpint (note->kind, ==, PL_EVENT_NOTE);
  g_assert_cmpstr (note->text, ==, "missing 1448 bytes (server to client)");
  g_assert_null (pl_event_get_data (note, &len));
  g_assert_cmpuint (len, ==, 0);
}

static void
test_explain (void)
{
  const PlExplanation *ex = pl_explain (PL_PROTOCOL_POP3, PL_DIR_CLIENT, "retr");

  g_assert_nonnull (ex);
  g_assert_true (g_str_has_prefix (ex->reference, "RFC 1939"));
  g_assert_nonnull (pl_explain (PL_PROTOCOL_POP3, PL_DIR_SERVER, "-ERR"));
  g_assert_null (pl_explain (PL_PROTOCOL_POP3, PL_DIR_CLIENT, "XYZZY"));
  g_assert_null (pl_explain (PL_PROTOCOL_POP3, PL_DIR_CLIENT, NULL));
}

static void
test_protocol_names (void)
{
  g_assert_cmpstr (pl_protocol_to_string (PL_PROTOCOL_POP3), ==, "pop3");
  g_assert_cmpint (pl_protocol_from_string ("SMTP"), ==, PL_PROTOCOL_SMTP);
  g_assert_cmpint (pl_protocol_from_string ("gopher"), ==, PL_PROTOCOL_UNKNOWN);
  g_assert_cmpstr (pl_protocol_to_string ((PlProtocol) 99), ==, "unknown");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (display_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/event/display/%s", display_cases[i].name);
      g_test_add_data_func (path, &display_cases[i], test_display_text);
    }
  g_test_add_func ("/core/event/octets-exact", test_event_octets_exact);
  g_test_add_func ("/core/event/note", test_event_note);
  g_test_add_func ("/core/explain/pop3", test_explain);
  g_test_add_func ("/core/types/protocol-names", test_protocol_names);
  return g_test_run ();
}
