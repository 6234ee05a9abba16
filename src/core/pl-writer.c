/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Transcript writers: the text transcript and the JSON Lines machine format. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-writer.h"

#include <math.h>
#include <string.h>

#include "pl-explain.h"

static void
append_time (GString *out,
             double   t)
{
  /* JSON numbers: no exponent form, no trailing noise, always finite. */
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (t))
    t = 0;
  g_ascii_formatd (buf, sizeof buf, "%.6f", t);
  {
    /* trim trailing zeros but keep one decimal */
    gsize n = strlen (buf);
    while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
      buf[--n] = '\0';
  }
  g_string_append (out, buf);
}

/* RFC 8259 section 7: the octets a JSON string cannot hold as they are (control characters, '"', '\\'), and DEL. */
static const guint8 needs_escape[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/*
 * RFC 4648 section 4, padded, on one line: what g_base64_encode() gives,
 * written out here because the octets of every event pass through it.
 * @out has room for 4 * ((@len + 2) / 3) characters. Returns how many.
 */
static gsize
base64_encode (const guint8 *in,
               gsize         len,
               char         *out)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  /* Two characters per 12 bits: half the lookups of one per 6 bits. */
  static char pairs[4096][2];
  static gsize pairs_ready = 0;
  gsize i = 0, o = 0;

  if (g_once_init_enter (&pairs_ready))
    {
      for (guint k = 0; k < 4096; k++)
        {
          pairs[k][0] = alphabet[k >> 6];
          pairs[k][1] = alphabet[k & 63];
        }
      g_once_init_leave (&pairs_ready, 1);
    }
  for (; i + 3 <= len; i += 3)
    {
      guint32 v = ((guint32) in[i] << 16) | ((guint32) in[i + 1] << 8) | in[i + 2];

      memcpy (out + o, pairs[v >> 12], 2);
      memcpy (out + o + 2, pairs[v & 4095], 2);
      o += 4;
    }
  if (len - i == 1)
    {
      guint32 v = (guint32) in[i] << 16;

      out[o++] = alphabet[v >> 18];
      out[o++] = alphabet[(v >> 12) & 63];
      out[o++] = '=';
      out[o++] = '=';
    }
  else if (len - i == 2)
    {
      guint32 v = ((guint32) in[i] << 16) | ((guint32) in[i + 1] << 8);

      out[o++] = alphabet[v >> 18];
      out[o++] = alphabet[(v >> 12) & 63];
      out[o++] = alphabet[(v >> 6) & 63];
      out[o++] = '=';
    }
  return o;
}

/*
 * pl_json_append_string:
 * Appends @text as a JSON string (RFC 8259 7), quotes included. @text must
 * be UTF-8 (the model's display texts are); control characters are escaped.
 */
void
pl_json_append_string (GString    *out,
                       const char *text,
                       gssize      len)
{
  static const char hex[] = "0123456789abcdef";
  gsize n = len < 0 ? strlen (text) : (gsize) len;

  g_string_append_c (out, '"');
  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) text[i];
      gsize end = i;

      /* Runs that need no escape are copied whole: transcripts of big messages stay fast. */
      while (end < n && !needs_escape[(guchar) text[end]])
        end++;
      if (end > i)
        {
          if (out->len + (end - i) < out->allocated_len)
            {
              memcpy (out->str + out->len, text + i, end - i);
              out->len += end - i;
              out->str[out->len] = '\0';
            }
          else
            g_string_append_len (out, text + i, (gssize) (end - i));
          i = end - 1;
          continue;
        }
      switch (c)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            {
              g_string_append (out, "\\u00");
              g_string_append_c (out, hex[c >> 4]);
              g_string_append_c (out, hex[c & 0xf]);
            }
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
append_field (GString    *out,
              const char *name,
              const char *value)
{
  if (value == NULL)
    return;
  g_string_append_printf (out, ",\"%s\":", name);
  pl_json_append_string (out, value, -1);
}

