/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlPop3Client: the client side of POP3 (RFC 1939), sans-I/O. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-pop3-client.h"

#include <string.h>

#include "pl-engine-private.h"
#include "pl-line-reader.h"
#include "pl-pop3-grammar.h"

/*
 * A status line is at most 512 octets (RFC 2449 section 4), but lines of a
 * message body have no such cap in practice (RFC 5322's 998 is often broken
 * by HTML mail), so the client frames lines up to 64 KiB and notes anything
 * cut off beyond that.
 */
#define CLIENT_LINE_LIMIT (64 * 1024)
/* One reply (a message, with its body) may not grow past this: memory stays bounded. */
#define CLIENT_REPLY_LIMIT (128 * 1024 * 1024)

struct _PlPop3Client
{
  PlEngine      parent_instance;
  PlEngineBase *base;             /* read on every line (pl-engine-private.h) */

  char         *user;
  char         *password;
  gboolean      delete_after_retrieve;
  GStrv         script;
  guint         script_pos;

  PlLineReader *reader;

  /* The reply being read. */
  GByteArray   *reply;
  gsize         first_line_len;   /* raw octets of its status line */
  gsize         last_line_len;    /* raw octets of the "." line, once seen */
  gsize         discarded;        /* octets dropped from over-long lines */
  PlPop3Status  status;
  gboolean      in_body;

  /* The command waiting for that reply. */
  char          pending_verb[PL_POP3_MAX_VERB_LEN + 1];  /* "" when it had none */
  gboolean      expect_multiline;

  GArray       *listed;           /* message numbers from LIST, of guint */
  guint         next_listed;      /* index into listed of the next to fetch */
  guint         current;          /* message number being fetched */
  GPtrArray    *messages;         /* of GBytes, un-dot-stuffed */
  char         *error;
  gboolean      failed;
};

G_DEFINE_FINAL_TYPE (PlPop3Client, pl_pop3_client, PL_TYPE_ENGINE)

static const char *
pl_pop3_client_state_name (PlEngine *engine,
                           guint     state)
{
  static const char *const names[] = {
    [PL_POP3_CLIENT_GREETING] = "GREETING",
    [PL_POP3_CLIENT_USER] = "USER",
    [PL_POP3_CLIENT_PASS] = "PASS",
    [PL_POP3_CLIENT_LIST] = "LIST",
    [PL_POP3_CLIENT_RETR] = "RETR",
    [PL_POP3_CLIENT_DELE] = "DELE",
    [PL_POP3_CLIENT_QUIT] = "QUIT",
    [PL_POP3_CLIENT_SCRIPT] = "SCRIPT",
    [PL_POP3_CLIENT_DONE] = "DONE",
  };

  return state < G_N_ELEMENTS (names) ? names[state] : "?";
}

static void
set_state (PlPop3Client      *self,
           PlPop3ClientState  state)
{
  pl_engine_base_set_state (self->base, state);
}

static PlPop3ClientState
get_state (PlPop3Client *self)
{
  return (PlPop3ClientState) pl_engine_base_get_state (self->base);
}

/*
 * Sends one command line (CRLF added) and emits its event, then waits for
 * the reply, whose shape (single or multi-line) the grammar gives.
 */
static void
send_command (PlPop3Client *self,
              const char   *text)
{
  gsize len = strlen (text);
  gsize verb_len;
  gsize args_start;
  gboolean parsed;
  g_autoptr(PlEvent) event = NULL;
  gsize mark = pl_engine_base_mark (self->base);

  /* Written where it goes, the output; the event reads it back from there. */
  pl_engine_base_write (self->base, (const guint8 *) text, len);
  pl_engine_base_write (self->base, (const guint8 *) "\r\n", 2);
  /* The arguments run to the end of @text: they are read where they are, the verb is copied. */
  self->pending_verb[0] = '\0';
  self->expect_multiline = FALSE;
  parsed = pl_pop3_split_command ((const guint8 *) text, len, &verb_len, &args_start);
  if (parsed)
    {
      for (gsize i = 0; i < verb_len; i++)
        self->pending_verb[i] = pl_engine_ascii_toupper (text[i]);
      self->pending_verb[verb_len] = '\0';
      self->expect_multiline = pl_pop3_reply_is_multiline (self->pending_verb, text + args_start);
    }
  if (pl_engine_base_wants_events (self->base))
    {
      gsize line_len;
      const guint8 *line = pl_engine_base_written_since (self->base, mark, &line_len);

      event = pl_event_new_unit (PL_EVENT_COMMAND, PL_DIR_CLIENT, line, line_len, NULL, NULL,
                                 parsed ? self->pending_verb : NULL, parsed ? text + args_start : NULL);
    }
  if (event == NULL)
    return;
  pl_engine_base_emit (self->base, event);
}

