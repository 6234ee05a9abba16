/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTracePrinter: a trace listener that prints a transcript (text or JSON Lines), buffered or live. */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-trace-printer.h"

#include <string.h>

/* Output is written when this much has gathered (or at once when live). */
#define BLOCK (256 * 1024)

struct _PlTracePrinter
{
  FILE           *out;
  PlWriterFormat  format;
  PlWriterFlags   flags;
  gboolean        live;
  guint           only;
  PlTrace        *trace;
  gulong          listener;
  GString        *buffer;
  gboolean        have_origin;
  double          origin;
  gboolean        failed;
  guint           n_sessions;
  GHashTable     *shown;      /* ids of open sessions whose header is out */
  const PlEvent  *untexted;   /* the event about to be added whose text is to make (pl_trace_printer_expect_untexted()) */
  gboolean        untexted_unstuff;
};

static void
maybe_write (PlTracePrinter *self)
{
  if (self->live || self->buffer->len >= BLOCK)
    pl_trace_printer_flush (self);
}

static gboolean
wanted (PlTracePrinter *self,
        guint           id)
{
  return self->only == 0 || self->only == id;
}

static void
set_origin (PlTracePrinter *self,
            double          t)
{
  if (!self->have_origin)
    {
      self->have_origin = TRUE;
      self->origin = t;
    }
}

/*
 * A session's header goes out with its first event, not when it opens: by
 * then the tracer knows its hop and whether it is encrypted from the start.
 */
static void
show_header (PlTracePrinter *self,
             PlSession      *session)
{
  if (g_hash_table_contains (self->shown, GUINT_TO_POINTER (session->id)))
    return;
  g_hash_table_add (self->shown, GUINT_TO_POINTER (session->id));
  self->n_sessions++;
  set_origin (self, session->open_time);
  if (self->format == PL_WRITER_JSONL)
    {
      pl_jsonl_append_session (self->buffer, session);
      return;
    }
  g_string_append_printf (self->buffer, "* session %u: %s, client %s, server %s",
                          session->id, pl_protocol_to_string (session->protocol),
                          session->client, session->server);
  if (session->hop != PL_HOP_UNKNOWN)
    g_string_append_printf (self->buffer, " (%s)", pl_hop_to_string (session->hop));
  if (session->encrypted)
    g_string_append (self->buffer, ", encrypted");
  g_string_append_c (self->buffer, '\n');
}

static void
on_session_opened (PlSession *session,
                   gpointer   user_data)
{
}

static void
on_event_added (PlSession *session,
                PlEvent   *event,
                gpointer   user_data)
{
  PlTracePrinter *self = user_data;
  gboolean untexted = event == self->untexted;

  self->untexted = NULL;
  if (!wanted (self, session->id))
    return;
  show_header (self, session);
  set_origin (self, event->time);
  if (self->format == PL_WRITER_JSONL)
    {
      if (untexted)
        pl_jsonl_append_event_text_from_octets (self->buffer, event, self->untexted_unstuff);
      else
        pl_jsonl_append_event (self->buffer, event);
    }
  else
    {
      if (untexted)
        {
          gsize len = 0;
          const guint8 *data = pl_event_get_data (event, &len);

          pl_event_take_text (event, pl_display_text_from_octets (data, len, self->untexted_unstuff));
        }
      pl_text_append_event (self->buffer, session, event, self->origin, self->flags);
    }
  maybe_write (self);
}

static void
on_session_closed (PlSession *session,
                   gpointer   user_data)
{
  PlTracePrinter *self = user_data;

  if (!wanted (self, session->id))
    return;
  show_header (self, session);
  g_hash_table_remove (self->shown, GUINT_TO_POINTER (session->id));
  if (self->format == PL_WRITER_JSONL)
    pl_jsonl_append_end (self->buffer, session);
  else
    {
      /* The session's story in one line: how it was encrypted, what is missing. */
      g_string_append_printf (self->buffer, "* session %u ended", session->id);
      if (session->encrypted || session->notes->len > 0)
        {
          g_string_append (self->buffer, " (");
          if (session->encrypted)
            g_string_append (self->buffer, "encrypted");
          for (guint i = 0; i < session->notes->len; i++)
            {
              if (i > 0 || session->encrypted)
                g_string_append (self->buffer, "; ");
              g_string_append (self->buffer, g_ptr_array_index (session->notes, i));
            }
          g_string_append_c (self->buffer, ')');
        }
      g_string_append_c (self->buffer, '\n');
    }
  maybe_write (self);
}

static const PlTraceListener printer_listener = {
  on_session_opened,
  on_event_added,
  on_session_closed,
};

PlTracePrinter *
pl_trace_printer_new (FILE           *out,
                      PlWriterFormat  format,
                      gboolean        explain,
                      gboolean        live)
{
  PlTracePrinter *self;

  g_return_val_if_fail (out != NULL, NULL);

  self = g_new0 (PlTracePrinter, 1);
  self->out = out;
  self->format = format;
  self->live = live;
  self->flags = PL_WRITER_FLAGS_SESSION_IDS | (explain ? PL_WRITER_FLAGS_EXPLAIN : 0);
  self->buffer = g_string_sized_new (live ? 4096 : BLOCK + 65536);
  self->shown = g_hash_table_new (NULL, NULL);
  return self;
}

void
pl_trace_printer_set_session (PlTracePrinter *self,
                              guint           id)
{
  g_return_if_fail (self != NULL);
  self->only = id;
  if (id != 0)
    self->flags &= ~PL_WRITER_FLAGS_SESSION_IDS;
}

void
pl_trace_printer_attach (PlTracePrinter *self,
                         PlTrace        *trace)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (PL_IS_TRACE (trace));
  g_return_if_fail (self->trace == NULL);

  self->trace = g_object_ref (trace);
  self->listener = pl_trace_add_listener (trace, &printer_listener, self);
}

gboolean
pl_trace_printer_flush (PlTracePrinter *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->buffer->len > 0 && !self->failed)
    {
      if (fwrite (self->buffer->str, 1, self->buffer->len, self->out) != self->buffer->len
          || fflush (self->out) != 0)
        self->failed = TRUE;
    }
  g_string_truncate (self->buffer, 0);
  return !self->failed;
}

void
pl_trace_printer_expect_untexted (PlEvent  *event,
                                  gboolean  unstuff_dots,
                                  gpointer  printer)
{
  PlTracePrinter *self = printer;

  g_return_if_fail (self != NULL);
  g_return_if_fail (event != NULL);
  self->untexted = event;
  self->untexted_unstuff = unstuff_dots;
}

guint
pl_trace_printer_get_n_printed_sessions (PlTracePrinter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_sessions;
}

void
pl_trace_printer_free (PlTracePrinter *self)
{
  if (self == NULL)
    return;
  if (self->trace != NULL)
    {
      pl_trace_remove_listener (self->trace, self->listener);
      g_object_unref (self->trace);
    }
  pl_trace_printer_flush (self);
  g_string_free (self->buffer, TRUE);
  g_hash_table_unref (self->shown);
  g_free (self);
}