void
pl_jsonl_append_session (GString         *out,
                         const PlSession *session)
{
  g_string_append_printf (out, "{\"type\":\"session\",\"session\":%u,\"protocol\":\"%s\"",
                          session->id, pl_protocol_to_string (session->protocol));
  append_field (out, "client", session->client);
  append_field (out, "server", session->server);
  if (session->hop != PL_HOP_UNKNOWN)
    append_field (out, "hop", pl_hop_to_string (session->hop));
  g_string_append (out, ",\"t\":");
  append_time (out, session->open_time);
  g_string_append (out, "}\n");
}

void
pl_jsonl_append_event (GString       *out,
                       const PlEvent *event)
{
  if (event->kind == PL_EVENT_NOTE)
    {
      g_string_append_printf (out, "{\"type\":\"note\",\"session\":%u,\"t\":", event->session);
      append_time (out, event->time);
      /* A note with a verb says what it is about for a machine too ("MAILBOX", "DNS"). */
      append_field (out, "verb", event->verb);
      append_field (out, "args", event->args);
      append_field (out, "text", event->text);
      g_string_append (out, "}\n");
      return;
    }

  g_string_append_printf (out, "{\"type\":\"event\",\"session\":%u,\"t\":", event->session);
  append_time (out, event->time);
  g_string_append_printf (out, ",\"dir\":\"%c\",\"kind\":\"%s\"",
                          (char) event->dir, pl_event_kind_to_string (event->kind));
  append_field (out, "tag", event->tag);
  append_field (out, "verb", event->verb);
  append_field (out, "args", event->args);
  append_field (out, "status", event->status);
  append_field (out, "text", event->text);
  if (event->octets != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (event->octets, &len);
      gsize start;

      g_string_append (out, ",\"b64\":\"");
      start = out->len;
      g_string_set_size (out, start + (len + 2) / 3 * 4);
      g_string_truncate (out, start + base64_encode (data, len, out->str + start));
      g_string_append_c (out, '"');
    }
  g_string_append (out, "}\n");
}

void
pl_jsonl_append_end (GString         *out,
                     const PlSession *session)
{
  g_string_append_printf (out, "{\"type\":\"end\",\"session\":%u,\"t\":", session->id);
  append_time (out, session->close_time >= 0 ? session->close_time : session->open_time);
  g_string_append (out, "}\n");
}

void
pl_text_append_session (GString         *out,
                        const PlSession *session,
                        gboolean         closing)
{
  if (closing)
    g_string_append_printf (out, "* session %u closed\n", session->id);
  else
    g_string_append_printf (out, "* session %u: %s, client %s, server %s%s%s\n",
                            session->id, pl_protocol_to_string (session->protocol),
                            session->client, session->server,
                            session->hop != PL_HOP_UNKNOWN ? ", " : "",
                            session->hop != PL_HOP_UNKNOWN ? pl_hop_to_string (session->hop) : "");
}

void
pl_text_append_event (GString         *out,
                      const PlSession *session,
                      const PlEvent   *event,
                      double           time_origin,
                      PlWriterFlags    flags)
{
  gsize line_start = out->len;
  gsize indent;
  const char *tag;
  const char *p;

  g_string_append_printf (out, "%9.3f ", event->time - time_origin);
  if (flags & PL_WRITER_FLAGS_SESSION_IDS)
    g_string_append_printf (out, "#%-3u ", event->session);

  switch (event->dir)
    {
    case PL_DIR_CLIENT: tag = "C: "; break;
    case PL_DIR_SERVER: tag = "S: "; break;
    case PL_DIR_NONE:
    default:            tag = "-- "; break;
    }
  g_string_append (out, tag);
  indent = out->len - line_start;

  for (p = event->text; ; )
    {
      const char *nl = strchr (p, '\n');
      if (nl == NULL)
        {
          g_string_append (out, p);
          g_string_append_c (out, '\n');
          break;
        }
      g_string_append_len (out, p, nl - p);
      g_string_append_c (out, '\n');
      for (gsize i = 0; i < indent; i++)
        g_string_append_c (out, ' ');
      p = nl + 1;
    }

  if ((flags & PL_WRITER_FLAGS_EXPLAIN) && session != NULL)
    {
      const PlExplanation *ex = pl_explain_event (session->protocol, event);
      if (ex != NULL)
        {
          for (gsize i = 0; i < indent; i++)
            g_string_append_c (out, ' ');
          g_string_append_printf (out, "  (%s; %s)\n", ex->summary, ex->reference);
        }
    }
}