/* "USER bob": a verb and its argument. */
static void
send_words (PlPop3Client *self,
            const char   *verb,
            const char   *arg)
{
  g_autofree char *text = g_strconcat (verb, " ", arg, NULL);

  send_command (self, text);
}

/* "RETR 2": a verb and a message number. */
static void
send_numbered (PlPop3Client *self,
               const char   *verb,
               guint         number)
{
  char text[PL_ENGINE_SHORT_TEXT];
  char digits[PL_ENGINE_DECIMAL_SIZE];

  /* "RETR 2" */
  send_command (self, pl_engine_concat (text, verb, " ", pl_engine_decimal (digits, number), NULL));
}

static void
finish (PlPop3Client *self,
        gboolean      failed)
{
  self->failed = self->failed || failed;
  set_state (self, PL_POP3_CLIENT_DONE);
  pl_engine_finish (PL_ENGINE (self), self->failed);
}

/* The fetch plan ----------------------------------------------------------------- */

static void
send_quit (PlPop3Client *self)
{
  set_state (self, PL_POP3_CLIENT_QUIT);
  send_command (self, "QUIT");
}

/* RETR the next listed message, or QUIT when all are fetched. */
static void
fetch_next (PlPop3Client *self)
{
  if (self->next_listed >= self->listed->len)
    {
      send_quit (self);
      return;
    }
  self->current = g_array_index (self->listed, guint, self->next_listed);
  self->next_listed++;
  set_state (self, PL_POP3_CLIENT_RETR);
  send_numbered (self, "RETR", self->current);
}

/* The body of the reply just read: between its status line and its "." line. */
static void
get_body (PlPop3Client  *self,
          const guint8 **data,
          gsize         *len)
{
  *data = self->reply->data + self->first_line_len;
  *len = self->reply->len - self->first_line_len - self->last_line_len;
}

/* RFC 1939 section 5, LIST: "scan listing" lines, "msg-number size". */
static void
parse_listing (PlPop3Client *self)
{
  const guint8 *data;
  gsize len;
  gsize pos = 0;

  get_body (self, &data, &len);
  g_array_set_size (self->listed, 0);
  while (pos < len)
    {
      const guint8 *lf = memchr (data + pos, '\n', len - pos);
      gsize end = lf != NULL ? (gsize) (lf - data) + 1 : len;
      guint64 number = 0;
      gsize i = pos;

      while (i < end && g_ascii_isdigit (data[i]) && number <= G_MAXUINT)
        number = number * 10 + (guint64) (data[i++] - '0');
      if (i > pos && number > 0 && number <= G_MAXUINT && i < end && data[i] == ' ')
        {
          guint n = (guint) number;
          g_array_append_val (self->listed, n);
        }
      else
        pl_engine_emit_note (PL_ENGINE (self), "LIST line %" G_GSIZE_FORMAT
                             " octets long is not a scan listing; skipped", end - pos);
      pos = end;
    }
  self->next_listed = 0;
}

static void
keep_message (PlPop3Client *self)
{
  const guint8 *data;
  gsize len;

  get_body (self, &data, &len);
  g_ptr_array_add (self->messages, pl_pop3_dot_unstuff (data, len));
}

