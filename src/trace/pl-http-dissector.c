/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The HTTP/1.1 dissector (RFC 9112): requests and responses with headers and bodies, keep-alive, chunked; mail marked. */
#define G_LOG_DOMAIN "postlab-trace"

#include <stdlib.h>
#include <string.h>

#include "pl-dissector-private.h"

#define MAX_WAITING 256
/* Bodies shown as text up to this size; larger or binary ones are summarised. */
#define MAX_SHOWN_BODY (64 * 1024)

typedef enum {
  READ_HEAD = 0,     /* start line and header fields, up to the empty line */
  READ_BODY,         /* Content-Length octets */
  READ_CHUNK_SIZE,   /* RFC 9112 section 7.1: chunk-size [ext] CRLF */
  READ_CHUNK_DATA,
  READ_CHUNK_END,    /* the CRLF after a chunk's data */
  READ_TRAILERS,
  READ_UNTIL_CLOSE,  /* a response without length: its body ends with the connection */
} ReadState;

typedef struct {
  ReadState  state;
  guint64    left;
  gsize      head_len;       /* octets of start line and fields in the unit */
  gboolean   have_start;
  char      *verb;           /* request: method; response: NULL */
  char      *args;           /* request: target and version */
  char      *status;         /* response: "200" */
  char      *content_type;
  gint64     content_length; /* -1 when absent */
  gboolean   chunked;
  gboolean   shown;          /* a part was emitted already (a long body) */
} Side;

typedef struct {
  PlDissector  parent;
  Side         side[2];      /* 0: client's requests, 1: server's responses */
  guint8       methods[MAX_WAITING];   /* 1 for HEAD, 2 for CONNECT, 0 others */
  guint        first;
  guint        n_waiting;
  gboolean     tunnel;       /* after CONNECT or 101: no more HTTP on this connection */
} PlHttpDissector;

static void
side_reset (Side *side)
{
  g_clear_pointer (&side->verb, g_free);
  g_clear_pointer (&side->args, g_free);
  g_clear_pointer (&side->status, g_free);
  g_clear_pointer (&side->content_type, g_free);
  side->state = READ_HEAD;
  side->left = 0;
  side->head_len = 0;
  side->have_start = FALSE;
  side->content_length = -1;
  side->chunked = FALSE;
  side->shown = FALSE;
}

static void
http_init (PlDissector *d)
{
  PlHttpDissector *self = (PlHttpDissector *) d;

  side_reset (&self->side[0]);
  side_reset (&self->side[1]);
}

static void
http_finalize (PlDissector *d)
{
  PlHttpDissector *self = (PlHttpDissector *) d;

  side_reset (&self->side[0]);
  side_reset (&self->side[1]);
}

static gboolean
is_textual (const char *content_type)
{
  if (content_type == NULL)
    return FALSE;
  return g_ascii_strncasecmp (content_type, "text/", 5) == 0
         || strstr (content_type, "json") != NULL
         || strstr (content_type, "xml") != NULL
         || strstr (content_type, "javascript") != NULL
         || strstr (content_type, "x-www-form-urlencoded") != NULL
         || g_ascii_strncasecmp (content_type, "message/", 8) == 0;
}

static gboolean
has_ci (const guint8 *data,
        gsize         len,
        const char   *word)
{
  gsize n = strlen (word);
  guint8 first = (guint8) g_ascii_tolower (word[0]);

  /* The first octet is compared here: a call each octet of a body was most of the reading thread's HTTP time. */
  for (gsize i = 0; i + n <= len; i++)
    {
      guint8 c = data[i];

      if (c >= 'A' && c <= 'Z')
        c = (guint8) (c + ('a' - 'A'));
      if (c == first && g_ascii_strncasecmp ((const char *) data + i, word, n) == 0)
        return TRUE;
    }
  return FALSE;
}

/*
 * Whether a message carries mail: a whole message (message/rfc822), or a
 * form or JSON body with a subject and an address, as webmail sends and
 * shows them.
 */
