/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The IMAP dissector (RFC 3501, RFC 7888 LITERAL+, RFC 2177 IDLE): tags, untagged responses, continuations, literals both ways. */
#define G_LOG_DOMAIN "postlab-trace"

#include <string.h>

#include "pl-dissector-private.h"
#include "pl-smtp-grammar.h"

#define MAX_WAITING 64
#define MAX_TAG     64
#define MAX_WORD    32

typedef enum {
  ASKED_OTHER = 0,
  ASKED_STARTTLS,
  ASKED_AUTHENTICATE,
  ASKED_IDLE,
} Asked;

typedef struct {
  char   tag[MAX_TAG];
  Asked  asked;
} Waiting;

typedef enum {
  MODE_LINE = 0,
  MODE_LITERAL,    /* n octets of a literal, then the line goes on */
  MODE_FRAGMENT,   /* server: lines of a response whose start the capture missed */
} Mode;

typedef struct {
  PlDissector  parent;
  Waiting      waiting[MAX_WAITING];
  guint        n_waiting;

  Mode         client_mode;
  guint64      client_literal;
  gboolean     in_command;     /* the unit goes on with a command begun on an earlier line */
  gboolean     command_shown;  /* that command's first part (up to a synchronizing literal) was emitted */
  char        *tag;
  char        *verb;
  char        *args;
  gboolean     authenticating; /* tagless client lines are SASL responses (RFC 3501 section 6.2.2) */
  gboolean     idling;

  Mode         server_mode;
  guint64      server_literal;
  gboolean     in_response;
  gboolean     response_shown;
  char        *response_tag;
  char        *status;
} PlImapDissector;

static void
imap_finalize (PlDissector *d)
{
  PlImapDissector *self = (PlImapDissector *) d;

  g_free (self->tag);
  g_free (self->verb);
  g_free (self->args);
  g_free (self->response_tag);
  g_free (self->status);
}

static void
wait_for (PlImapDissector *self,
          const char      *tag,
          Asked            asked)
{
  if (self->n_waiting == MAX_WAITING)
    {
      memmove (&self->waiting[0], &self->waiting[1], sizeof (Waiting) * (MAX_WAITING - 1));
      self->n_waiting--;
    }
  g_strlcpy (self->waiting[self->n_waiting].tag, tag, MAX_TAG);
  self->waiting[self->n_waiting].asked = asked;
  self->n_waiting++;
}

/* RFC 3501 section 2.2.2: the tagged response completes the command with that tag. */
static int
completed (PlImapDissector *self,
           const char      *tag)
{
  for (guint i = 0; i < self->n_waiting; i++)
    if (strcmp (self->waiting[i].tag, tag) == 0)
      {
        Asked asked = self->waiting[i].asked;

        memmove (&self->waiting[i], &self->waiting[i + 1], sizeof (Waiting) * (self->n_waiting - i - 1));
        self->n_waiting--;
        return (int) asked;
      }
  return -1;
}

/* RFC 3501 section 4.3 and RFC 7888: a line that ends "{n}" or "{n+}" is followed by n octets. */
static gboolean
line_literal (const guint8 *line,
              gsize         content,
              guint64      *n,
              gboolean     *non_sync)
{
  gsize i;
  guint64 value = 0;
  gsize digits = 0;

  if (content < 3 || line[content - 1] != '}')
    return FALSE;
  i = content - 1;
  *non_sync = i > 0 && line[i - 1] == '+';
  if (*non_sync)
    i--;
  while (i > 0 && g_ascii_isdigit (line[i - 1]))
    {
      i--;
      digits++;
    }
  if (digits == 0 || digits > 18 || i == 0 || line[i - 1] != '{')
    return FALSE;
  for (gsize k = i; k < i + digits; k++)
    value = value * 10 + (guint64) (line[k] - '0');
  *n = value;
  return TRUE;
}

/* RFC 3501 section 9: tag = 1*<any ASTRING-CHAR except "+">. */
static gsize
tag_len (const guint8 *line,
         gsize         len)
{
  gsize n = 0;

  while (n < len && n < MAX_TAG - 1 && line[n] > ' ' && line[n] < 0x7f
         && strchr ("(){%*\"\\+", line[n]) == NULL)
    n++;
  return n;
}

static gsize
word_len (const guint8 *p,
          gsize         len)
{
  gsize n = 0;

  while (n < len && n < MAX_WORD && (g_ascii_isalnum (p[n]) || p[n] == '.' || p[n] == '-' || p[n] == '_'))
    n++;
  return n;
}

