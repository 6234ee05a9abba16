/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of what the application's views stand on, without a display: the cursor, the topology, the loader, exports. */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "pl-cursor.h"
#include "pl-document-loader.h"
#include "pl-event-message.h"
#include "pl-inspector.h"
#include "pl-ladder-export.h"
#include "pl-topology.h"

/* A trace of @n commands in one session. */
static PlTrace *
make_trace (guint n)
{
  PlTrace *trace = pl_trace_new (TRUE);
  PlSession *session = pl_trace_open_session (trace, PL_PROTOCOL_POP3, "192.0.2.1:40000", "192.0.2.2:110", 0);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PlEvent) event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) "NOOP\r\n", 6);

      event->time = i;
      pl_trace_add_event (trace, session, event);
    }
  return trace;
}

/* The cursor --------------------------------------------------------------------------- */

static void
test_cursor_steps (void)
{
  g_autoptr(PlTrace) trace = make_trace (5);
  g_autoptr(PlCursor) cursor = pl_cursor_new ();

  g_assert_cmpuint (pl_cursor_get_n_steps (cursor), ==, 0);
  g_assert_false (pl_cursor_step_forward (cursor));

  pl_cursor_set_trace (cursor, trace);
  g_assert_cmpuint (pl_cursor_get_n_steps (cursor), ==, 5);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 0);
  g_assert_null (pl_cursor_get_event (cursor));
  g_assert_false (pl_cursor_get_animating (cursor));
  g_assert_false (pl_cursor_step_back (cursor));

  /* Forward: the next unit leaves, and arrives as time passes. */
  g_assert_true (pl_cursor_step_forward (cursor));
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 1);
  g_assert_true (pl_cursor_get_event (cursor) == pl_trace_get_event (trace, 0));
  g_assert_cmpfloat (pl_cursor_get_progress (cursor), ==, 0);
  g_assert_true (pl_cursor_get_animating (cursor));
  g_assert_true (pl_cursor_advance (cursor, 0.1));
  g_assert_cmpfloat (pl_cursor_get_progress (cursor), >, 0);
  g_assert_cmpfloat (pl_cursor_get_progress (cursor), <, 1);
  g_assert_false (pl_cursor_advance (cursor, 10));
  g_assert_cmpfloat (pl_cursor_get_progress (cursor), ==, 1);
  /* Not playing: it stays at its step. */
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 1);

  /* Back: the earlier step, shown arrived; not animated. */
  pl_cursor_step_forward (cursor);
  pl_cursor_step_forward (cursor);
  g_assert_true (pl_cursor_step_back (cursor));
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 2);
  g_assert_cmpfloat (pl_cursor_get_progress (cursor), ==, 1);
  g_assert_false (pl_cursor_get_animating (cursor));

  pl_cursor_last (cursor);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 5);
  g_assert_false (pl_cursor_step_forward (cursor));
  pl_cursor_set_position (cursor, 99);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 5);
  pl_cursor_first (cursor);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 0);

  /* Another trace starts from its beginning. */
  pl_cursor_set_position (cursor, 3);
  pl_cursor_set_trace (cursor, NULL);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 0);
  g_assert_cmpuint (pl_cursor_get_n_steps (cursor), ==, 0);
}

static void
test_cursor_play (void)
{
  g_autoptr(PlTrace) trace = make_trace (5);
  g_autoptr(PlCursor) cursor = pl_cursor_new ();
  double step = PL_CURSOR_STEP_SECONDS;

  pl_cursor_set_trace (cursor, trace);
  pl_cursor_set_playing (cursor, TRUE);
  g_assert_true (pl_cursor_get_animating (cursor));

  /* Steps go at one per PL_CURSOR_STEP_SECONDS, the first at once. */
  pl_cursor_advance (cursor, 0.01);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 1);
  pl_cursor_advance (cursor, step * 2);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 3);

  /* Twice as fast: two steps in one step's time. */
  pl_cursor_set_speed (cursor, 2);
  pl_cursor_advance (cursor, step);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 5);

  /* At the end it stops by itself, arrived. */
  g_assert_false (pl_cursor_advance (cursor, step * 10));
  g_assert_false (pl_cursor_get_playing (cursor));
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 5);
  g_assert_cmpfloat (pl_cursor_get_progress (cursor), ==, 1);

  /* Play at the end plays again from the start. */
  pl_cursor_set_playing (cursor, TRUE);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 0);
  g_assert_true (pl_cursor_get_playing (cursor));

  /* Speeds stay within 0.25× to 8×. */
  pl_cursor_set_speed (cursor, 100);
  g_assert_cmpfloat (pl_cursor_get_speed (cursor), ==, PL_CURSOR_MAX_SPEED);
  pl_cursor_set_speed (cursor, 0.001);
  g_assert_cmpfloat (pl_cursor_get_speed (cursor), ==, PL_CURSOR_MIN_SPEED);
}