/* What the fetch plan does after each reply (curl's pop3_statemachine, in small). */
static void
advance_fetch (PlPop3Client *self,
               gboolean      ok)
{
  PlPop3ClientState state = get_state (self);

  if (state == PL_POP3_CLIENT_GREETING)
    {
      if (!ok)
        {
          finish (self, TRUE);
          return;
        }
      set_state (self, PL_POP3_CLIENT_USER);
      send_words (self, "USER", self->user);
      return;
    }
  if (state == PL_POP3_CLIENT_QUIT)
    {
      finish (self, !ok);
      return;
    }
  if (!ok)
    {
      /* RFC 1939 section 6: QUIT is still right; it commits only what was deleted. */
      self->failed = TRUE;
      send_quit (self);
      return;
    }

  switch (state)
    {
    case PL_POP3_CLIENT_USER:
      set_state (self, PL_POP3_CLIENT_PASS);
      send_words (self, "PASS", self->password);
      break;
    case PL_POP3_CLIENT_PASS:
      set_state (self, PL_POP3_CLIENT_LIST);
      send_command (self, "LIST");
      break;
    case PL_POP3_CLIENT_LIST:
      parse_listing (self);
      fetch_next (self);
      break;
    case PL_POP3_CLIENT_RETR:
      keep_message (self);
      if (self->delete_after_retrieve)
        {
          set_state (self, PL_POP3_CLIENT_DELE);
          send_numbered (self, "DELE", self->current);
        }
      else
        fetch_next (self);
      break;
    case PL_POP3_CLIENT_DELE:
      fetch_next (self);
      break;
    case PL_POP3_CLIENT_GREETING:
    case PL_POP3_CLIENT_QUIT:
    case PL_POP3_CLIENT_SCRIPT:
    case PL_POP3_CLIENT_DONE:
    default:
      g_assert_not_reached ();
    }
}

/* A script: the next line after each reply, whatever it said, and finish after the last. */
static void
advance_script (PlPop3Client *self,
                gboolean      ok)
{
  if (get_state (self) == PL_POP3_CLIENT_SCRIPT && ok
      && strcmp (self->pending_verb, "RETR") == 0)
    keep_message (self);

  if (self->script[self->script_pos] == NULL)
    {
      finish (self, FALSE);
      return;
    }
  set_state (self, PL_POP3_CLIENT_SCRIPT);
  send_command (self, self->script[self->script_pos++]);
}

/* Reading replies ------------------------------------------------------------------ */

static void
reset_reply (PlPop3Client *self)
{
  g_byte_array_set_size (self->reply, 0);
  self->first_line_len = 0;
  self->last_line_len = 0;
  self->discarded = 0;
  self->status = PL_POP3_STATUS_INVALID;
  self->in_body = FALSE;
}

/* Emits the reply read so far as one event, with a note for anything cut off. */
static void
emit_reply (PlPop3Client *self)
{
  const char *status = pl_pop3_status_to_string (self->status);

  if (pl_engine_base_wants_received_events (self->base))
    {
      PlEvent *event = self->in_body ? pl_event_new_body (PL_EVENT_REPLY, PL_DIR_SERVER, self->reply->data,
                                                          self->reply->len, status)
                                     : pl_event_new_unit (PL_EVENT_REPLY, PL_DIR_SERVER, self->reply->data,
                                                          self->reply->len, NULL, status, NULL, NULL);

      pl_engine_base_emit (self->base, event);
      pl_event_unref (event);
    }
  if (self->discarded > 0)
    pl_engine_emit_note (PL_ENGINE (self), "server line longer than %u octets: "
                         "%" G_GSIZE_FORMAT " octets discarded",
                         (guint) CLIENT_LINE_LIMIT, self->discarded);
}

static void
remember_error (PlPop3Client *self)
{
  g_free (self->error);
  self->error = g_strndup ((const char *) self->reply->data,
                           self->first_line_len);
  g_strchomp (self->error);
  /* The server's text is untrusted: keep it printable for whoever shows it. */
  for (char *p = self->error; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || (guchar) *p == 0x7f)
      *p = '?';
}

/* A whole reply has arrived: show it, then act on it. */
static void
reply_complete (PlPop3Client *self)
{
  gboolean ok = self->status == PL_POP3_STATUS_OK;

  emit_reply (self);
  if (self->discarded > 0 && ok && self->in_body)
    {
      /* A body with cut lines is not the message: do not keep it as if it were. */
      self->status = PL_POP3_STATUS_ERR;
      ok = FALSE;
      g_free (self->error);
      self->error = g_strdup_printf ("reply had lines longer than %u octets", (guint) CLIENT_LINE_LIMIT);
    }
  else if (!ok)
    {
      remember_error (self);
      if (self->status == PL_POP3_STATUS_INVALID)
        pl_engine_emit_note (PL_ENGINE (self), "reply does not start with +OK or -ERR");
    }

  if (self->script != NULL)
    advance_script (self, ok);
  else
    advance_fetch (self, ok);
  reset_reply (self);
}

