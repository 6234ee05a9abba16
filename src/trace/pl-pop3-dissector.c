/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The POP3 dissector (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH): a reply's shape follows the command it answers. */
#define G_LOG_DOMAIN "postlab-trace"

#include <string.h>

#include "pl-dissector-private.h"
#include "pl-pop3-grammar.h"
#include "pl-smtp-grammar.h"

enum {
  ASKED_MULTILINE = 1 << 0,   /* a positive reply carries a dot-terminated body */
  ASKED_STLS      = 1 << 1,
  ASKED_SASL      = 1 << 2,   /* AUTH with a mechanism, or a SASL response */
};

#define MAX_WAITING 256

typedef enum {
  SERVER_STATUS = 0,   /* the next line is a status line */
  SERVER_BODY,         /* inside a multi-line body, up to its "." line */
  SERVER_UNSURE,       /* a +OK whose command was not seen: the next line says whether a body follows */
} ServerMode;

typedef struct {
  PlDissector  parent;
  guint8       waiting[MAX_WAITING];
  guint        first;
  guint        n_waiting;
  gboolean     sasl;
  ServerMode   server_mode;
  PlPop3Status status;     /* of the reply being read */
  gboolean     orphan;     /* a body whose status line is not in the capture */
} PlPop3Dissector;

static void
push_waiting (PlPop3Dissector *self,
              guint8           flags)
{
  if (self->n_waiting == MAX_WAITING)
    {
      self->first = (self->first + 1) % MAX_WAITING;
      self->n_waiting--;
    }
  self->waiting[(self->first + self->n_waiting) % MAX_WAITING] = flags;
  self->n_waiting++;
}

static int
pop_waiting (PlPop3Dissector *self)
{
  int flags;

  if (self->n_waiting == 0)
    return -1;
  flags = self->waiting[self->first];
  self->first = (self->first + 1) % MAX_WAITING;
  self->n_waiting--;
  return flags;
}

static void
client_line (PlPop3Dissector *self,
             PlStream        *s,
             const guint8    *line,
             gsize            len)
{
  PlDissector *d = &self->parent;
  gsize content = pl_line_content_len (line, len);
  g_autofree char *verb = NULL;
  g_autofree char *args = NULL;
  g_autofree char *b64 = NULL;
  gboolean parsed = FALSE;
  PlEvent *event;
  guint8 flags = 0;

  if (self->sasl)
    b64 = g_strndup ((const char *) line, content);
  else
    parsed = pl_pop3_parse_command (line, content, &verb, &args);
  event = pl_stream_take_unit_event (s, PL_EVENT_COMMAND, FALSE, NULL, parsed ? verb : NULL, parsed ? args : NULL);

  if (self->sasl)
    {
      if (memchr (b64, '\0', content) == NULL)
        {
          pl_stream_make_text (s, event);
          pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, b64));
        }
      push_waiting (self, ASKED_SASL);
      pl_dissector_emit (d, s, event);
      return;
    }
  if (parsed)
    {
      if (pl_pop3_reply_is_multiline (verb, args))
        flags |= ASKED_MULTILINE;
      if (g_str_equal (verb, "STLS"))
        {
          flags |= ASKED_STLS;
          s->tls_check = TRUE;
        }
      if (g_str_equal (verb, "AUTH") && args[0] != '\0')
        {
          g_auto(GStrv) words = g_strsplit (args, " ", -1);

          if (words[0] != NULL && words[1] != NULL)
            {
              pl_stream_make_text (s, event);
              pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, words[1]));
            }
          flags |= ASKED_SASL;
          self->sasl = TRUE;
        }
    }
  push_waiting (self, flags);
  pl_dissector_emit (d, s, event);
}

static void
client_step (PlPop3Dissector *self,
             PlStream        *s)
{
  const guint8 *line;
  gsize len;

  switch (pl_stream_next_line (&self->parent, s, &line, &len))
    {
    case PL_LINE_OK:
      client_line (self, s, line, len);
      break;
    case PL_LINE_LONG:
      pl_dissector_flush_plain (&self->parent, s, PL_EVENT_COMMAND, FALSE);
      s->resync = TRUE;
      break;
    case PL_LINE_WAIT:
    default:
      break;
    }
}

