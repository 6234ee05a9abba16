/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SMTP dissector (RFC 5321, RFC 2920 PIPELINING, RFC 3030 CHUNKING, RFC 3207 STARTTLS, RFC 4954 AUTH). */
#define G_LOG_DOMAIN "postlab-trace"

#include <stdlib.h>
#include <string.h>

#include "pl-dissector-private.h"
#include "pl-smtp-grammar.h"

/* What a reply answers: each client line that waits for one (RFC 2920 section 3: replies come in order). */
typedef enum {
  ASKED_OTHER = 0,
  ASKED_DATA,
  ASKED_BDAT,
  ASKED_STARTTLS,
  ASKED_AUTH,      /* AUTH, or a SASL response line after a 334 */
} Asked;

/* Deeper than any pipelined group; past it the oldest is forgotten. */
#define MAX_WAITING 256

typedef enum {
  CLIENT_COMMANDS = 0,
  CLIENT_DATA,     /* after DATA: message content up to the "." line */
  CLIENT_CHUNK,    /* after BDAT n: n octets */
} ClientMode;

typedef struct {
  PlDissector  parent;
  guint8       waiting[MAX_WAITING];
  guint        first;
  guint        n_waiting;
  ClientMode   client_mode;
  guint64      chunk_left;
  gboolean     sasl;          /* the client's lines are SASL responses (RFC 4954 section 4) */
  gboolean     data_part;     /* a DATA body was cut at max_unit: parts follow */
  guint64      mail_size;     /* MAIL's SIZE= (RFC 1870), 0 when not given: a hint of how long the message is */
} PlSmtpDissector;

/* RFC 1870 section 6: MAIL FROM:<...> SIZE=n, the message's size in octets (a hint only: it may lie). */
static guint64
mail_size_param (const char *args)
{
  for (const char *p = args; (p = strchr (p, ' ')) != NULL; p++)
    if (g_ascii_strncasecmp (p + 1, "SIZE=", 5) == 0 && g_ascii_isdigit (p[6]))
      return g_ascii_strtoull (p + 6, NULL, 10);
  return 0;
}

static void
push_waiting (PlSmtpDissector *self,
              Asked            asked)
{
  if (self->n_waiting == MAX_WAITING)
    {
      self->first = (self->first + 1) % MAX_WAITING;
      self->n_waiting--;
    }
  self->waiting[(self->first + self->n_waiting) % MAX_WAITING] = (guint8) asked;
  self->n_waiting++;
}

/* The command the next reply answers, or -1 when none waits (the greeting, or a capture begun late). */
static int
pop_waiting (PlSmtpDissector *self)
{
  int asked;

  if (self->n_waiting == 0)
    return -1;
  asked = self->waiting[self->first];
  self->first = (self->first + 1) % MAX_WAITING;
  self->n_waiting--;
  return asked;
}

/* RFC 3030 section 2: "BDAT" SP chunk-size [SP "LAST"]. */
static gboolean
parse_bdat (const char *args,
            guint64    *size)
{
  char *end = NULL;
  guint64 n;

  if (!g_ascii_isdigit (args[0]))
    return FALSE;
  n = g_ascii_strtoull (args, &end, 10);
  if (end == args || (*end != '\0' && *end != ' '))
    return FALSE;
  *size = n;
  return TRUE;
}