static void
handle_line (PlPop3Client *self,
             const PlLine *line)
{
  if (self->reply->len + line->raw_len > CLIENT_REPLY_LIMIT)
    {
      g_free (self->error);
      self->error = g_strdup_printf ("reply larger than %u octets", (guint) CLIENT_REPLY_LIMIT);
      self->discarded += line->raw_len + line->discarded;
      pl_engine_emit_note (PL_ENGINE (self), "%s: giving up", self->error);
      emit_reply (self);
      reset_reply (self);
      finish (self, TRUE);
      return;
    }
  g_byte_array_append (self->reply, line->data, (guint) line->raw_len);
  self->discarded += line->discarded;

  if (self->first_line_len == 0)
    {
      self->first_line_len = line->raw_len;
      self->status = pl_pop3_parse_status (line->data, line->len);
      /* RFC 1939 section 3: only a positive reply carries a body. */
      if (self->status == PL_POP3_STATUS_OK && self->expect_multiline)
        {
          self->in_body = TRUE;
          return;
        }
      reply_complete (self);
      return;
    }

  if (line->len == 1 && line->data[0] == '.' && !(line->flags & PL_LINE_TOO_LONG))
    {
      self->last_line_len = line->raw_len;
      reply_complete (self);
    }
}

static void
pl_pop3_client_receive (PlEngine     *engine,
                        const guint8 *data,
                        gsize         len)
{
  PlPop3Client *self = PL_POP3_CLIENT (engine);
  PlLine line;

  /* Lines are read where they arrived; what is left is kept before @data goes away. */
  pl_line_reader_feed_borrowed (self->reader, data, len);
  while (!pl_engine_base_is_finished (self->base) && pl_line_reader_next (self->reader, &line))
    {
      handle_line (self, &line);
      /* The lines of a body get no answer until its "." line: they are read in one go. */
      while (self->in_body && pl_line_reader_next (self->reader, &line))
        handle_line (self, &line);
    }
  pl_line_reader_keep (self->reader);
}

/* The server went away: whatever was half read is still shown, and unless the plan was done, it failed. */
static void
pl_pop3_client_connection_lost (PlEngine *engine)
{
  PlPop3Client *self = PL_POP3_CLIENT (engine);
  gsize pending = pl_line_reader_get_buffered (self->reader);

  if (pl_engine_is_finished (engine))
    return;
  if (pending > 0)
    {
      gsize len;
      const guint8 *data = pl_line_reader_read_raw (self->reader, pending, &len);

      if (self->first_line_len == 0)
        self->status = pl_pop3_parse_status (data, len);
      g_byte_array_append (self->reply, data, (guint) len);
    }
  if (self->reply->len > 0)
    {
      emit_reply (self);
      pl_engine_emit_note (engine, "connection lost in the middle of a reply");
      reset_reply (self);
    }
  if (self->error == NULL)
    self->error = g_strdup ("connection closed before the session ended");
  finish (self, TRUE);
}

static void
pl_pop3_client_start (PlEngine *engine)
{
  /* POP3 is server-first (RFC 1939 section 4): wait for the greeting. */
}

static void
pl_pop3_client_finalize (GObject *object)
{
  PlPop3Client *self = PL_POP3_CLIENT (object);

  g_free (self->user);
  g_free (self->password);
  g_strfreev (self->script);
  pl_line_reader_free (self->reader);
  g_byte_array_unref (self->reply);
  g_array_unref (self->listed);
  g_ptr_array_unref (self->messages);
  g_free (self->error);
  G_OBJECT_CLASS (pl_pop3_client_parent_class)->finalize (object);
}

static void
pl_pop3_client_class_init (PlPop3ClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlEngineClass *engine_class = PL_ENGINE_CLASS (klass);

  object_class->finalize = pl_pop3_client_finalize;
  engine_class->start = pl_pop3_client_start;
  engine_class->receive = pl_pop3_client_receive;
  engine_class->connection_lost = pl_pop3_client_connection_lost;
  engine_class->state_name = pl_pop3_client_state_name;
}