/* A trace that grows (a live capture, the console) plays into what comes when the cursor was at the end. */
static void
test_cursor_follows_growth (void)
{
  g_autoptr(PlTrace) trace = make_trace (2);
  g_autoptr(PlCursor) cursor = pl_cursor_new ();
  PlSession *session = pl_trace_get_session (trace, 1);
  g_autoptr(PlEvent) event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) "STAT\r\n", 6);

  pl_cursor_set_trace (cursor, trace);
  pl_cursor_last (cursor);
  g_assert_false (pl_cursor_get_playing (cursor));
  pl_trace_add_event (trace, session, event);
  g_assert_cmpuint (pl_cursor_get_n_steps (cursor), ==, 3);
  g_assert_true (pl_cursor_get_playing (cursor));
  pl_cursor_advance (cursor, PL_CURSOR_STEP_SECONDS * 3);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 3);
  g_assert_false (pl_cursor_get_animating (cursor));

  /* A cursor looking at an earlier step stays there. */
  pl_cursor_set_position (cursor, 1);
  pl_trace_add_event (trace, session, event);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 1);
  g_assert_false (pl_cursor_get_playing (cursor));
}

/* The topology of a capture ------------------------------------------------------------ */

static PlEvent *
reply (const char *text,
       const char *status)
{
  g_autofree char *wire = g_strconcat (text, "\r\n", NULL);
  PlEvent *event = pl_event_new (PL_EVENT_REPLY, PL_DIR_SERVER, (const guint8 *) wire, strlen (wire));

  pl_event_set_status (event, status);
  return event;
}

static PlEvent *
command (const char *verb,
         const char *args)
{
  g_autofree char *wire = g_strdup_printf ("%s %s\r\n", verb, args);
  PlEvent *event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) wire, strlen (wire));

  pl_event_set_verb (event, verb, args);
  return event;
}

static void
add (PlTrace   *trace,
     PlSession *session,
     PlEvent   *event)
{
  pl_trace_add_event (trace, session, event);
  pl_event_unref (event);
}

static guint
host_named (PlTopology *topology,
            const char *name)
{
  for (guint i = 0; i < pl_topology_get_n_hosts (topology); i++)
    if (g_str_equal (pl_topology_get_host (topology, i)->name, name))
      return i;
  g_assert_not_reached ();
  return 0;
}

static void
test_topology_capture (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(PlTopology) topology = pl_topology_new (NULL);
  g_autoptr(PlSession) submission = pl_session_new (PL_PROTOCOL_SMTP, "10.0.0.5:40000", "10.0.0.25:587", 0);
  PlSession *relay;
  PlSession *pull;
  const PlTopologyHost *host;
  guint client;
  guint server;
  guint link;

  pl_topology_watch (topology, trace);
  submission->hop = PL_HOP_SUBMISSION;
  pl_trace_add_session (trace, submission);
  add (trace, submission, reply ("220 smtp.a.test ESMTP", "220"));
  add (trace, submission, command ("EHLO", "[10.0.0.5]"));
  relay = pl_trace_open_session (trace, PL_PROTOCOL_SMTP, "10.0.0.25:41000", "10.0.0.26:25", 1);
  add (trace, relay, reply ("220 mx.b.test ESMTP", "220"));
  add (trace, relay, command ("EHLO", "smtp.a.test"));
  pull = pl_trace_open_session (trace, PL_PROTOCOL_POP3, "10.0.0.9:42000", "10.0.0.26:110", 2);
  add (trace, pull, reply ("+OK POP3 server ready", "+OK"));

  /* Named by what they say (greeting), placed by what they do. */
  g_assert_cmpuint (pl_topology_get_n_hosts (topology), ==, 4);
  host = pl_topology_get_host (topology, host_named (topology, "smtp.a.test"));
  g_assert_cmpint (host->role, ==, PL_ROLE_SENDING_SERVER);
  g_assert_cmpint (host->column, ==, PL_TOPOLOGY_COLUMN_SENDING);
  g_assert_cmpstr (host->address, ==, "10.0.0.25");
  host = pl_topology_get_host (topology, host_named (topology, "mx.b.test"));
  g_assert_cmpint (host->role, ==, PL_ROLE_RECEIVING_SERVER);
  host = pl_topology_get_host (topology, host_named (topology, "10.0.0.5"));
  g_assert_cmpint (host->column, ==, PL_TOPOLOGY_COLUMN_SENDERS);
  host = pl_topology_get_host (topology, host_named (topology, "10.0.0.9"));
  g_assert_cmpint (host->column, ==, PL_TOPOLOGY_COLUMN_READERS);

  g_assert_true (pl_topology_get_session_hosts (topology, pull->id, &client, &server, &link));
  g_assert_cmpuint (server, ==, host_named (topology, "mx.b.test"));
  g_assert_true (pl_topology_get_link (topology, link)->pull);
  g_assert_cmpint (pl_topology_get_link (topology, link)->pull_protocol, ==, PL_PROTOCOL_POP3);
  g_assert_true (pl_topology_get_session_hosts (topology, relay->id, &client, &server, &link));
  g_assert_true (pl_topology_get_link (topology, link)->push);
  g_assert_cmpuint (pl_topology_get_link (topology, link)->push_server, ==, host_named (topology, "mx.b.test"));
  g_assert_false (pl_topology_get_session_hosts (topology, 99, NULL, NULL, NULL));
  pl_topology_unwatch (topology);
}