static void
client_command (PlSmtpDissector *self,
                PlStream        *s,
                const guint8    *line,
                gsize            len)
{
  PlDissector *d = &self->parent;
  gsize content = pl_line_content_len (line, len);
  g_autofree char *verb = NULL;
  g_autofree char *args = NULL;
  g_autofree char *sasl_b64 = NULL;
  gboolean parsed = FALSE;
  PlEvent *event;

  if (self->sasl)
    sasl_b64 = g_strndup ((const char *) line, content);
  else
    parsed = pl_smtp_parse_command (line, content, &verb, &args);

  event = pl_stream_take_unit_event (s, PL_EVENT_COMMAND, FALSE, NULL, parsed ? verb : NULL, parsed ? args : NULL);
  if (self->sasl)
    {
      /* A SASL response, not a command: shown decoded, as the engines show it. */
      if (memchr (sasl_b64, '\0', content) == NULL)
        {
          pl_stream_make_text (s, event);
          pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, sasl_b64));
        }
      push_waiting (self, ASKED_AUTH);
      pl_dissector_emit (d, s, event);
      return;
    }
  if (!parsed)
    {
      push_waiting (self, ASKED_OTHER);
      pl_dissector_emit (d, s, event);
      return;
    }

  if (g_str_equal (verb, "MAIL"))
    {
      self->mail_size = mail_size_param (args);
      push_waiting (self, ASKED_OTHER);
    }
  else if (g_str_equal (verb, "AUTH"))
    {
      g_auto(GStrv) words = g_strsplit (args, " ", -1);

      if (words[0] != NULL && words[1] != NULL)
        {
          pl_stream_make_text (s, event);
          pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, words[1]));
        }
      self->sasl = TRUE;
      push_waiting (self, ASKED_AUTH);
    }
  else if (g_str_equal (verb, "DATA") && *args == '\0')
    {
      /* RFC 5321 4.1.1.4: the client waits for 354, so what it sends next is the message. */
      self->client_mode = CLIENT_DATA;
      self->data_part = FALSE;
      /* Dot-stuffing and the "." line make the body a little longer than the message. */
      if (self->mail_size > 0)
        pl_stream_expect (s, self->mail_size + self->mail_size / 32 + 64);
      self->mail_size = 0;
      push_waiting (self, ASKED_DATA);
    }
  else if (g_str_equal (verb, "BDAT"))
    {
      guint64 size = 0;

      /* RFC 3030 section 2: the chunk follows the command at once, pipelined or not. */
      if (parse_bdat (args, &size) && size > 0)
        {
          self->client_mode = CLIENT_CHUNK;
          self->chunk_left = size;
        }
      push_waiting (self, ASKED_BDAT);
    }
  else if (g_str_equal (verb, "STARTTLS"))
    {
      s->tls_check = TRUE;
      push_waiting (self, ASKED_STARTTLS);
    }
  else
    push_waiting (self, ASKED_OTHER);
  pl_dissector_emit (d, s, event);
}

static void
emit_data_part (PlSmtpDissector *self,
                PlStream        *s,
                gboolean         unstuff)
{
  PlEvent *event = pl_stream_take_event (s, PL_EVENT_DATA, unstuff);

  pl_dissector_emit (&self->parent, s, event);
}

static void
client_step (PlSmtpDissector *self,
             PlStream        *s)
{
  PlDissector *d = &self->parent;
  const guint8 *line;
  gsize len;

  switch (self->client_mode)
    {
    case CLIENT_CHUNK:
      self->chunk_left -= pl_stream_take (s, self->chunk_left);
      if (self->chunk_left == 0)
        {
          self->client_mode = CLIENT_COMMANDS;
          emit_data_part (self, s, FALSE);
        }
      else if (pl_stream_unit_len (s) >= d->max_unit)
        emit_data_part (self, s, FALSE);
      return;

    case CLIENT_DATA:
      /* Line after line of the message, here rather than a turn of pl_dissector_feed() each: nothing changes between them. */
      for (;;)
        {
          pl_stream_skip_body_lines (d, s);
          switch (pl_stream_next_line (d, s, &line, &len))
            {
            case PL_LINE_OK:
              /* RFC 5321 4.1.1.4: the content ends with a line holding a single ".". */
              if (pl_line_content_len (line, len) == 1 && line[0] == '.')
                {
                  self->client_mode = CLIENT_COMMANDS;
                  emit_data_part (self, s, TRUE);
                  /* The message as a whole gets a reply (the 250 or 5xx after "."), before any command after it. */
                  push_waiting (self, ASKED_OTHER);
                  return;
                }
              if (pl_stream_unit_len (s) >= d->max_unit)
                {
                  emit_data_part (self, s, TRUE);
                  return;
                }
              break;
            case PL_LINE_LONG:
              emit_data_part (self, s, TRUE);
              return;
            case PL_LINE_WAIT:
            default:
              return;
            }
        }

    case CLIENT_COMMANDS:
    default:
      switch (pl_stream_next_line (d, s, &line, &len))
        {
        case PL_LINE_OK:
          client_command (self, s, line, len);
          break;
        case PL_LINE_LONG:
          pl_dissector_flush_plain (d, s, PL_EVENT_COMMAND, FALSE);
          s->resync = TRUE;
          break;
        case PL_LINE_WAIT:
        default:
          break;
        }
      return;
    }
}