struct _PlWriter
{
  FILE           *stream;
  PlWriterFormat  format;
  PlWriterFlags   flags;
  PlTrace        *trace;
  gulong          listener_id;
  gboolean        have_origin;
  double          origin;
  GString        *buffer;
};

static void
writer_flush (PlWriter *self)
{
  if (self->buffer->len > 0)
    {
      fwrite (self->buffer->str, 1, self->buffer->len, self->stream);
      fflush (self->stream);
      g_string_truncate (self->buffer, 0);
    }
}

static void
set_origin (PlWriter *self,
            double    t)
{
  if (!self->have_origin)
    {
      self->have_origin = TRUE;
      self->origin = (self->flags & PL_WRITER_FLAGS_ABSOLUTE_TIME) ? 0 : t;
    }
}

static void
on_session_opened (PlSession *session,
                   gpointer   user_data)
{
  PlWriter *self = user_data;

  set_origin (self, session->open_time);
  if (self->format == PL_WRITER_JSONL)
    pl_jsonl_append_session (self->buffer, session);
  else if (self->flags & PL_WRITER_FLAGS_SESSION_LINES)
    pl_text_append_session (self->buffer, session, FALSE);
  writer_flush (self);
}

static void
on_event_added (PlSession *session,
                PlEvent   *event,
                gpointer   user_data)
{
  PlWriter *self = user_data;

  set_origin (self, event->time);
  if (self->format == PL_WRITER_JSONL)
    pl_jsonl_append_event (self->buffer, event);
  else
    pl_text_append_event (self->buffer, session, event, self->origin, self->flags);
  writer_flush (self);
}

static void
on_session_closed (PlSession *session,
                   gpointer   user_data)
{
  PlWriter *self = user_data;

  if (self->format == PL_WRITER_JSONL)
    pl_jsonl_append_end (self->buffer, session);
  else if (self->flags & PL_WRITER_FLAGS_SESSION_LINES)
    pl_text_append_session (self->buffer, session, TRUE);
  writer_flush (self);
}

static const PlTraceListener writer_listener = {
  on_session_opened,
  on_event_added,
  on_session_closed,
};

PlWriter *
pl_writer_new (FILE           *stream,
               PlWriterFormat  format,
               PlWriterFlags   flags)
{
  PlWriter *self;

  g_return_val_if_fail (stream != NULL, NULL);

  self = g_new0 (PlWriter, 1);
  self->stream = stream;
  self->format = format;
  self->flags = flags;
  self->buffer = g_string_sized_new (4096);
  return self;
}

void
pl_writer_attach (PlWriter *self,
                  PlTrace  *trace)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (PL_IS_TRACE (trace));
  g_return_if_fail (self->trace == NULL);

  self->trace = g_object_ref (trace);
  self->listener_id = pl_trace_add_listener (trace, &writer_listener, self);
}

void
pl_writer_detach (PlWriter *self)
{
  g_return_if_fail (self != NULL);

  if (self->trace == NULL)
    return;
  pl_trace_remove_listener (self->trace, self->listener_id);
  g_clear_object (&self->trace);
}

void
pl_writer_free (PlWriter *self)
{
  if (self == NULL)
    return;
  pl_writer_detach (self);
  writer_flush (self);
  g_string_free (self->buffer, TRUE);
  g_free (self);
}