static gboolean
is_status_word (const guint8 *p,
                gsize         n)
{
  static const char * const words[] = { "OK", "NO", "BAD", "BYE", "PREAUTH", NULL };

  for (guint i = 0; words[i] != NULL; i++)
    if (strlen (words[i]) == n && g_ascii_strncasecmp ((const char *) p, words[i], n) == 0)
      return TRUE;
  return FALSE;
}

/* Client ------------------------------------------------------------------------------- */

static void
clear_command (PlImapDissector *self)
{
  g_clear_pointer (&self->tag, g_free);
  g_clear_pointer (&self->verb, g_free);
  g_clear_pointer (&self->args, g_free);
  self->in_command = FALSE;
  self->command_shown = FALSE;
}

static void
emit_command (PlImapDissector *self,
              PlStream        *s)
{
  gboolean first = !self->command_shown && self->verb != NULL;
  PlEvent *event = pl_stream_take_tagged_event (s, PL_EVENT_COMMAND, self->tag, NULL,
                                                first ? self->verb : NULL, first ? self->args : NULL);

  if (first)
    {
      /* RFC 4959: AUTHENTICATE PLAIN with an initial response, shown decoded. */
      if (g_str_equal (self->verb, "AUTHENTICATE"))
        {
          g_auto(GStrv) words = g_strsplit (self->args, " ", -1);

          if (words[0] != NULL && words[1] != NULL)
            {
              pl_stream_make_text (s, event);
              pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, words[1]));
            }
        }
    }
  self->command_shown = TRUE;
  pl_dissector_emit (&self->parent, s, event);
}

/* The first line of a command: its tag and verb, and what it makes the other side do. */
static void
begin_command (PlImapDissector *self,
               PlStream        *s,
               const guint8    *line,
               gsize            content)
{
  gsize tag = tag_len (line, content);
  gsize verb_start, verb;

  clear_command (self);
  self->in_command = TRUE;
  if (tag == 0 || tag >= content || line[tag] != ' ')
    return;
  verb_start = tag + 1;
  verb = 0;
  while (verb_start + verb < content && line[verb_start + verb] != ' ')
    verb++;
  if (verb == 0 || verb > MAX_WORD)
    return;

  self->tag = g_strndup ((const char *) line, tag);
  self->verb = g_ascii_strup ((const char *) line + verb_start, (gssize) verb);
  self->args = verb_start + verb < content
               ? g_strndup ((const char *) line + verb_start + verb + 1, content - verb_start - verb - 1)
               : g_strdup ("");
  if (strchr (self->verb, '\0') != self->verb + verb)
    {
      clear_command (self);
      self->in_command = TRUE;
      return;
    }

  if (g_str_equal (self->verb, "STARTTLS"))
    {
      s->tls_check = TRUE;
      wait_for (self, self->tag, ASKED_STARTTLS);
    }
  else if (g_str_equal (self->verb, "AUTHENTICATE"))
    {
      self->authenticating = TRUE;
      wait_for (self, self->tag, ASKED_AUTHENTICATE);
    }
  else if (g_str_equal (self->verb, "IDLE"))
    {
      self->idling = TRUE;
      wait_for (self, self->tag, ASKED_IDLE);
    }
  else
    wait_for (self, self->tag, ASKED_OTHER);
}

static void
client_line (PlImapDissector *self,
             PlStream        *s,
             const guint8    *line,
             gsize            len)
{
  gsize content = pl_line_content_len (line, len);
  guint64 n = 0;
  gboolean non_sync = FALSE;

  if (!self->in_command)
    {
      if (self->authenticating && memchr (line, ' ', content) == NULL)
        {
          /* A SASL response: base64, or "*" to cancel. */
          g_autofree char *b64 = g_strndup ((const char *) line, content);
          PlEvent *event = pl_stream_take_event (s, PL_EVENT_COMMAND, FALSE);

          if (strlen (b64) == content)
            {
              pl_stream_make_text (s, event);
              pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, b64));
            }
          pl_dissector_emit (&self->parent, s, event);
          return;
        }
      if (self->idling && content == 4 && g_ascii_strncasecmp ((const char *) line, "DONE", 4) == 0)
        {
          /* RFC 2177 section 3: DONE ends IDLE; it has no tag of its own. */
          PlEvent *event = pl_stream_take_event (s, PL_EVENT_COMMAND, FALSE);

          pl_event_set_verb (event, "DONE", "");
          self->idling = FALSE;
          pl_dissector_emit (&self->parent, s, event);
          return;
        }
      begin_command (self, s, line, content);
    }

  if (line_literal (line, content, &n, &non_sync))
    {
      /* A synchronizing literal waits for the server's "+": what came so far is shown now. */
      if (!non_sync)
        emit_command (self, s);
      self->client_mode = MODE_LITERAL;
      self->client_literal = n;
      if (n == 0)
        self->client_mode = MODE_LINE;
      return;
    }
  emit_command (self, s);
  clear_command (self);
}

