/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the POP3 engine tests: recording events, moving octets between engines. */

#include "pop3-test-util.h"

#include "pl-memory-store.h"
#include "pl-textbook.h"

static void
record_event (PlEngine *engine,
              PlEvent  *event,
              gpointer  user_data)
{
  PlTestRecorder *recorder = user_data;

  g_ptr_array_add (recorder->events, pl_event_ref (event));
}

static void
record_state (PlEngine   *engine,
              const char *old_state,
              const char *new_state,
              gpointer    user_data)
{
  PlTestRecorder *recorder = user_data;

  g_string_append_printf (recorder->states, "%s>%s;", old_state, new_state);
}

PlTestRecorder *
pl_test_recorder_new (PlEngine *engine)
{
  PlTestRecorder *recorder = g_new0 (PlTestRecorder, 1);

  recorder->events = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref);
  recorder->states = g_string_new (NULL);
  pl_engine_set_event_func (engine, record_event, recorder);
  pl_engine_set_state_func (engine, record_state, recorder);
  return recorder;
}

void
pl_test_recorder_free (PlTestRecorder *recorder)
{
  if (recorder == NULL)
    return;
  g_ptr_array_unref (recorder->events);
  g_string_free (recorder->states, TRUE);
  g_free (recorder);
}

GByteArray *
pl_test_recorder_concat (PlTestRecorder *recorder,
                         PlDirection     dir)
{
  GByteArray *out = g_byte_array_new ();

  for (guint i = 0; i < recorder->events->len; i++)
    {
      PlEvent *event = g_ptr_array_index (recorder->events, i);
      gsize len;
      const guint8 *data;

      if (event->dir != dir)
        continue;
      data = pl_event_get_data (event, &len);
      g_byte_array_append (out, data, (guint) len);
    }
  return out;
}

GPtrArray *
pl_test_recorder_filter (PlTestRecorder *recorder,
                         PlEventKind     kind)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < recorder->events->len; i++)
    {
      PlEvent *event = g_ptr_array_index (recorder->events, i);

      if (event->kind == kind)
        g_ptr_array_add (out, event);
    }
  return out;
}

gsize
pl_test_take_output (PlEngine   *engine,
                     GByteArray *into)
{
  gsize total = 0;

  /* Consuming may let the engine queue more (it held input back): take until empty. */
  for (;;)
    {
      gsize len;
      const guint8 *data = pl_engine_get_output (engine, &len);

      if (len == 0)
        return total;
      if (into != NULL)
        g_byte_array_append (into, data, (guint) len);
      pl_engine_consume_output (engine, len);
      total += len;
    }
}

PlMailStore *
pl_test_textbook_store (void)
{
  g_autoptr(GError) error = NULL;
  PlMailStore *store = pl_memory_store_new ();

  g_assert_true (pl_textbook_seed (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pl_memory_store_count (PL_MEMORY_STORE (store), PL_TEXTBOOK_USER), ==, 2);
  return store;
}

static void
deliver (PlEngine     *to,
         const guint8 *data,
         gsize         len,
         gsize         chunk,
         gsize         split_at)
{
  if (split_at > 0 && split_at < len)
    {
      pl_engine_feed (to, data, split_at);
      pl_engine_feed (to, data + split_at, len - split_at);
      return;
    }
  if (chunk == 0)
    chunk = len;
  for (gsize pos = 0; pos < len; pos += chunk)
    pl_engine_feed (to, data + pos, MIN (chunk, len - pos));
}

void
pl_test_pump (PlEngine   *client,
              PlEngine   *server,
              gsize       chunk,
              gsize       split_at,
              GByteArray *c_stream,
              GByteArray *s_stream)
{
  gboolean moved = TRUE;
  guint rounds = 0;

  while (moved)
    {
      g_autoptr(GByteArray) s_out = g_byte_array_new ();
      g_autoptr(GByteArray) c_out = g_byte_array_new ();

      g_assert_cmpuint (++rounds, <, 100000);
      moved = FALSE;
      /* The driver would wait this long; the test only takes note. */
      (void) pl_engine_take_delay (server);
      if (pl_test_take_output (server, s_out) > 0)
        {
          moved = TRUE;
          if (s_stream != NULL)
            g_byte_array_append (s_stream, s_out->data, s_out->len);
          deliver (client, s_out->data, s_out->len, chunk, split_at);
        }
      if (pl_test_take_output (client, c_out) > 0)
        {
          moved = TRUE;
          if (c_stream != NULL)
            g_byte_array_append (c_stream, c_out->data, c_out->len);
          deliver (server, c_out->data, c_out->len, 0, 0);
        }
      if (!moved)
        {
          /* Quiet: whoever finished closes the connection, the other side notices. */
          if (pl_engine_is_finished (server) && !pl_engine_is_finished (client))
            {
              pl_engine_connection_lost (client);
              moved = TRUE;
            }
          else if (pl_engine_is_finished (client) && !pl_engine_is_finished (server))
            {
              pl_engine_connection_lost (server);
              moved = TRUE;
            }
        }
    }
}