static void
emit_reply (PlPop3Dissector *self,
            PlStream        *s,
            PlEvent         *event)
{
  const char *status = pl_pop3_status_to_string (self->status);

  if (status != NULL)
    pl_event_set_status (event, status);
  pl_dissector_emit (&self->parent, s, event);
}

/* A part of a long or cut body; the parts after the first carry no status of their own. */
static void
emit_part (PlPop3Dissector *self,
           PlStream        *s)
{
  pl_dissector_emit (&self->parent, s,
                     pl_stream_take_unit_event (s, PL_EVENT_REPLY, TRUE, pl_pop3_status_to_string (self->status),
                                                NULL, NULL));
  self->status = PL_POP3_STATUS_INVALID;
}

static void
finish_reply (PlPop3Dissector *self,
              PlStream        *s,
              gboolean         multiline)
{
  pl_dissector_emit (&self->parent, s,
                     pl_stream_take_unit_event (s, PL_EVENT_REPLY, multiline, pl_pop3_status_to_string (self->status),
                                                NULL, NULL));
  self->server_mode = SERVER_STATUS;
  self->orphan = FALSE;
}

static gboolean
is_dot_line (const guint8 *line,
             gsize         len)
{
  return pl_line_content_len (line, len) == 1 && line[0] == '.';
}

/* What a reply with @status to the command @asked (its flags, or -1 for none) changes, besides its body. */
static void
answered (PlPop3Dissector *self,
          PlStream        *s,
          PlPop3Status     status,
          int              asked)
{
  if (asked < 0)
    return;
  if ((asked & ASKED_SASL) && status != PL_POP3_STATUS_CONTINUE)
    self->sasl = FALSE;
  /* RFC 2595 section 4: after +OK to STLS the TLS negotiation begins. */
  if ((asked & ASKED_STLS) && status == PL_POP3_STATUS_OK)
    s->tls_check = TRUE;
}

/* RFC 1939 section 3: a line that begins a reply ("+OK" or "-ERR"; a lone "+" could be body text). */
static gboolean
is_reply_status (const guint8 *line,
                 gsize         len)
{
  PlPop3Status status = pl_pop3_parse_status (line, pl_line_content_len (line, len));

  return status == PL_POP3_STATUS_OK || status == PL_POP3_STATUS_ERR;
}

/* RFC 1939 section 7 (RETR): "+OK n octets", the message's size; 0 when the line does not say it so. */
static guint64
octets_said (const guint8 *line,
             gsize         len)
{
  gsize i = 4;
  guint64 n = 0;

  if (len < 4 || memcmp (line, "+OK ", 4) != 0)
    return 0;
  if (i >= len || !g_ascii_isdigit (line[i]))
    return 0;
  for (; i < len && g_ascii_isdigit (line[i]) && n < G_MAXUINT32; i++)
    n = n * 10 + (guint64) (line[i] - '0');
  if (len - i >= 7 && g_ascii_strncasecmp ((const char *) line + i, " octets", 7) == 0)
    return n;
  return 0;
}