static const char *
carries_mail (const Side   *side,
              const guint8 *body,
              gsize         len)
{
  const char *type = side->content_type;

  if (type != NULL && has_ci ((const guint8 *) type, strlen (type), "message/rfc822"))
    return "a whole message (message/rfc822)";
  if (len == 0 || !is_textual (type) || len > MAX_SHOWN_BODY)
    return NULL;
  if ((has_ci (body, len, "\"subject\"") || has_ci (body, len, "subject="))
      && (has_ci (body, len, "\"from\"") || has_ci (body, len, "\"to\"")
          || has_ci (body, len, "from=") || has_ci (body, len, "to=")))
    return "a message's subject and addresses";
  if (has_ci (body, len, "\nsubject: ") && has_ci (body, len, "\nfrom: "))
    return "a message with its header";
  return NULL;
}

static void
emit_message (PlHttpDissector *self,
              PlStream        *s,
              Side            *side,
              gboolean         whole)
{
  PlDissector *d = &self->parent;
  gboolean first = !side->shown;
  gsize unit_len = pl_stream_unit_len (s);
  gsize head = first ? MIN (side->head_len, unit_len) : 0;
  PlEventKind kind = first ? (s->dir == PL_DIR_CLIENT ? PL_EVENT_COMMAND : PL_EVENT_REPLY) : PL_EVENT_DATA;
  /* The head as text; a body as text when it is text, else what it is (so the body's text is never made). */
  gboolean summarised = unit_len > head && (!is_textual (side->content_type) || unit_len - head > MAX_SHOWN_BODY
                                            || side->chunked);
  PlEvent *event = summarised ? pl_stream_take_event_with_text (s, kind, NULL) : pl_stream_take_event (s, kind, FALSE);
  gsize len;
  const guint8 *data = pl_event_get_data (event, &len);
  const guint8 *body = data + head;
  gsize body_len = len - head;
  const char *mail = NULL;

  if (first)
    {
      if (side->verb != NULL)
        pl_event_set_verb (event, side->verb, side->args);
      if (side->status != NULL)
        pl_event_set_status (event, side->status);
    }
  if (summarised)
    {
      g_autofree char *head_text = pl_display_text_from_octets (data, head, FALSE);
      GString *text = g_string_new (head_text);

      if (head > 0)
        g_string_append_c (text, '\n');
      g_string_append_printf (text, "[%" G_GSIZE_FORMAT " octet%s of %s%s]", body_len, body_len == 1 ? "" : "s",
                              side->chunked ? "chunked " : "",
                              side->content_type != NULL ? side->content_type : "body");
      pl_event_take_text (event, g_string_free (text, FALSE));
    }
  if (whole || first)
    mail = carries_mail (side, body, body_len);
  side->shown = TRUE;
  pl_dissector_emit (d, s, event);
  if (mail != NULL)
    pl_dissector_note (d, s->time, "this %s carries mail: %s",
                       s->dir == PL_DIR_CLIENT ? "request" : "response", mail);
}

static void
push_method (PlHttpDissector *self,
             guint8           kind)
{
  if (self->n_waiting == MAX_WAITING)
    {
      self->first = (self->first + 1) % MAX_WAITING;
      self->n_waiting--;
    }
  self->methods[(self->first + self->n_waiting) % MAX_WAITING] = kind;
  self->n_waiting++;
}

static int
pop_method (PlHttpDissector *self)
{
  int kind;

  if (self->n_waiting == 0)
    return -1;
  kind = self->methods[self->first];
  self->first = (self->first + 1) % MAX_WAITING;
  self->n_waiting--;
  return kind;
}

/* RFC 9112 section 3 and 4: the request line or status line. */
static gboolean
parse_start_line (PlHttpDissector *self,
                  Side            *side,
                  PlDirection      dir,
                  const guint8    *line,
                  gsize            content)
{
  const guint8 *sp = memchr (line, ' ', content);

  if (sp == NULL || sp == line || memchr (line, '\0', content) != NULL)
    return FALSE;
  if (dir == PL_DIR_SERVER)
    {
      gsize at = (gsize) (sp - line) + 1;

      if (content < 8 || memcmp (line, "HTTP/", 5) != 0 || at + 3 > content
          || !g_ascii_isdigit (line[at]) || !g_ascii_isdigit (line[at + 1]) || !g_ascii_isdigit (line[at + 2]))
        return FALSE;
      side->status = g_strndup ((const char *) line + at, 3);
      return TRUE;
    }
  if (content < 14 || memcmp (line + content - 8, "HTTP/", 5) != 0)
    return FALSE;
  side->verb = g_ascii_strup ((const char *) line, sp - line);
  side->args = g_strndup ((const char *) sp + 1, content - (gsize) (sp - line) - 1);
  push_method (self, g_str_equal (side->verb, "HEAD") ? 1 : g_str_equal (side->verb, "CONNECT") ? 2 : 0);
  return TRUE;
}