static void
pl_pop3_client_init (PlPop3Client *self)
{
  self->base = pl_engine_get_base (PL_ENGINE (self));
  self->reader = pl_line_reader_new (CLIENT_LINE_LIMIT);
  self->reply = g_byte_array_new ();
  self->listed = g_array_new (FALSE, FALSE, sizeof (guint));
  self->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->status = PL_POP3_STATUS_INVALID;
}

/* Takes @config into an engine that is new or was just cleared (clear_session()). */
static void
configure (PlPop3Client             *self,
           const PlPop3ClientConfig *config)
{
  self->user = g_strdup (config->user);
  self->password = g_strdup (config->password);
  self->delete_after_retrieve = config->delete_after_retrieve;
  self->script = g_strdupv ((char **) config->script);
}

/* Everything of the session: the engine as pl_pop3_client_init() left it, its buffers kept. */
static void
clear_session (PlPop3Client *self)
{
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->password, g_free);
  self->delete_after_retrieve = FALSE;
  g_clear_pointer (&self->script, g_strfreev);
  self->script_pos = 0;
  pl_line_reader_reset (self->reader);
  reset_reply (self);
  self->pending_verb[0] = '\0';
  self->expect_multiline = FALSE;
  g_array_set_size (self->listed, 0);
  self->next_listed = 0;
  self->current = 0;
  g_ptr_array_set_size (self->messages, 0);
  g_clear_pointer (&self->error, g_free);
  self->failed = FALSE;
}

/*
 * pl_pop3_client_new:
 * The fetch plan of RFC 1939 sections 4-6 (USER, PASS, LIST, RETR [DELE]
 * each, QUIT), or the lines of @config->script. @config is copied; without
 * a script, user and password are required.
 */
PlEngine *
pl_pop3_client_new (const PlPop3ClientConfig *config)
{
  PlPop3Client *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->script != NULL
                        || (config->user != NULL && config->password != NULL), NULL);

  self = g_object_new (PL_TYPE_POP3_CLIENT, NULL);
  pl_engine_set_protocol (PL_ENGINE (self), PL_PROTOCOL_POP3);
  configure (self, config);
  return PL_ENGINE (self);
}

/*
 * pl_pop3_client_reset:
 * Makes @self what pl_pop3_client_new (@config) would return, keeping its
 * buffers: for a driver that runs one session after another (the
 * simulator). The session before is forgotten, its messages too; the event
 * and state functions are unset. FALSE (and @self left as it was) when
 * @config would not do for pl_pop3_client_new().
 */
gboolean
pl_pop3_client_reset (PlPop3Client             *self,
                      const PlPop3ClientConfig *config)
{
  g_return_val_if_fail (PL_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (config->script != NULL
                        || (config->user != NULL && config->password != NULL), FALSE);

  clear_session (self);
  pl_engine_base_reset (self->base);
  configure (self, config);
  return TRUE;
}

/* How many messages were retrieved (RETR answered +OK) so far. */
guint
pl_pop3_client_get_n_messages (PlPop3Client *self)
{
  g_return_val_if_fail (PL_IS_POP3_CLIENT (self), 0);
  return self->messages->len;
}

/*
 * pl_pop3_client_get_message:
 * The @index-th retrieved message (0-based), as RFC 1939 section 3 says to
 * read it: the body of the RETR reply with its dot-stuffing removed.
 * Borrowed (valid as long as the client), or NULL when out of range.
 */
GBytes *
pl_pop3_client_get_message (PlPop3Client *self,
                            guint         index)
{
  g_return_val_if_fail (PL_IS_POP3_CLIENT (self), NULL);
  if (index >= self->messages->len)
    return NULL;
  return g_ptr_array_index (self->messages, index);
}

/*
 * The status line of the last "-ERR" (or unreadable) reply, without its line
 * end ("-ERR [AUTH] invalid user name or password"), or why the session
 * broke off; NULL when all went well.
 */
const char *
pl_pop3_client_get_error (PlPop3Client *self)
{
  g_return_val_if_fail (PL_IS_POP3_CLIENT (self), NULL);
  return self->error;
}