/* The first line of a reply, whose unit begins with it. */
static void
status_line (PlPop3Dissector *self,
             PlStream        *s,
             const guint8    *line,
             gsize            len)
{
  PlPop3Status status = pl_pop3_parse_status (line, pl_line_content_len (line, len));
  int asked;

  if (status == PL_POP3_STATUS_INVALID)
    {
      /* No status: the middle of a body whose start the capture missed. It ends at its "." line. */
      self->status = status;
      self->orphan = TRUE;
      self->server_mode = SERVER_BODY;
      if (is_dot_line (line, len))
        finish_reply (self, s, TRUE);
      return;
    }

  self->status = status;
  asked = pop_waiting (self);
  answered (self, s, status, asked);
  if (asked < 0)
    {
      /*
       * Nothing seen that it answers: the greeting, or a reply to a command
       * sent before the capture began. Only a +OK can have a body; the line
       * after it tells.
       */
      if (status == PL_POP3_STATUS_OK)
        self->server_mode = SERVER_UNSURE;
      else
        finish_reply (self, s, FALSE);
      return;
    }
  if ((asked & ASKED_MULTILINE) && status == PL_POP3_STATUS_OK)
    {
      guint64 size = octets_said (line, pl_line_content_len (line, len));

      /* The body's size, as RETR's "+OK n octets" says it (dot-stuffing makes it a little longer). */
      if (size > 0)
        pl_stream_expect (s, pl_stream_unit_len (s) + size + size / 32 + 64);
      self->server_mode = SERVER_BODY;   /* RFC 1939 section 3: up to the line "." */
      return;
    }
  finish_reply (self, s, FALSE);
}

/* Once a reply's unit has been emitted before this line, the line begins the next reply. */
static void
restart_with_line (PlPop3Dissector *self,
                   PlStream        *s)
{
  const guint8 *line;
  gsize len;

  if (pl_stream_unit_contiguous (s, &line, &len))
    status_line (self, s, line, len);
}

static void
server_step (PlPop3Dissector *self,
             PlStream        *s)
{
  PlDissector *d = &self->parent;
  const guint8 *line;
  gsize len;
  PlLineResult got;

  /*
   * Inside a body whose start was seen, the lines that neither end it nor
   * fill max_unit change nothing: they are passed over here rather than
   * each in a turn of pl_dissector_feed().
   */
  do
    {
      if (self->server_mode == SERVER_BODY && !self->orphan)
        pl_stream_skip_body_lines (d, s);
      got = pl_stream_next_line (d, s, &line, &len);
    }
  while (got == PL_LINE_OK && self->server_mode == SERVER_BODY && !self->orphan && !is_dot_line (line, len)
         && pl_stream_unit_len (s) < d->max_unit && !s->first_after_gap);

  switch (got)
    {
    case PL_LINE_OK:
      break;
    case PL_LINE_LONG:
      if (self->server_mode == SERVER_BODY)
        emit_part (self, s);
      else
        {
          pl_dissector_flush_plain (d, s, PL_EVENT_REPLY, FALSE);
          self->server_mode = SERVER_STATUS;
          s->resync = TRUE;
        }
      return;
    case PL_LINE_WAIT:
    default:
      return;
    }

  switch (self->server_mode)
    {
    case SERVER_STATUS:
      status_line (self, s, line, len);
      break;

    case SERVER_UNSURE:
      if (pl_pop3_parse_status (line, pl_line_content_len (line, len)) != PL_POP3_STATUS_INVALID)
        {
          /* Another status line: the +OK stood alone. */
          emit_reply (self, s, pl_stream_take_event_before_line (s, PL_EVENT_REPLY, FALSE));
          self->server_mode = SERVER_STATUS;
          restart_with_line (self, s);
        }
      else if (is_dot_line (line, len))
        finish_reply (self, s, TRUE);
      else
        self->server_mode = SERVER_BODY;
      break;

    case SERVER_BODY:
      if (s->first_after_gap && !self->orphan && self->n_waiting > 0 && pl_stream_unit_len (s) == len
          && is_reply_status (line, len))
        {
          /*
           * A status line right after a gap, with a later command already
           * sent: the gap took the end of this body, "." line and all (a
           * client that does not pipeline waits for the whole reply). The
           * line begins the reply to that command.
           */
          self->server_mode = SERVER_STATUS;
          status_line (self, s, line, len);
        }
      else if (is_dot_line (line, len))
        finish_reply (self, s, TRUE);
      else if (self->orphan && pl_pop3_parse_status (line, pl_line_content_len (line, len)) != PL_POP3_STATUS_INVALID)
        {
          /* A status line ends a body whose start was not seen (its "." may be in a gap). */
          emit_reply (self, s, pl_stream_take_event_before_line (s, PL_EVENT_REPLY, TRUE));
          self->server_mode = SERVER_STATUS;
          self->orphan = FALSE;
          restart_with_line (self, s);
        }
      else if (pl_stream_unit_len (s) >= d->max_unit)
        emit_part (self, s);
      break;

    default:
      break;
    }
}