static void
parse_field (Side         *side,
             const guint8 *line,
             gsize         content)
{
  const guint8 *colon = memchr (line, ':', content);
  gsize name_len, at;
  g_autofree char *value = NULL;

  if (colon == NULL)
    return;
  name_len = (gsize) (colon - line);
  at = name_len + 1;
  while (at < content && (line[at] == ' ' || line[at] == '\t'))
    at++;
  value = g_strndup ((const char *) line + at, content - at);
  g_strchomp (value);
  if (name_len == 14 && g_ascii_strncasecmp ((const char *) line, "Content-Length", 14) == 0)
    {
      char *end = NULL;
      guint64 n = g_ascii_strtoull (value, &end, 10);

      if (end != value && *end == '\0' && n < G_MAXINT64)
        side->content_length = (gint64) n;
    }
  else if (name_len == 17 && g_ascii_strncasecmp ((const char *) line, "Transfer-Encoding", 17) == 0)
    side->chunked = has_ci ((const guint8 *) value, strlen (value), "chunked");
  else if (name_len == 12 && g_ascii_strncasecmp ((const char *) line, "Content-Type", 12) == 0)
    {
      g_free (side->content_type);
      side->content_type = g_ascii_strdown (value, -1);
    }
}

static void
message_done (PlHttpDissector *self,
              PlStream        *s,
              Side            *side)
{
  emit_message (self, s, side, TRUE);
  side_reset (side);
}

/* The empty line: RFC 9112 section 6.3 says how long the body is. */
static void
head_done (PlHttpDissector *self,
           PlStream        *s,
           Side            *side)
{
  side->head_len = pl_stream_unit_len (s);
  if (s->dir == PL_DIR_SERVER)
    {
      guint code = (guint) atoi (side->status);
      int method;

      if (code >= 100 && code < 200 && code != 101)
        {
          message_done (self, s, side);   /* interim: the real response follows */
          return;
        }
      method = pop_method (self);
      if (code == 101 || (method == 2 && code >= 200 && code < 300))
        {
          message_done (self, s, side);
          self->tunnel = TRUE;
          s->opaque = TRUE;
          pl_dissector_peer (&self->parent, s)->opaque = TRUE;
          return;
        }
      if (method == 1 || code == 204 || code == 304)
        {
          message_done (self, s, side);
          return;
        }
      if (side->chunked)
        side->state = READ_CHUNK_SIZE;
      else if (side->content_length >= 0)
        {
          side->left = (guint64) side->content_length;
          side->state = READ_BODY;
        }
      else
        side->state = READ_UNTIL_CLOSE;
    }
  else if (side->chunked)
    side->state = READ_CHUNK_SIZE;
  else if (side->content_length > 0)
    {
      side->left = (guint64) side->content_length;
      side->state = READ_BODY;
    }
  else
    {
      message_done (self, s, side);
      return;
    }
  if (side->state == READ_BODY && side->left == 0)
    message_done (self, s, side);
}

static void
lost (PlHttpDissector *self,
      PlStream        *s,
      Side            *side)
{
  /* Not HTTP as RFC 9112 writes it: shown as it is, and read no further. */
  emit_message (self, s, side, FALSE);
  side_reset (side);
  s->opaque = TRUE;
}

