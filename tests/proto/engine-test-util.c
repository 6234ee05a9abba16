/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the engine tests: recording events, dialogues with a server, client and server joined. */

#include "engine-test-util.h"

#include <string.h>

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

void
pl_test_dialogue_init (PlTestDialogue *dialogue,
                       PlEngine       *server)
{
  dialogue->server = server;
  dialogue->recorder = pl_test_recorder_new (server);
  dialogue->input = g_byte_array_new ();
  dialogue->output = g_byte_array_new ();
  pl_engine_start (server);
  pl_test_take_output (server, dialogue->output);
}

void
pl_test_dialogue_clear (PlTestDialogue *dialogue)
{
  g_clear_object (&dialogue->server);
  g_clear_pointer (&dialogue->recorder, pl_test_recorder_free);
  g_clear_pointer (&dialogue->input, g_byte_array_unref);
  g_clear_pointer (&dialogue->output, g_byte_array_unref);
}

char *
pl_test_dialogue_say_len (PlTestDialogue *dialogue,
                          const char     *input,
                          gsize           len)
{
  guint before = dialogue->output->len;

  g_byte_array_append (dialogue->input, (const guint8 *) input, (guint) len);
  pl_engine_feed (dialogue->server, (const guint8 *) input, len);
  pl_test_take_output (dialogue->server, dialogue->output);
  return g_strndup ((const char *) dialogue->output->data + before, dialogue->output->len - before);
}

char *
pl_test_dialogue_say (PlTestDialogue *dialogue,
                      const char     *input)
{
  return pl_test_dialogue_say_len (dialogue, input, strlen (input));
}

void
pl_test_dialogue_feed_randomly (PlTestDialogue *dialogue,
                                const guint8   *input,
                                gsize           len,
                                GRand          *rand)
{
  gsize pos = 0;

  while (pos < len)
    {
      /* Drawn once: MIN() evaluates its arguments twice, and a second draw could run past @len. */
      gsize draw = (gsize) g_rand_int_range (rand, 1, 64);
      gsize chunk = MIN (draw, len - pos);
      G_GNUC_UNUSED g_autofree char *ignored = pl_test_dialogue_say_len (dialogue, (const char *) input + pos, chunk);

      pos += chunk;
    }
}

void
pl_test_dialogue_expect (PlTestDialogue *dialogue,
                         const char     *input,
                         const char     *expected)
{
  g_autofree char *got = pl_test_dialogue_say (dialogue, input);

  g_assert_cmpstr (got, ==, expected);
}

void
pl_test_link_init (PlTestLink *link,
                   PlEngine   *client,
                   PlEngine   *server)
{
  link->client = client;
  link->server = server;
  link->client_recorder = pl_test_recorder_new (client);
  link->server_recorder = pl_test_recorder_new (server);
  link->c_stream = g_byte_array_new ();
  link->s_stream = g_byte_array_new ();
}

void
pl_test_link_clear (PlTestLink *link)
{
  g_clear_object (&link->client);
  g_clear_object (&link->server);
  g_clear_pointer (&link->client_recorder, pl_test_recorder_free);
  g_clear_pointer (&link->server_recorder, pl_test_recorder_free);
  g_clear_pointer (&link->c_stream, g_byte_array_unref);
  g_clear_pointer (&link->s_stream, g_byte_array_unref);
}

void
pl_test_link_run (PlTestLink *link,
                  gsize       chunk,
                  gsize       split_at)
{
  pl_engine_start (link->server);
  pl_engine_start (link->client);
  pl_test_pump (link->client, link->server, chunk, split_at, link->c_stream, link->s_stream);
}

void
pl_test_link_assert_streams (PlTestLink *link)
{
  g_autoptr(GByteArray) client_c = pl_test_recorder_concat (link->client_recorder, PL_DIR_CLIENT);
  g_autoptr(GByteArray) client_s = pl_test_recorder_concat (link->client_recorder, PL_DIR_SERVER);
  g_autoptr(GByteArray) server_c = pl_test_recorder_concat (link->server_recorder, PL_DIR_CLIENT);
  g_autoptr(GByteArray) server_s = pl_test_recorder_concat (link->server_recorder, PL_DIR_SERVER);

  g_assert_cmpmem (client_c->data, client_c->len, link->c_stream->data, link->c_stream->len);
  g_assert_cmpmem (server_c->data, server_c->len, link->c_stream->data, link->c_stream->len);
  g_assert_cmpmem (client_s->data, client_s->len, link->s_stream->data, link->s_stream->len);
  g_assert_cmpmem (server_s->data, server_s->len, link->s_stream->data, link->s_stream->len);
}

void
pl_test_link_assert_same_units (PlTestLink        *link,
                                const PlEventKind *kinds,
                                gsize              n_kinds)
{
  for (gsize k = 0; k < n_kinds; k++)
    {
      g_autoptr(GPtrArray) mine = pl_test_recorder_filter (link->client_recorder, kinds[k]);
      g_autoptr(GPtrArray) theirs = pl_test_recorder_filter (link->server_recorder, kinds[k]);

      g_assert_cmpuint (mine->len, ==, theirs->len);
      for (guint i = 0; i < mine->len; i++)
        {
          PlEvent *a = mine->pdata[i];
          PlEvent *b = theirs->pdata[i];

          g_assert_true (g_bytes_equal (a->octets, b->octets));
          g_assert_cmpstr (a->status, ==, b->status);
          g_assert_cmpstr (a->verb, ==, b->verb);
          g_assert_cmpstr (a->text, ==, b->text);
          g_assert_cmpint (a->dir, ==, b->dir);
        }
    }
}