static void
pop3_parse (PlDissector *d,
            PlStream    *s)
{
  PlPop3Dissector *self = (PlPop3Dissector *) d;

  if (s->dir == PL_DIR_CLIENT)
    client_step (self, s);
  else
    server_step (self, s);
}

/* The client speaks (or the connection ends): a +OK left unsure stood alone. */
static void
pop3_settle (PlDissector *d,
             PlStream    *s)
{
  PlPop3Dissector *self = (PlPop3Dissector *) d;

  if (s->dir == PL_DIR_SERVER && self->server_mode == SERVER_UNSURE && !s->tls && !s->opaque)
    finish_reply (self, s, FALSE);
}

static void
pop3_flush (PlDissector *d,
            PlStream    *s)
{
  PlPop3Dissector *self = (PlPop3Dissector *) d;

  if (pl_stream_unit_len (s) == 0)
    return;
  if (s->dir == PL_DIR_SERVER)
    {
      const guint8 *data;
      gsize len;

      if (self->server_mode == SERVER_BODY)
        emit_part (self, s);
      else
        {
          /* A first line cut short: its status is what it shows of one, not the last reply's. */
          if (self->server_mode == SERVER_STATUS && pl_stream_unit_contiguous (s, &data, &len))
            self->status = pl_pop3_parse_status (data, pl_line_content_len (data, len));
          finish_reply (self, s, FALSE);
        }
    }
  else
    pl_dissector_flush_plain (d, s, PL_EVENT_COMMAND, FALSE);
}

static void
pop3_gap (PlDissector *d,
          PlStream    *s,
          guint64      missing)
{
  PlPop3Dissector *self = (PlPop3Dissector *) d;
  const guint8 *data;
  gsize len;

  if (s->dir == PL_DIR_SERVER && self->server_mode == SERVER_STATUS && pl_stream_unit_len (s) > 0
      && pl_stream_unit_contiguous (s, &data, &len))
    {
      /*
       * The gap cut a reply's first line: the reply still answers the oldest
       * command waiting (its body, if any, goes on after the gap and is read
       * as one whose start was not seen). Without this the next reply would
       * be paired with that command, and every one after it.
       */
      PlPop3Status status = pl_pop3_parse_status (data, pl_line_content_len (data, len));

      if (status != PL_POP3_STATUS_INVALID)
        answered (self, s, status, pop_waiting (self));
    }
  pop3_flush (d, s);
  pl_dissector_note (d, s->time, "missing %" G_GUINT64_FORMAT " byte%s (%s)", missing,
                     missing == 1 ? "" : "s", pl_direction_describe (s->dir));
  /* Inside a body the body goes on; elsewhere the rest of the cut line is a fragment. */
  if (s->dir == PL_DIR_SERVER && self->server_mode == SERVER_BODY)
    return;
  s->resync = TRUE;
}

/* After a gap: a status line that begins what follows it is the next reply, not the end of the cut line. */
static gboolean
pop3_resume (PlDissector  *d,
             PlStream     *s,
             const guint8 *line,
             gsize         len)
{
  PlPop3Dissector *self = (PlPop3Dissector *) d;

  if (s->dir != PL_DIR_SERVER || self->server_mode != SERVER_STATUS || !is_reply_status (line, len))
    return FALSE;
  status_line (self, s, line, len);
  return TRUE;
}

const PlDissectorClass pl_pop3_dissector_class = {
  .protocol = PL_PROTOCOL_POP3,
  .instance_size = sizeof (PlPop3Dissector),
  .parse = pop3_parse,
  .gap = pop3_gap,
  .flush = pop3_flush,
  .settle = pop3_settle,
  .resume = pop3_resume,
};