/* On loopback every host is 127.0.0.1: `serve`'s servers are told apart by the world's ports. */
static void
test_topology_loopback (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlWorld) world = pl_world_new_default (&error);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(PlTopology) topology = NULL;
  PlSession *submit;
  PlSession *relay;
  PlSession *pull;
  guint client;
  guint server;

  g_assert_no_error (error);
  topology = pl_topology_new (world);
  pl_topology_watch (topology, trace);
  submit = pl_trace_open_session (trace, PL_PROTOCOL_SMTP, "127.0.0.1:40000", "127.0.0.1:2525", 0);
  add (trace, submit, reply ("220 mail.a.example ESMTP Postlab", "220"));
  relay = pl_trace_open_session (trace, PL_PROTOCOL_SMTP, "127.0.0.1:40001", "127.0.0.1:2526", 1);
  add (trace, relay, reply ("220 mail.b.example ESMTP Postlab", "220"));
  add (trace, relay, command ("EHLO", "mail.a.example"));
  pull = pl_trace_open_session (trace, PL_PROTOCOL_POP3, "127.0.0.1:40002", "127.0.0.1:1110", 2);

  /* mail.b.example's SMTP and POP3 ports are one host; its relay client is mail.a.example. */
  g_assert_cmpuint (pl_topology_get_n_hosts (topology), ==, 3);
  g_assert_true (pl_topology_get_session_hosts (topology, relay->id, &client, &server, NULL));
  g_assert_cmpuint (client, ==, host_named (topology, "mail.a.example"));
  g_assert_cmpuint (server, ==, host_named (topology, "mail.b.example"));
  g_assert_true (pl_topology_get_session_hosts (topology, pull->id, NULL, &server, NULL));
  g_assert_cmpuint (server, ==, host_named (topology, "mail.b.example"));
  g_assert_cmpint (pl_topology_get_host (topology, server)->role, ==, PL_ROLE_RECEIVING_SERVER);
  g_assert_cmpint (pl_topology_get_host (topology, host_named (topology, "mail.a.example"))->role, ==,
                   PL_ROLE_SENDING_SERVER);
}

/* The textbook, simulated: hosts, the mailbox emptied by POP3, segments --------------------- */