static void
client_step (PlImapDissector *self,
             PlStream        *s)
{
  PlDissector *d = &self->parent;
  const guint8 *line;
  gsize len;

  if (self->client_mode == MODE_LITERAL)
    {
      self->client_literal -= pl_stream_take (s, self->client_literal);
      if (self->client_literal == 0)
        self->client_mode = MODE_LINE;
      else if (pl_stream_unit_len (s) >= d->max_unit)
        emit_command (self, s);
      return;
    }
  switch (pl_stream_next_line (d, s, &line, &len))
    {
    case PL_LINE_OK:
      client_line (self, s, line, len);
      break;
    case PL_LINE_LONG:
      emit_command (self, s);
      clear_command (self);
      s->resync = TRUE;
      break;
    case PL_LINE_WAIT:
    default:
      break;
    }
}

/* Server ------------------------------------------------------------------------------- */

static void
clear_response (PlImapDissector *self)
{
  g_clear_pointer (&self->response_tag, g_free);
  g_clear_pointer (&self->status, g_free);
  self->in_response = FALSE;
  self->response_shown = FALSE;
}

/* @event, the response read so far (or a part of it), with its tag and status on its first part only. */
static void
emit_response_event (PlImapDissector *self,
                     PlStream        *s,
                     PlEvent         *event)
{
  if (!self->response_shown)
    {
      if (self->response_tag != NULL)
        pl_event_set_tag (event, self->response_tag);
      if (self->status != NULL)
        pl_event_set_status (event, self->status);
    }
  self->response_shown = TRUE;
  pl_dissector_emit (&self->parent, s, event);
}

/* The same for the whole unit read so far, its strings given as it is made. */
static void
emit_response (PlImapDissector *self,
               PlStream        *s)
{
  gboolean first = !self->response_shown;

  self->response_shown = TRUE;
  pl_dissector_emit (&self->parent, s,
                     pl_stream_take_tagged_event (s, PL_EVENT_REPLY, first ? self->response_tag : NULL,
                                                  first ? self->status : NULL, NULL, NULL));
}

/*
 * What the first line of a response is (RFC 3501 section 7): untagged "*",
 * a continuation request "+", or a tagged completion. FALSE when it is none.
 */
static gboolean
classify_response (const guint8  *line,
                   gsize          content,
                   char         **tag,
                   char         **status)
{
  gsize t, w;

  *tag = NULL;
  *status = NULL;
  if (content >= 1 && line[0] == '+' && (content == 1 || line[1] == ' '))
    {
      *status = g_strdup ("+");
      return TRUE;
    }
  if (content >= 2 && line[0] == '*' && line[1] == ' ')
    {
      gsize at = 2;

      /* "* 23 EXISTS", "* 1 FETCH (...)": the keyword after the number. */
      if (at < content && g_ascii_isdigit (line[at]))
        {
          while (at < content && g_ascii_isdigit (line[at]))
            at++;
          if (at < content && line[at] == ' ')
            at++;
        }
      w = word_len (line + at, content - at);
      *tag = g_strdup ("*");
      if (w > 0)
        *status = g_ascii_strup ((const char *) line + at, (gssize) w);
      return TRUE;
    }
  t = tag_len (line, content);
  if (t == 0 || t >= content || line[t] != ' ')
    return FALSE;
  w = word_len (line + t + 1, content - t - 1);
  if (w == 0 || !is_status_word (line + t + 1, w))
    return FALSE;
  *tag = g_strndup ((const char *) line, t);
  *status = g_ascii_strup ((const char *) line + t + 1, (gssize) w);
  return TRUE;
}

static void
response_done (PlImapDissector *self,
               PlStream        *s)
{
  if (self->response_tag != NULL && !g_str_equal (self->response_tag, "*"))
    {
      int asked = completed (self, self->response_tag);

      switch (asked)
        {
        case ASKED_STARTTLS:
          if (self->status != NULL && g_str_equal (self->status, "OK"))
            s->tls_check = TRUE;
          break;
        case ASKED_AUTHENTICATE:
          self->authenticating = FALSE;
          break;
        case ASKED_IDLE:
          self->idling = FALSE;
          break;
        default:
          break;
        }
    }
  emit_response (self, s);
  clear_response (self);
}

