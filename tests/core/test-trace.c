/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlTrace: sessions and events in order, the list model, streaming without retention. */
#include "pl-trace.h"

#include <string.h>

typedef struct {
  GString *log;
} Recorder;

static void
rec_opened (PlSession *session, gpointer user_data)
{
  Recorder *r = user_data;
  g_string_append_printf (r->log, "open %u %s;", session->id, pl_protocol_to_string (session->protocol));
}

static void
rec_event (PlSession *session, PlEvent *event, gpointer user_data)
{
  Recorder *r = user_data;
  g_string_append_printf (r->log, "event %u %c %s;", event->session, (char) event->dir, event->text);
}

static void
rec_closed (PlSession *session, gpointer user_data)
{
  Recorder *r = user_data;
  g_string_append_printf (r->log, "close %u;", session->id);
}

static const PlTraceListener recorder = { rec_opened, rec_event, rec_closed };

static void
add_text (PlTrace    *trace,
          PlSession  *session,
          PlDirection dir,
          const char *text,
          double      t)
{
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);
  g_autoptr(PlEvent) event = pl_event_new (dir == PL_DIR_CLIENT ? PL_EVENT_COMMAND : PL_EVENT_REPLY,
                                           dir, (const guint8 *) line, strlen (line));
  event->time = t;
  pl_trace_add_event (trace, session, event);
}

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
  GString *log = user_data;
  g_string_append_printf (log, "%u-%u+%u;", position, removed, added);
}

static void
test_trace_retained (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(GString) changes = g_string_new (NULL);
  Recorder r = { g_string_new (NULL) };
  PlSession *s1, *s2;
  g_autoptr(PlEventItem) item = NULL;

  pl_trace_add_listener (trace, &recorder, &r);
  g_signal_connect (trace, "items-changed", G_CALLBACK (on_items_changed), changes);

  s1 = pl_trace_open_session (trace, PL_PROTOCOL_POP3, "127.0.0.1:40312", "127.0.0.1:1110", 1.0);
  s2 = pl_trace_open_session (trace, PL_PROTOCOL_SMTP, "127.0.0.1:40313", "127.0.0.1:2525", 1.5);
  g_assert_cmpuint (s1->id, ==, 1);
  g_assert_cmpuint (s2->id, ==, 2);
  add_text (trace, s1, PL_DIR_SERVER, "+OK POP3 server ready", 1.1);
  add_text (trace, s2, PL_DIR_SERVER, "220 ready", 1.6);
  add_text (trace, s1, PL_DIR_CLIENT, "user bob", 1.7);
  pl_trace_close_session (trace, s1, 2.0);
  pl_trace_close_session (trace, s1, 3.0); /* a second close changes nothing */

  g_assert_cmpstr (r.log->str, ==,
                   "open 1 pop3;open 2 smtp;"
                   "event 1 S +OK POP3 server ready;event 2 S 220 ready;event 1 C user bob;"
                   "close 1;");
  g_assert_cmpstr (changes->str, ==, "0-0+1;1-0+1;2-0+1;");
  g_assert_cmpuint (pl_trace_get_n_events (trace), ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (trace)), ==, 3);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (trace)) == PL_TYPE_EVENT_ITEM);
  item = g_list_model_get_item (G_LIST_MODEL (trace), 2);
  g_assert_nonnull (item);
  g_assert_cmpstr (pl_event_item_get_event (item)->text, ==, "user bob");
  g_assert_true (pl_event_item_get_session (item) == s1);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (trace), 3));
  g_assert_cmpfloat (s1->close_time, ==, 2.0);
  g_assert_false (pl_session_is_open (s1));
  g_assert_true (pl_session_is_open (s2));
  g_assert_true (pl_trace_get_session (trace, 1) == s1);
  g_string_free (r.log, TRUE);
}

static void
test_trace_streaming (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (FALSE);
  Recorder r = { g_string_new (NULL) };
  PlSession *s;

  pl_trace_add_listener (trace, &recorder, &r);
  for (guint i = 0; i < 1000; i++)
    {
      s = pl_trace_open_session (trace, PL_PROTOCOL_POP3, "c", "s", i);
      add_text (trace, s, PL_DIR_SERVER, "+OK", i);
      pl_trace_close_session (trace, s, i + 0.5);
    }
  /* nothing kept: constant memory whatever the number of sessions */
  g_assert_cmpuint (pl_trace_get_n_events (trace), ==, 0);
  g_assert_cmpuint (pl_trace_get_n_sessions (trace), ==, 1000);
  g_assert_null (pl_trace_get_session (trace, 1));
  g_assert_true (g_str_has_suffix (r.log->str, "open 1000 pop3;event 1000 S +OK;close 1000;"));
  g_string_free (r.log, TRUE);
}