static void
test_builtin_document (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDocument) document = pl_document_new_builtin ("textbook", &error);
  PlTopology *topology;
  guint n;
  guint bob = G_MAXUINT;
  guint count = 99;
  guint most = 0;

  g_assert_no_error (error);
  g_assert_cmpint (pl_document_get_kind (document), ==, PL_DOCUMENT_SCENARIO);
  topology = pl_document_get_topology (document);
  n = pl_trace_get_n_events (pl_document_get_trace (document));
  g_assert_cmpuint (pl_topology_get_n_hosts (topology), ==, 4);
  g_assert_cmpint (pl_topology_get_host (topology, host_named (topology, "mail.b.example"))->role, ==,
                   PL_ROLE_RECEIVING_SERVER);

  for (guint i = 0; i < pl_topology_get_n_mailboxes (topology); i++)
    if (g_strcmp0 (pl_topology_get_mailbox (topology, i)->user, "bob@b.example") == 0)
      bob = i;
  g_assert_cmpuint (bob, !=, G_MAXUINT);
  /* Bob starts with the figure's first message, gets Alice's, and POP3 empties the mailbox. */
  g_assert_true (pl_topology_get_mailbox_at (topology, bob, 0, &count, NULL));
  g_assert_cmpuint (count, ==, 1);
  for (guint p = 0; p <= n; p++)
    {
      pl_topology_get_mailbox_at (topology, bob, p, &count, NULL);
      most = MAX (most, count);
    }
  g_assert_cmpuint (most, ==, 2);
  g_assert_true (pl_topology_get_mailbox_at (topology, bob, n, &count, NULL));
  g_assert_cmpuint (count, ==, 0);
  g_assert_cmpuint (pl_topology_get_mailbox_changed_at (topology, bob, n), >, 0);

  /* The TCP segments, by departure, for the picture's TCP layer. */
  g_assert_cmpuint (pl_document_get_n_segments (document), >, n);
  for (guint i = 1; i < pl_document_get_n_segments (document); i++)
    g_assert_cmpfloat (pl_document_get_segment (document, i - 1)->depart, <=,
                       pl_document_get_segment (document, i)->depart);
  g_assert_cmpuint (pl_document_find_segment (document, -1), ==, 0);
  g_assert_cmpuint (pl_document_find_segment (document, 1e9), ==, pl_document_get_n_segments (document));

  g_assert_null (pl_document_new_builtin ("no-such-lesson", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_sniff (void)
{
  static const struct {
    const char *name;
    const char *content;
    gsize       len;
    PlDocumentKind kind;
  } cases[] = {
    { "a.pcap",       "\xd4\xc3\xb2\xa1 rest", 9, PL_DOCUMENT_CAPTURE },
    { "renamed.txt",  "\x4d\x3c\xb2\xa1 rest", 9, PL_DOCUMENT_CAPTURE },
    { "b.dump",       "\x0a\x0d\x0d\x0a rest", 9, PL_DOCUMENT_CAPTURE },
    { "c.scenario",   "link default latency 2ms\n", 25, PL_DOCUMENT_SCENARIO },
    { "broken.pcap",  "not a capture", 13, PL_DOCUMENT_CAPTURE },
    { "lesson",       "", 0, PL_DOCUMENT_SCENARIO },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("postlab-sniff-XXXXXX", &error);

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_build_filename (dir, cases[i].name, NULL);
      g_autoptr(GFile) file = g_file_new_for_path (path);

      g_assert_true (g_file_set_contents (path, cases[i].content, (gssize) cases[i].len, NULL));
      g_assert_cmpint (pl_document_sniff (file), ==, cases[i].kind);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* Messages in events ------------------------------------------------------------------------ */

static void
test_event_message (void)
{
  static const struct {
    PlEventKind kind;
    PlProtocol  protocol;
    const char *status;
    const char *wire;
    const char *message;  /* NULL: carries none */
  } cases[] = {
    { PL_EVENT_DATA,  PL_PROTOCOL_SMTP, NULL, "Subject: hi\r\n\r\n..dot\r\nok\r\n.\r\n", "Subject: hi\r\n\r\n.dot\r\nok\r\n" },
    { PL_EVENT_REPLY, PL_PROTOCOL_POP3, "+OK", "+OK 30 octets\r\nFrom: a@b\r\n\r\nbody\r\n.\r\n", "From: a@b\r\n\r\nbody\r\n" },
    { PL_EVENT_REPLY, PL_PROTOCOL_POP3, "+OK", "+OK 2 messages\r\n1 498\r\n2 912\r\n.\r\n", NULL },
    { PL_EVENT_REPLY, PL_PROTOCOL_POP3, "+OK", "+OK user successfully logged on\r\n", NULL },
    { PL_EVENT_REPLY, PL_PROTOCOL_POP3, "-ERR", "-ERR no such message\r\n", NULL },
    { PL_EVENT_REPLY, PL_PROTOCOL_SMTP, "250", "250 Ok\r\n", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PlEvent) event = pl_event_new (cases[i].kind, cases[i].kind == PL_EVENT_REPLY ? PL_DIR_SERVER
                                                                                               : PL_DIR_CLIENT,
                                               (const guint8 *) cases[i].wire, strlen (cases[i].wire));
      g_autoptr(GBytes) message = NULL;

      if (cases[i].status != NULL)
        pl_event_set_status (event, cases[i].status);
      g_assert_cmpint (pl_event_carries_message (event, cases[i].protocol), ==, cases[i].message != NULL);
      message = pl_event_dup_message (event, cases[i].protocol);
      if (cases[i].message == NULL)
        g_assert_null (message);
      else
        {
          gsize len;
          const char *data = g_bytes_get_data (message, &len);

          g_assert_cmpmem (data, len, cases[i].message, strlen (cases[i].message));
        }
    }
}

static void
test_format_octets (void)
{
  static const guint8 data[] = "RETR 1\r\n<&>\x01";
  g_autofree char *hex = pl_inspector_format_hex (data, 12, 4096);
  g_autofree char *text = pl_inspector_format_text (data, 12, 4096);
  g_autofree char *cut = pl_inspector_format_hex (data, 12, 4);

  g_assert_cmpstr (hex, ==, "0000  52 45 54 52 20 31 0d 0a  3c 26 3e 01              RETR 1..<&>.");
  g_assert_true (pango_parse_markup (text, -1, 0, NULL, NULL, NULL, NULL));
  g_assert_nonnull (strstr (text, "RETR 1"));
  g_assert_nonnull (strstr (text, "\\r"));
  g_assert_nonnull (strstr (text, "&lt;&amp;&gt;"));
  g_assert_nonnull (strstr (text, "\\x01"));
  g_assert_nonnull (strstr (cut, "8 more octets"));
}

/* The sequence diagram as SVG ------------------------------------------------------------- */

typedef struct {
  guint arrows;
  guint elements;
} SvgCount;

static void
on_svg_element (GMarkupParseContext  *context,
                const char           *element,
                const char          **names,
                const char          **values,
                gpointer              user_data,
                GError              **error)
{
  SvgCount *count = user_data;

  count->elements++;
  if (g_str_equal (element, "line"))
    for (guint i = 0; names[i] != NULL; i++)
      if (g_str_equal (names[i], "marker-end"))
        count->arrows++;
}

static void
test_ladder_svg (void)
{
  static const GMarkupParser parser = { .start_element = on_svg_element };
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDocument) document = pl_document_new_builtin ("textbook", &error);
  g_autoptr(GString) svg = g_string_new (NULL);
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GArray) lifelines = NULL;
  PlTrace *trace;
  SvgCount count = { 0, 0 };
  guint units = 0;

  g_assert_no_error (error);
  trace = pl_document_get_trace (document);
  for (guint i = 0; i < pl_trace_get_n_events (trace); i++)
    if (pl_trace_get_event (trace, i)->kind != PL_EVENT_NOTE)
      units++;

  pl_ladder_append_svg (document, 0, G_MAXUINT, 5, 900, svg);
  /* Well-formed XML, the XML declaration aside. */
  context = g_markup_parse_context_new (&parser, 0, &count, NULL);
  g_assert_true (g_markup_parse_context_parse (context, strchr (svg->str, '\n') + 1, -1, &error));
  g_assert_true (g_markup_parse_context_end_parse (context, &error));
  g_assert_no_error (error);
  /* One arrow per command and reply. */
  g_assert_cmpuint (count.arrows, ==, units);
  g_assert_nonnull (strstr (svg->str, "mail.a.example"));
  g_assert_nonnull (strstr (svg->str, "#1a5fb4"));

  /* Lifelines in the mail path's order: alice, mail.a, mail.b, bob-pc. */
  lifelines = pl_ladder_lifelines (pl_document_get_topology (document));
  g_assert_cmpuint (lifelines->len, ==, 4);
  g_assert_cmpstr (pl_topology_get_host (pl_document_get_topology (document),
                                         g_array_index (lifelines, guint, 0))->name, ==, "alice");
  g_assert_cmpstr (pl_topology_get_host (pl_document_get_topology (document),
                                         g_array_index (lifelines, guint, 3))->name, ==, "bob-pc");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gui/cursor/steps", test_cursor_steps);
  g_test_add_func ("/gui/cursor/play", test_cursor_play);
  g_test_add_func ("/gui/cursor/follows-growth", test_cursor_follows_growth);
  g_test_add_func ("/gui/topology/capture", test_topology_capture);
  g_test_add_func ("/gui/topology/loopback", test_topology_loopback);
  g_test_add_func ("/gui/document/builtin", test_builtin_document);
  g_test_add_func ("/gui/document/sniff", test_sniff);
  g_test_add_func ("/gui/inspector/event-message", test_event_message);
  g_test_add_func ("/gui/inspector/format-octets", test_format_octets);
  g_test_add_func ("/gui/ladder/svg", test_ladder_svg);

  return g_test_run ();
}