/* A whole reply has been read: what it answers changes what the client's octets mean next. */
static void
reply_done (PlSmtpDissector *self,
            PlStream        *s,
            guint            code,
            const char      *last_text)
{
  PlDissector *d = &self->parent;
  int asked = pop_waiting (self);
  /* The grammar read three digits: written back without a printf each reply. */
  char status[4] = { (char) ('0' + code / 100 % 10), (char) ('0' + code / 10 % 10), (char) ('0' + code % 10), '\0' };
  PlEvent *event = pl_stream_take_unit_event (s, PL_EVENT_REPLY, FALSE, code != 0 ? status : NULL, NULL, NULL);

  if (code == 334 && last_text != NULL)
    {
      pl_stream_make_text (s, event);
      pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, last_text));
    }

  switch (asked)
    {
    case ASKED_DATA:
      /* Refused (503, 554): no message follows after all, unless the client sent one anyway. */
      if (code != 354 && self->client_mode == CLIENT_DATA && pl_stream_unit_len (&d->client) == 0)
        self->client_mode = CLIENT_COMMANDS;
      break;
    case ASKED_STARTTLS:
      if (code == 220)
        s->tls_check = TRUE;
      break;
    case ASKED_AUTH:
      if (code != 334)
        self->sasl = FALSE;
      break;
    default:
      break;
    }
  pl_dissector_emit (d, s, event);
}

/* One whole line of the server's: a reply ends with a line that does not continue (RFC 5321 4.2.1). */
static void
server_line (PlSmtpDissector *self,
             PlStream        *s,
             const guint8    *line,
             gsize            len)
{
  PlDissector *d = &self->parent;
  gsize content = pl_line_content_len (line, len), text_start = 0;
  guint code = 0;
  gboolean continues = FALSE;

  if (!pl_smtp_parse_reply_line (line, content, &code, &continues, &text_start))
    {
      /* Not a reply line: it ends whatever reply it is in (as the grammar's accumulator does). */
      reply_done (self, s, 0, NULL);
      return;
    }
  if (continues)
    {
      /* A reply of endless continuation lines is shown in parts: memory stays bounded. */
      if (pl_stream_unit_len (s) >= d->max_unit)
        pl_dissector_flush_plain (d, s, PL_EVENT_REPLY, FALSE);
      return;
    }
  {
    g_autofree char *text = g_strndup ((const char *) line + text_start, content - text_start);
    reply_done (self, s, code, text);
  }
}

static void
server_step (PlSmtpDissector *self,
             PlStream        *s)
{
  PlDissector *d = &self->parent;
  const guint8 *line;
  gsize len;

  switch (pl_stream_next_line (d, s, &line, &len))
    {
    case PL_LINE_OK:
      server_line (self, s, line, len);
      return;
    case PL_LINE_LONG:
      pl_dissector_flush_plain (d, s, PL_EVENT_REPLY, FALSE);
      s->resync = TRUE;
      return;
    case PL_LINE_WAIT:
    default:
      return;
    }
}