static void
test_trace_remove_listener (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  Recorder r = { g_string_new (NULL) };
  gulong id = pl_trace_add_listener (trace, &recorder, &r);

  pl_trace_open_session (trace, PL_PROTOCOL_POP3, "c", "s", 0);
  pl_trace_remove_listener (trace, id);
  pl_trace_open_session (trace, PL_PROTOCOL_POP3, "c", "s", 0);
  g_assert_cmpstr (r.log->str, ==, "open 1 pop3;");
  g_string_free (r.log, TRUE);
}

/* A session filled in before it opens: the listeners already see its hop. */
static void
hop_opened (PlSession *session, gpointer user_data)
{
  GString *log = user_data;
  g_string_append_printf (log, "open %u %s;", session->id, pl_hop_to_string (session->hop));
}

static void
test_trace_add_session (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (FALSE);
  g_autoptr(GString) log = g_string_new (NULL);
  const PlTraceListener listener = { hop_opened, NULL, NULL };
  g_autoptr(PlSession) first = pl_session_new (PL_PROTOCOL_SMTP, "127.0.0.1:1", "127.0.0.1:2526", 1.0);
  PlSession *opened;

  pl_trace_open_session (trace, PL_PROTOCOL_POP3, "a", "b", 0.5);
  pl_trace_add_listener (trace, &listener, log);
  first->hop = PL_HOP_RELAY;
  opened = pl_trace_add_session (trace, first);
  g_assert_true (opened == first);
  g_assert_cmpuint (first->id, ==, 2);
  g_assert_cmpstr (log->str, ==, "open 2 relay;");
  g_assert_true (pl_trace_get_session (trace, 2) == first);
  pl_trace_close_session (trace, first, 2.0);
  /* The caller's reference still holds it. */
  g_assert_cmpfloat (first->close_time, ==, 2.0);
}

static void
count_items_changed (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  guint *count = user_data;

  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpuint (added, ==, 1);
  (*count)++;
}

/*
 * pl_trace_add_event_take() takes the caller's reference: a retaining trace
 * keeps it (and says so to a list view), a streaming one lets the event go
 * once its listeners have seen it. Under ASan a reference too many or too
 * few shows as a leak or a use after free.
 */
static void
test_trace_add_event_take (void)
{
  for (guint retain = 0; retain < 2; retain++)
    {
      g_autoptr(PlTrace) trace = pl_trace_new (retain);
      Recorder r = { g_string_new (NULL) };
      PlSession *session;
      guint changed = 0;

      pl_trace_add_listener (trace, &recorder, &r);
      g_signal_connect (trace, "items-changed", G_CALLBACK (count_items_changed), &changed);
      session = pl_trace_open_session (trace, PL_PROTOCOL_SMTP, "c:1", "s:25", 0);
      for (guint i = 0; i < 3; i++)
        {
          PlEvent *event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) "NOOP\r\n", 6);

          pl_trace_add_event_take (trace, session, event);
        }
      g_assert_cmpstr (r.log->str, ==, "open 1 smtp;event 1 C NOOP;event 1 C NOOP;event 1 C NOOP;");
      g_assert_cmpuint (pl_trace_get_n_events (trace), ==, retain ? 3 : 0);
      g_assert_cmpuint (changed, ==, retain ? 3 : 0);
      if (retain)
        g_assert_cmpstr (pl_trace_get_event (trace, 2)->text, ==, "NOOP");
      g_string_free (r.log, TRUE);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/trace/retained", test_trace_retained);
  g_test_add_func ("/core/trace/streaming", test_trace_streaming);
  g_test_add_func ("/core/trace/remove-listener", test_trace_remove_listener);
  g_test_add_func ("/core/trace/add-session", test_trace_add_session);
  g_test_add_func ("/core/trace/add-event-take", test_trace_add_event_take);
  return g_test_run ();
}