static void server_line (PlImapDissector *self, PlStream *s, const guint8 *line, gsize len);

static void
server_line (PlImapDissector *self,
             PlStream        *s,
             const guint8    *line,
             gsize            len)
{
  gsize content = pl_line_content_len (line, len);
  guint64 n = 0;
  gboolean non_sync = FALSE;

  if (self->server_mode == MODE_FRAGMENT)
    {
      char *tag, *status;

      if (!classify_response (line, content, &tag, &status))
        {
          if (pl_stream_unit_len (s) >= self->parent.max_unit)
            emit_response (self, s);
          return;
        }
      g_free (tag);
      g_free (status);
      /* A response begins: what came before it was the end of one the capture caught midway. */
      emit_response_event (self, s, pl_stream_take_event_before_line (s, PL_EVENT_REPLY, FALSE));
      clear_response (self);
      self->server_mode = MODE_LINE;
      if (pl_stream_unit_contiguous (s, &line, &len))
        server_line (self, s, line, len);
      return;
    }

  if (!self->in_response)
    {
      clear_response (self);
      if (!classify_response (line, content, &self->response_tag, &self->status))
        {
          self->server_mode = MODE_FRAGMENT;
          return;
        }
      self->in_response = TRUE;
    }
  if (line_literal (line, content, &n, &non_sync) && n > 0)
    {
      self->server_mode = MODE_LITERAL;
      self->server_literal = n;
      return;
    }
  response_done (self, s);
}

static void
server_step (PlImapDissector *self,
             PlStream        *s)
{
  PlDissector *d = &self->parent;
  const guint8 *line;
  gsize len;

  if (self->server_mode == MODE_LITERAL)
    {
      self->server_literal -= pl_stream_take (s, self->server_literal);
      if (self->server_literal == 0)
        self->server_mode = MODE_LINE;
      else if (pl_stream_unit_len (s) >= d->max_unit)
        emit_response (self, s);
      return;
    }
  switch (pl_stream_next_line (d, s, &line, &len))
    {
    case PL_LINE_OK:
      server_line (self, s, line, len);
      break;
    case PL_LINE_LONG:
      emit_response (self, s);
      clear_response (self);
      self->server_mode = MODE_LINE;
      s->resync = TRUE;
      break;
    case PL_LINE_WAIT:
    default:
      break;
    }
}

static void
imap_parse (PlDissector *d,
            PlStream    *s)
{
  PlImapDissector *self = (PlImapDissector *) d;

  if (s->dir == PL_DIR_CLIENT)
    client_step (self, s);
  else
    server_step (self, s);
}

static void
imap_flush (PlDissector *d,
            PlStream    *s)
{
  PlImapDissector *self = (PlImapDissector *) d;

  if (pl_stream_unit_len (s) == 0)
    return;
  if (s->dir == PL_DIR_CLIENT)
    emit_command (self, s);
  else
    emit_response (self, s);
}

static void
imap_gap (PlDissector *d,
          PlStream    *s,
          guint64      missing)
{
  PlImapDissector *self = (PlImapDissector *) d;
  gboolean client = s->dir == PL_DIR_CLIENT;
  Mode *mode = client ? &self->client_mode : &self->server_mode;
  guint64 *literal = client ? &self->client_literal : &self->server_literal;

  imap_flush (d, s);
  pl_dissector_note (d, s->time, "missing %" G_GUINT64_FORMAT " byte%s (%s)", missing,
                     missing == 1 ? "" : "s", pl_direction_describe (s->dir));
  if (*mode == MODE_LITERAL && missing <= *literal)
    {
      /* Inside a literal its length keeps the line that follows in place. */
      *literal -= missing;
      if (*literal == 0)
        *mode = MODE_LINE;
      return;
    }
  *mode = MODE_LINE;
  if (client)
    clear_command (self);
  else
    clear_response (self);
  s->resync = TRUE;
}

const PlDissectorClass pl_imap_dissector_class = {
  .protocol = PL_PROTOCOL_IMAP,
  .instance_size = sizeof (PlImapDissector),
  .finalize = imap_finalize,
  .parse = imap_parse,
  .gap = imap_gap,
  .flush = imap_flush,
};