static void
smtp_parse (PlDissector *d,
            PlStream    *s)
{
  PlSmtpDissector *self = (PlSmtpDissector *) d;

  if (s->dir == PL_DIR_CLIENT)
    client_step (self, s);
  else
    server_step (self, s);
}

static void
smtp_flush (PlDissector *d,
            PlStream    *s)
{
  PlSmtpDissector *self = (PlSmtpDissector *) d;

  if (s->dir == PL_DIR_CLIENT && self->client_mode != CLIENT_COMMANDS)
    pl_dissector_flush_plain (d, s, PL_EVENT_DATA, self->client_mode == CLIENT_DATA);
  else
    pl_dissector_flush_plain (d, s, s->dir == PL_DIR_CLIENT ? PL_EVENT_COMMAND : PL_EVENT_REPLY, FALSE);
}

/* The reply code a unit begins with (RFC 5321 4.2: three digits, the first 2 to 5), or 0. */
static guint
unit_reply_code (const PlStream *s)
{
  guint code = 0;

  if (pl_stream_unit_len (s) < 3)
    return 0;
  for (gsize i = 0; i < 3; i++)
    {
      guint8 c = pl_stream_unit_byte (s, i);

      if (!g_ascii_isdigit (c) || (i == 0 && (c < '2' || c > '5')))
        return 0;
      code = code * 10 + (guint) (c - '0');
    }
  return code;
}

static void
smtp_gap (PlDissector *d,
          PlStream    *s,
          guint64      missing)
{
  PlSmtpDissector *self = (PlSmtpDissector *) d;

  if (s->dir == PL_DIR_SERVER && pl_stream_unit_len (s) > 0)
    {
      /*
       * The gap cut a reply: it still answers the oldest command waiting (and
       * a 220 to STARTTLS still starts TLS). Without this the next reply would
       * be paired with that command, and every one after it.
       */
      guint code = unit_reply_code (s);

      if (code != 0)
        reply_done (self, s, code, NULL);
      else
        {
          pop_waiting (self);
          smtp_flush (d, s);
        }
    }
  else
    smtp_flush (d, s);
  pl_dissector_note (d, s->time, "missing %" G_GUINT64_FORMAT " byte%s (%s)", missing,
                     missing == 1 ? "" : "s", pl_direction_describe (s->dir));
  if (s->dir == PL_DIR_CLIENT && self->client_mode == CLIENT_DATA)
    return;   /* still inside the message: its "." line will end it */
  if (s->dir == PL_DIR_CLIENT && self->client_mode == CLIENT_CHUNK && missing < self->chunk_left)
    {
      self->chunk_left -= missing;   /* the chunk's length keeps its end in place */
      return;
    }
  if (s->dir == PL_DIR_CLIENT && self->client_mode == CLIENT_CHUNK && missing == self->chunk_left)
    {
      self->client_mode = CLIENT_COMMANDS;
      return;
    }
  if (s->dir == PL_DIR_CLIENT)
    self->client_mode = CLIENT_COMMANDS;
  s->resync = TRUE;
}

/* After a gap: a reply line that begins what follows it is the next reply, not the end of the cut line. */
static gboolean
smtp_resume (PlDissector  *d,
             PlStream     *s,
             const guint8 *line,
             gsize         len)
{
  PlSmtpDissector *self = (PlSmtpDissector *) d;
  gsize content = pl_line_content_len (line, len), text_start = 0;
  guint code = 0;
  gboolean continues = FALSE;

  if (s->dir != PL_DIR_SERVER || !pl_smtp_parse_reply_line (line, content, &code, &continues, &text_start))
    return FALSE;
  server_line (self, s, line, len);
  return TRUE;
}

const PlDissectorClass pl_smtp_dissector_class = {
  .protocol = PL_PROTOCOL_SMTP,
  .instance_size = sizeof (PlSmtpDissector),
  .parse = smtp_parse,
  .gap = smtp_gap,
  .flush = smtp_flush,
  .resume = smtp_resume,
};