static void
http_parse (PlDissector *d,
            PlStream    *s)
{
  PlHttpDissector *self = (PlHttpDissector *) d;
  Side *side = &self->side[s->dir == PL_DIR_SERVER ? 1 : 0];
  const guint8 *line;
  gsize len, content;

  switch (side->state)
    {
    case READ_BODY:
    case READ_CHUNK_DATA:
      side->left -= pl_stream_take (s, side->left);
      if (side->left == 0)
        {
          if (side->state == READ_BODY)
            message_done (self, s, side);
          else
            side->state = READ_CHUNK_END;
        }
      else if (pl_stream_unit_len (s) >= d->max_unit)
        emit_message (self, s, side, FALSE);
      return;
    case READ_UNTIL_CLOSE:
      pl_stream_take_all (s);
      if (pl_stream_unit_len (s) >= d->max_unit)
        emit_message (self, s, side, FALSE);
      return;
    case READ_HEAD:
    case READ_CHUNK_SIZE:
    case READ_CHUNK_END:
    case READ_TRAILERS:
    default:
      break;
    }

  switch (pl_stream_next_line (d, s, &line, &len))
    {
    case PL_LINE_OK:
      break;
    case PL_LINE_LONG:
      lost (self, s, side);
      return;
    case PL_LINE_WAIT:
    default:
      return;
    }
  content = pl_line_content_len (line, len);

  switch (side->state)
    {
    case READ_HEAD:
      if (!side->have_start)
        {
          if (content == 0 && pl_stream_unit_len (s) == len)
            {
              /* RFC 9112 section 2.2: an empty line before a request is ignored, but kept. */
              emit_message (self, s, side, FALSE);
              side_reset (side);
              return;
            }
          if (!parse_start_line (self, side, s->dir, line, content))
            {
              lost (self, s, side);
              return;
            }
          side->have_start = TRUE;
        }
      else if (content == 0)
        head_done (self, s, side);
      else if (pl_stream_unit_len (s) >= d->max_unit)
        lost (self, s, side);     /* header fields without end: shown as they are, memory bounded */
      else
        parse_field (side, line, content);
      return;
    case READ_CHUNK_SIZE:
      {
        char *end = NULL;
        g_autofree char *text = g_strndup ((const char *) line, content);
        guint64 size = g_ascii_strtoull (text, &end, 16);

        if (end == text || !g_ascii_isxdigit (text[0]))
          {
            lost (self, s, side);
            return;
          }
        if (size == 0)
          side->state = READ_TRAILERS;
        else
          {
            side->left = size;
            side->state = READ_CHUNK_DATA;
          }
        return;
      }
    case READ_CHUNK_END:
      side->state = READ_CHUNK_SIZE;
      if (pl_stream_unit_len (s) >= d->max_unit)
        emit_message (self, s, side, FALSE);
      return;
    case READ_TRAILERS:
      if (content == 0)
        message_done (self, s, side);
      return;
    case READ_BODY:
    case READ_CHUNK_DATA:
    case READ_UNTIL_CLOSE:
    default:
      return;
    }
}

static void
http_flush (PlDissector *d,
            PlStream    *s)
{
  PlHttpDissector *self = (PlHttpDissector *) d;
  Side *side = &self->side[s->dir == PL_DIR_SERVER ? 1 : 0];

  if (pl_stream_unit_len (s) == 0)
    return;
  emit_message (self, s, side, side->state == READ_UNTIL_CLOSE);
  if (side->state == READ_HEAD || side->state == READ_UNTIL_CLOSE)
    side_reset (side);
}

static void
http_gap (PlDissector *d,
          PlStream    *s,
          guint64      missing)
{
  PlHttpDissector *self = (PlHttpDissector *) d;
  Side *side = &self->side[s->dir == PL_DIR_SERVER ? 1 : 0];

  http_flush (d, s);
  pl_dissector_note (d, s->time, "missing %" G_GUINT64_FORMAT " byte%s (%s)", missing,
                     missing == 1 ? "" : "s", pl_direction_describe (s->dir));
  if ((side->state == READ_BODY || side->state == READ_CHUNK_DATA) && missing <= side->left)
    {
      /* Inside a body of known length: its end stays in place. */
      side->left -= missing;
      if (side->left == 0)
        {
          if (side->state == READ_BODY)
            side_reset (side);
          else
            side->state = READ_CHUNK_END;
        }
      return;
    }
  if (side->state == READ_UNTIL_CLOSE)
    return;
  side_reset (side);
  s->resync = TRUE;
}

const PlDissectorClass pl_http_dissector_class = {
  .protocol = PL_PROTOCOL_HTTP,
  .instance_size = sizeof (PlHttpDissector),
  .init = http_init,
  .finalize = http_finalize,
  .parse = http_parse,
  .gap = http_gap,
  .flush = http_flush,
};
