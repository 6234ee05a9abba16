/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSmtpClient: the client side of SMTP (RFC 5321, with PIPELINING, SIZE, 8BITMIME and AUTH), sans-I/O. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-smtp-client.h"

#include <stdarg.h>
#include <string.h>

#include "pl-engine-private.h"
#include "pl-line-reader.h"
#include "pl-smtp-grammar.h"

/*
 * Reply lines are at most 512 octets (RFC 5321 4.5.3.1.5), but servers in
 * the wild write longer texts; the client frames up to 4 KiB and notes
 * what is cut off. A whole reply (EHLO's list) may not grow past 64 KiB.
 */
#define CLIENT_LINE_LIMIT 4096
#define CLIENT_REPLY_LIMIT (64 * 1024)

/* What a reply in the queue answers: with PIPELINING several are outstanding at once. */
typedef enum {
  EXPECT_GREETING,
  EXPECT_EHLO,
  EXPECT_HELO,
  EXPECT_AUTH,
  EXPECT_MAIL,
  EXPECT_RCPT,
  EXPECT_DATA,
  EXPECT_MESSAGE,
  EXPECT_QUIT,
  EXPECT_SCRIPT,
} Expect;

typedef struct {
  Expect what;
  guint  index;   /* EXPECT_RCPT: which recipient */
} Pending;

typedef enum {
  AUTH_PLAIN_SENT,
  AUTH_LOGIN_SENT,       /* "AUTH LOGIN", waiting for "334 Username:" */
  AUTH_LOGIN_USER_SENT,  /* waiting for "334 Password:" */
  AUTH_LOGIN_PASS_SENT,  /* waiting for 235 */
  AUTH_CANCELLED,        /* "*" sent after a challenge we could not answer */
} AuthStep;

struct _PlSmtpClient
{
  PlEngine                parent_instance;
  PlEngineBase           *base;          /* read on every line (pl-engine-private.h) */

  char                   *helo_name;
  char                   *mail_from;
  char                   *auth_user;
  char                   *auth_password;
  gboolean                no_pipelining;
  GStrv                   script;
  guint                   script_pos;

  GByteArray             *wire;          /* the message stuffed, with its "." line */
  gsize                   message_size;  /* RFC 1870 size */
  gboolean                eight_bit;

  PlLineReader           *reader;
  GString                *text;          /* the command being put together */
  PlSmtpReplyAccumulator *reply;
  char                   *reply_shown;   /* the reply's display text, made when first needed */
  gsize                   reply_discarded;
  GArray                 *pending;       /* of Pending, oldest first from pending_head */
  guint                   pending_head;

  /* What EHLO offered. */
  GPtrArray              *extensions;    /* of char*, NULL-terminated */
  gboolean                has_pipelining;
  gboolean                has_size;
  guint64                 size_limit;    /* 0: none given */
  gboolean                has_8bitmime;
  gboolean                has_plain;
  gboolean                has_login;

  AuthStep                auth_step;
  gboolean                pipelined;     /* this transaction went out in one batch */
  gboolean                mail_failed;
  guint                   n_accepted;
  gboolean               *accepted;      /* per recipient: RCPT got 2xx */
  gboolean                empty_data;    /* "." sent alone: nobody was accepted (RFC 2920 3.1) */
  gboolean                sasl_next;     /* script: the reply was 334, the next line is a SASL response */
  gboolean                quit_sent;

  /* The outcome. */
  PlSmtpClientResult      result;
  GArray                 *recipients;    /* of PlSmtpRecipientResult, strings owned */
  char                   *result_reply;
  char                   *delivered_reply;  /* the 2xx after "." */
  guint                   delivered_code;
};

G_DEFINE_FINAL_TYPE (PlSmtpClient, pl_smtp_client, PL_TYPE_ENGINE)

static const char *
pl_smtp_client_state_name (PlEngine *engine,
                           guint     state)
{
  static const char *const names[] = {
    [PL_SMTP_CLIENT_GREETING] = "GREETING",
    [PL_SMTP_CLIENT_EHLO] = "EHLO",
    [PL_SMTP_CLIENT_HELO] = "HELO",
    [PL_SMTP_CLIENT_AUTH] = "AUTH",
    [PL_SMTP_CLIENT_MAIL] = "MAIL",
    [PL_SMTP_CLIENT_RCPT] = "RCPT",
    [PL_SMTP_CLIENT_DATA] = "DATA",
    [PL_SMTP_CLIENT_MESSAGE] = "MESSAGE",
    [PL_SMTP_CLIENT_QUIT] = "QUIT",
    [PL_SMTP_CLIENT_SCRIPT] = "SCRIPT",
    [PL_SMTP_CLIENT_DONE] = "DONE",
  };

  return state < G_N_ELEMENTS (names) ? names[state] : "?";
}

static void
set_state (PlSmtpClient      *self,
           PlSmtpClientState  state)
{
  pl_engine_base_set_state (self->base, state);
}

static PlSmtpRecipientResult *
recipient (PlSmtpClient *self,
           guint         index)
{
  return &g_array_index (self->recipients, PlSmtpRecipientResult, index);
}

static const char *reply_shown (PlSmtpClient *self);

/* Sending ------------------------------------------------------------------------------- */

static void
expect (PlSmtpClient *self,
        Expect        what,
        guint         index)
{
  Pending pending = { what, index };

  g_array_append_val (self->pending, pending);
}

/*
 * Sends one line (CRLF added) and emits its event. A SASL response is no
 * command and has no verb; it and AUTH's initial response are base64, shown
 * decoded next to the line (RFC 4954 section 4), which is the lesson.
 */
static void
send_line (PlSmtpClient *self,
           const char   *text,
           gboolean      sasl_response)
{
  gsize len = strlen (text);
  g_autoptr(PlEvent) event = NULL;
  char verb[PL_SMTP_MAX_VERB_LEN + 1];
  gsize verb_len;
  gsize args_start;
  gboolean parsed;
  gsize mark = pl_engine_base_mark (self->base);
  const guint8 *line;
  gsize line_len;

  /* Written where it goes, the output; the event reads it back from there. */
  pl_engine_base_write (self->base, (const guint8 *) text, len);
  pl_engine_base_write (self->base, (const guint8 *) "\r\n", 2);
  if (!pl_engine_base_wants_events (self->base))
    return;

  /* The arguments run to the end of @text: no copy needed to read them as a string. */
  parsed = !sasl_response && pl_smtp_split_command ((const guint8 *) text, len, &verb_len, &args_start);
  if (parsed)
    {
      memcpy (verb, text, verb_len);
      verb[verb_len] = '\0';
    }
  line = pl_engine_base_written_since (self->base, mark, &line_len);
  event = pl_event_new_unit (PL_EVENT_COMMAND, PL_DIR_CLIENT, line, line_len, NULL, NULL,
                             parsed ? verb : NULL, parsed ? text + args_start : NULL);

  if (sasl_response)
    pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, text));
  else if (parsed)
    {
      const char *args = text + args_start;

      if (g_ascii_strcasecmp (verb, "AUTH") == 0)
        {
          /* The second word, if any (as g_strsplit (args, " ", -1)[1] would be): the initial response. */
          const char *space = strchr (args, ' ');

          if (space != NULL)
            {
              const char *next = strchr (space + 1, ' ');
              g_autofree char *word = next != NULL ? g_strndup (space + 1, (gsize) (next - (space + 1))) : NULL;

              pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, word != NULL ? word : space + 1));
            }
        }
    }
  pl_engine_base_emit (self->base, event);
}

/* Sends the command @text and waits for its reply. */
static void
send_command (PlSmtpClient *self,
              Expect        what,
              guint         index,
              const char   *text)
{
  send_line (self, text, FALSE);
  expect (self, what, index);
}

static const char *command_text (PlSmtpClient *self,
                                 const char   *first,
                                 ...) G_GNUC_NULL_TERMINATED;

/*
 * The strings given, one after the other, in the client's buffer for the
 * command being put together: valid until the next call. Commands are
 * words and addresses, and a client sends one after every reply: no printf.
 */
static const char *
command_text (PlSmtpClient *self,
              const char   *first,
              ...)
{
  va_list args;

  g_string_truncate (self->text, 0);
  va_start (args, first);
  for (const char *part = first; part != NULL; part = va_arg (args, const char *))
    g_string_append (self->text, part);
  va_end (args);
  return self->text->str;
}

/* The message as one unit (RFC 5321 4.1.1.4): its lines, then ".". */
static void
send_data (PlSmtpClient *self,
           const guint8 *data,
           gsize         len)
{
  PlEvent *event;

  pl_engine_base_write (self->base, data, len);
  if (!pl_engine_base_wants_events (self->base))
    return;
  event = pl_event_new_body (PL_EVENT_DATA, PL_DIR_CLIENT, data, len, NULL);
  pl_engine_base_emit (self->base, event);
  pl_event_unref (event);
}

/* The outcome ----------------------------------------------------------------------------- */

static PlSmtpVerdict
verdict_for (guint code)
{
  if (code >= 200 && code < 300)
    return PL_SMTP_VERDICT_DELIVERED;
  if (code >= 500 && code < 600)
    return PL_SMTP_VERDICT_PERMANENT;
  /* 4xx, and anything the protocol does not allow here: not this message's fault, try later. */
  return PL_SMTP_VERDICT_TEMPORARY;
}

static void
decide (PlSmtpClient  *self,
        guint          index,
        PlSmtpVerdict  verdict,
        guint          code,
        const char    *reply)
{
  PlSmtpRecipientResult *r = recipient (self, index);

  if (r->verdict != PL_SMTP_VERDICT_NONE)
    return;
  r->verdict = verdict;
  r->code = code;
  r->reply = g_strdup (reply);
}

/* Every recipient not yet decided gets @verdict (a failure before or at DATA decides them all). */
static void
decide_all (PlSmtpClient  *self,
            PlSmtpVerdict  verdict,
            guint          code,
            const char    *reply)
{
  for (guint i = 0; i < self->recipients->len; i++)
    decide (self, i, verdict, code, reply);
}

static void
decide_all_by_reply (PlSmtpClient *self,
                     guint         code,
                     const char   *reply)
{
  decide_all (self, verdict_for (code) == PL_SMTP_VERDICT_DELIVERED ? PL_SMTP_VERDICT_TEMPORARY
                                                                    : verdict_for (code),
              code, reply);
}

/* Sums the recipients up (see PlSmtpClientResult). */
static void
conclude (PlSmtpClient *self)
{
  const PlSmtpRecipientResult *first_temporary = NULL;
  const PlSmtpRecipientResult *first_permanent = NULL;

  if (self->script != NULL)
    return;
  decide_all (self, PL_SMTP_VERDICT_TEMPORARY, 0, "connection closed before the server answered");
  for (guint i = 0; i < self->recipients->len; i++)
    {
      const PlSmtpRecipientResult *r = recipient (self, i);

      if (r->verdict == PL_SMTP_VERDICT_TEMPORARY && first_temporary == NULL)
        first_temporary = r;
      if (r->verdict == PL_SMTP_VERDICT_PERMANENT && first_permanent == NULL)
        first_permanent = r;
    }
  g_clear_pointer (&self->result_reply, g_free);
  if (first_temporary == NULL && first_permanent == NULL)
    {
      self->result.verdict = PL_SMTP_VERDICT_DELIVERED;
      self->result.code = self->delivered_code;
      self->result_reply = g_strdup (self->delivered_reply);
    }
  else
    {
      const PlSmtpRecipientResult *r = first_temporary != NULL ? first_temporary : first_permanent;

      self->result.verdict = r->verdict;
      self->result.code = r->code;
      self->result_reply = g_strdup (r->reply);
    }
  self->result.reply = self->result_reply;
}

/*
 * The plan fails unless every recipient got the message; a script, which
 * goes on whatever the replies say, fails only when the connection drops
 * before its end.
 */
static void
finish (PlSmtpClient *self,
        gboolean      lost)
{
  conclude (self);
  set_state (self, PL_SMTP_CLIENT_DONE);
  pl_engine_finish (PL_ENGINE (self), self->script != NULL
                    ? lost : self->result.verdict != PL_SMTP_VERDICT_DELIVERED);
}

static void
send_quit (PlSmtpClient *self)
{
  set_state (self, PL_SMTP_CLIENT_QUIT);
  self->quit_sent = TRUE;
  send_command (self, EXPECT_QUIT, 0, "QUIT");
}

/* The plan ---------------------------------------------------------------------------------- */

/* TRUE when the @len octets at @word are @keyword, in any case (RFC 5321 2.4). */
static gboolean
keyword_is (const char *word,
            gsize       len,
            const char *keyword)
{
  return len == strlen (keyword) && g_ascii_strncasecmp (word, keyword, len) == 0;
}

/* RFC 5321 4.1.1.1: each line after the first of a 250 to EHLO is "keyword [params]". */
static void
read_extensions (PlSmtpClient *self)
{
  guint n = pl_smtp_reply_accumulator_get_n_lines (self->reply);

  g_ptr_array_set_size (self->extensions, 0);
  for (guint i = 1; i < n; i++)
    {
      const char *line = pl_smtp_reply_accumulator_get_line (self->reply, i);
      const char *space = strchr (line, ' ');
      gsize keyword_len = space != NULL ? (gsize) (space - line) : strlen (line);

      g_ptr_array_add (self->extensions, g_strdup (line));
      if (keyword_is (line, keyword_len, "PIPELINING"))
        self->has_pipelining = TRUE;
      else if (keyword_is (line, keyword_len, "8BITMIME"))
        self->has_8bitmime = TRUE;
      else if (keyword_is (line, keyword_len, "SIZE"))
        {
          /* RFC 1870 section 4: "SIZE" [SP number]; 0 or none means no fixed limit. */
          self->has_size = TRUE;
          if (space != NULL)
            {
              g_autofree char *number = g_strndup (space + 1, strcspn (space + 1, " "));

              self->size_limit = g_ascii_strtoull (number, NULL, 10);
            }
        }
      else if (keyword_is (line, keyword_len, "AUTH"))
        {
          g_auto(GStrv) words = g_strsplit (line, " ", -1);

          for (guint w = 1; words[w] != NULL; w++)
            {
              if (g_ascii_strcasecmp (words[w], "PLAIN") == 0)
                self->has_plain = TRUE;
              else if (g_ascii_strcasecmp (words[w], "LOGIN") == 0)
                self->has_login = TRUE;
            }
        }
    }
}

static void
send_rcpt (PlSmtpClient *self,
           guint         index)
{
  send_command (self, EXPECT_RCPT, index, command_text (self, "RCPT TO:<", recipient (self, index)->address, ">", NULL));
}

/* RFC 5321 4.1.1.2, with RFC 1870's SIZE= and RFC 6152's BODY=. */
static void
start_mail (PlSmtpClient *self)
{
  char size[PL_ENGINE_DECIMAL_SIZE];

  if (self->has_size && self->size_limit > 0 && self->message_size > self->size_limit)
    {
      /* RFC 1870 section 6.1: do not send it; it is a permanent failure. */
      g_autofree char *why = g_strdup_printf ("message of %" G_GSIZE_FORMAT " octets is over the server's "
                                              "limit of %" G_GUINT64_FORMAT " (SIZE)",
                                              self->message_size, self->size_limit);
      pl_engine_emit_note (PL_ENGINE (self), "%s: not sent", why);
      decide_all (self, PL_SMTP_VERDICT_PERMANENT, 0, why);
      send_quit (self);
      return;
    }

  set_state (self, PL_SMTP_CLIENT_MAIL);
  send_command (self, EXPECT_MAIL, 0,
                command_text (self, "MAIL FROM:<", self->mail_from, ">",
                              self->has_size ? " SIZE=" : "",
                              self->has_size ? pl_engine_decimal (size, self->message_size) : "",
                              self->eight_bit && self->has_8bitmime ? " BODY=8BITMIME" : "", NULL));

  self->pipelined = self->has_pipelining && !self->no_pipelining;
  if (self->pipelined)
    {
      /* RFC 2920 3.1: MAIL, every RCPT and DATA in one batch; DATA ends it. */
      for (guint i = 0; i < self->recipients->len; i++)
        send_rcpt (self, i);
      send_command (self, EXPECT_DATA, 0, "DATA");
    }
}

/* RFC 4954 section 4; PLAIN sends everything at once (RFC 4616), LOGIN answers two challenges. */
static void
start_auth (PlSmtpClient *self)
{
  set_state (self, PL_SMTP_CLIENT_AUTH);
  if (self->has_plain)
    {
      g_autoptr(GByteArray) plain = g_byte_array_new ();
      g_autofree char *b64 = NULL;

      g_byte_array_append (plain, (const guint8 *) "", 1);
      g_byte_array_append (plain, (const guint8 *) self->auth_user, (guint) strlen (self->auth_user));
      g_byte_array_append (plain, (const guint8 *) "", 1);
      g_byte_array_append (plain, (const guint8 *) self->auth_password, (guint) strlen (self->auth_password));
      b64 = g_base64_encode (plain->data, plain->len);
      self->auth_step = AUTH_PLAIN_SENT;
      send_line (self, command_text (self, "AUTH PLAIN ", b64, NULL), FALSE);
      expect (self, EXPECT_AUTH, 0);
      return;
    }
  if (self->has_login)
    {
      self->auth_step = AUTH_LOGIN_SENT;
      send_command (self, EXPECT_AUTH, 0, "AUTH LOGIN");
      return;
    }
  pl_engine_emit_note (PL_ENGINE (self), "the server offers no AUTH mechanism this client speaks");
  decide_all (self, PL_SMTP_VERDICT_PERMANENT, 0, "the server does not offer AUTH PLAIN or LOGIN");
  send_quit (self);
}

static void
after_hello (PlSmtpClient *self)
{
  if (self->auth_user != NULL)
    start_auth (self);
  else
    start_mail (self);
}

static void
send_b64_line (PlSmtpClient *self,
               const char   *text)
{
  g_autofree char *b64 = g_base64_encode ((const guint8 *) text, strlen (text));

  send_line (self, b64, TRUE);
  expect (self, EXPECT_AUTH, 0);
}

static void
on_auth_reply (PlSmtpClient *self,
               guint         code)
{
  if (self->auth_step == AUTH_CANCELLED)
    {
      decide_all (self, PL_SMTP_VERDICT_PERMANENT, 0, "authentication failed: the server asked for "
                  "more than the mechanism gives");
      send_quit (self);
      return;
    }
  if (code == 235)
    {
      start_mail (self);
      return;
    }
  if (code == 334 && self->auth_step == AUTH_LOGIN_SENT)
    {
      self->auth_step = AUTH_LOGIN_USER_SENT;
      send_b64_line (self, self->auth_user);
      return;
    }
  if (code == 334 && self->auth_step == AUTH_LOGIN_USER_SENT)
    {
      self->auth_step = AUTH_LOGIN_PASS_SENT;
      send_b64_line (self, self->auth_password);
      return;
    }
  if (code == 334)
    {
      /* RFC 4954 section 4: "*" cancels an exchange we cannot go on with. */
      self->auth_step = AUTH_CANCELLED;
      send_line (self, "*", TRUE);
      expect (self, EXPECT_AUTH, 0);
      return;
    }
  decide_all_by_reply (self, code, reply_shown (self));
  send_quit (self);
}

/* After the last RCPT reply without pipelining: DATA if anyone was accepted. */
static void
after_recipients (PlSmtpClient *self)
{
  if (self->n_accepted == 0)
    {
      send_quit (self);
      return;
    }
  set_state (self, PL_SMTP_CLIENT_DATA);
  send_command (self, EXPECT_DATA, 0, "DATA");
}

static void
on_rcpt_reply (PlSmtpClient *self,
               guint         index,
               guint         code)
{
  if (!self->mail_failed)
    {
      if (code >= 200 && code < 300)
        {
          self->accepted[index] = TRUE;
          self->n_accepted++;
        }
      else
        decide (self, index, verdict_for (code), code, reply_shown (self));
    }
  if (self->pipelined)
    {
      if (index + 1 == self->recipients->len)
        set_state (self, PL_SMTP_CLIENT_DATA);
      return;
    }
  if (index + 1 < self->recipients->len)
    send_rcpt (self, index + 1);
  else
    after_recipients (self);
}

static void
on_data_reply (PlSmtpClient *self,
               guint         code)
{
  if (code != 354)
    {
      decide_all_by_reply (self, code, reply_shown (self));
      send_quit (self);
      return;
    }
  set_state (self, PL_SMTP_CLIENT_MESSAGE);
  if (self->n_accepted == 0 || self->mail_failed)
    {
      /* RFC 2920 3.1: DATA accepted with no recipient: end the data at once, send nothing. */
      self->empty_data = TRUE;
      send_data (self, (const guint8 *) ".\r\n", 3);
    }
  else
    send_data (self, self->wire->data, self->wire->len);
  expect (self, EXPECT_MESSAGE, 0);
}

/* RFC 5321 4.1.1.4 and 6.1: a 2xx after "." is the server taking the responsibility for delivery. */
static void
on_message_reply (PlSmtpClient *self,
                  guint         code)
{
  if (!self->empty_data)
    {
      PlSmtpVerdict verdict = verdict_for (code);

      if (verdict == PL_SMTP_VERDICT_DELIVERED)
        {
          self->delivered_code = code;
          g_free (self->delivered_reply);
          self->delivered_reply = g_strdup (reply_shown (self));
        }
      for (guint i = 0; i < self->recipients->len; i++)
        if (self->accepted[i])
          decide (self, i, verdict, code, reply_shown (self));
    }
  send_quit (self);
}

/* What the plan does with each reply, in the order the commands went (curl's smtp_statemachine, in small). */
static void
advance_plan (PlSmtpClient *self,
              const Pending *pending,
              guint         code)
{
  switch (pending->what)
    {
    case EXPECT_GREETING:
      if (code != 220)
        {
          decide_all_by_reply (self, code, reply_shown (self));
          send_quit (self);
          return;
        }
      set_state (self, PL_SMTP_CLIENT_EHLO);
      send_command (self, EXPECT_EHLO, 0, command_text (self, "EHLO ", self->helo_name, NULL));
      break;
    case EXPECT_EHLO:
      if (code >= 200 && code < 300)
        {
          read_extensions (self);
          after_hello (self);
        }
      else if (code >= 500 && code < 600)
        {
          /* RFC 5321 4.1.4 and 3.2: a server that does not know EHLO still knows HELO. */
          set_state (self, PL_SMTP_CLIENT_HELO);
          send_command (self, EXPECT_HELO, 0, command_text (self, "HELO ", self->helo_name, NULL));
        }
      else
        {
          decide_all_by_reply (self, code, reply_shown (self));
          send_quit (self);
        }
      break;
    case EXPECT_HELO:
      if (code >= 200 && code < 300)
        after_hello (self);
      else
        {
          decide_all_by_reply (self, code, reply_shown (self));
          send_quit (self);
        }
      break;
    case EXPECT_AUTH:
      on_auth_reply (self, code);
      break;
    case EXPECT_MAIL:
      if (code >= 200 && code < 300)
        {
          set_state (self, PL_SMTP_CLIENT_RCPT);
          if (!self->pipelined)
            send_rcpt (self, 0);
          return;
        }
      self->mail_failed = TRUE;
      decide_all_by_reply (self, code, reply_shown (self));
      /* With pipelining the RCPT and DATA replies are still to come: read them first. */
      if (!self->pipelined)
        send_quit (self);
      break;
    case EXPECT_RCPT:
      on_rcpt_reply (self, pending->index, code);
      break;
    case EXPECT_DATA:
      on_data_reply (self, code);
      break;
    case EXPECT_MESSAGE:
      on_message_reply (self, code);
      break;
    case EXPECT_QUIT:
      finish (self, FALSE);
      break;
    case EXPECT_SCRIPT:
    default:
      g_assert_not_reached ();
    }
}

/* The script --------------------------------------------------------------------------------- */

static gboolean
is_data_line (const char *line)
{
  g_autofree char *stripped = g_strstrip (g_strdup (line));

  return g_ascii_strcasecmp (stripped, "DATA") == 0;
}

/* The lines after DATA up to and including ".", sent as one unit; how many there were. */
static guint
send_script_message (PlSmtpClient *self,
                     gboolean      send)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint n = 0;

  while (self->script[self->script_pos] != NULL)
    {
      const char *line = self->script[self->script_pos++];

      n++;
      g_byte_array_append (data, (const guint8 *) line, (guint) strlen (line));
      g_byte_array_append (data, (const guint8 *) "\r\n", 2);
      if (strcmp (line, ".") == 0)
        break;
    }
  if (send && data->len > 0)
    {
      send_data (self, data->data, data->len);
      expect (self, EXPECT_SCRIPT, 1);
    }
  return n;
}

/*
 * A script: the next line after each reply, whatever it said, and finish
 * after the last. A reply to a message's "." sets the verdict.
 */
static void
advance_script (PlSmtpClient  *self,
                const Pending *pending,
                guint          code)
{
  const char *line;

  if (pending->index == 1)
    {
      self->result.verdict = verdict_for (code);
      self->result.code = code;
      g_free (self->result_reply);
      self->result_reply = g_strdup (reply_shown (self));
      self->result.reply = self->result_reply;
    }
  else if (pending->index == 2)
    {
      /* DATA was just answered. */
      gboolean accepted = code == 354;
      guint n = send_script_message (self, accepted);

      if (accepted && n > 0)
        return;
      if (n > 0)
        pl_engine_emit_note (PL_ENGINE (self), "DATA refused: the %u message line%s of the script "
                             "not sent", n, n == 1 ? "" : "s");
    }

  self->sasl_next = code == 334;
  line = self->script[self->script_pos];
  if (line == NULL)
    {
      finish (self, FALSE);
      return;
    }
  self->script_pos++;
  set_state (self, PL_SMTP_CLIENT_SCRIPT);
  send_line (self, line, self->sasl_next);
  expect (self, EXPECT_SCRIPT, is_data_line (line) ? 2 : 0);
}

/* Reading replies ------------------------------------------------------------------------------ */

/*
 * The display text of the reply just read, as its event shows it (a 334
 * challenge decoded, RFC 4954 section 4). Made once, when first needed:
 * most replies are acted on by their code alone.
 */
static const char *
reply_shown (PlSmtpClient *self)
{
  if (self->reply_shown == NULL)
    {
      gsize len;
      const guint8 *data = pl_smtp_reply_accumulator_get_octets (self->reply, &len);
      char *text = pl_display_text_from_octets (data, len, FALSE);

      if (!pl_smtp_reply_accumulator_is_malformed (self->reply)
          && pl_smtp_reply_accumulator_get_code (self->reply) == 334)
        {
          char *annotated = pl_smtp_annotate_base64 (text, pl_smtp_reply_accumulator_get_line (self->reply, 0));

          g_free (text);
          text = annotated;
        }
      self->reply_shown = text;
    }
  return self->reply_shown;
}

static void
emit_reply (PlSmtpClient *self)
{
  PlEngine *engine = PL_ENGINE (self);

  if (pl_engine_base_wants_received_events (self->base))
    {
      gsize len;
      const guint8 *data = pl_smtp_reply_accumulator_get_octets (self->reply, &len);
      guint code = pl_smtp_reply_accumulator_get_code (self->reply);
      char status[4] = { (char) ('0' + code / 100 % 10), (char) ('0' + code / 10 % 10),
                         (char) ('0' + code % 10), '\0' };
      PlEvent *event = pl_event_new_unit (PL_EVENT_REPLY, PL_DIR_SERVER, data, len, g_strdup (reply_shown (self)),
                                          pl_smtp_reply_accumulator_is_malformed (self->reply) ? NULL : status,
                                          NULL, NULL);

      pl_engine_base_emit (self->base, event);
      pl_event_unref (event);
    }
  if (self->reply_discarded > 0)
    pl_engine_emit_note (engine, "server line longer than %u octets: "
                         "%" G_GSIZE_FORMAT " octets discarded",
                         (guint) CLIENT_LINE_LIMIT, self->reply_discarded);
  if (pl_smtp_reply_accumulator_is_malformed (self->reply))
    pl_engine_emit_note (engine, "reply does not start with a three-digit code (RFC 5321 4.2)");
}

/* A whole reply has arrived: show it, then act on it. */
static void
act_on_reply (PlSmtpClient *self)
{
  Pending what_for;
  const Pending *pending = &what_for;
  guint code = pl_smtp_reply_accumulator_get_code (self->reply);

  emit_reply (self);
  self->reply_discarded = 0;

  if (self->pending_head == self->pending->len)
    {
      pl_engine_emit_note (PL_ENGINE (self), "reply to no command: ignored");
      return;
    }
  what_for = g_array_index (self->pending, Pending, self->pending_head++);
  if (self->pending_head == self->pending->len)
    {
      g_array_set_size (self->pending, 0);
      self->pending_head = 0;
    }
  /* RFC 5321 3.8: 421 means the server is closing; nothing else will be answered. */
  if (code == 421 && pending->what != EXPECT_QUIT && self->script == NULL)
    {
      decide_all (self, PL_SMTP_VERDICT_TEMPORARY, code, reply_shown (self));
      finish (self, FALSE);
      return;
    }
  if (self->script != NULL)
    advance_script (self, pending, code);
  else
    advance_plan (self, pending, code);
}

static void
reply_complete (PlSmtpClient *self)
{
  act_on_reply (self);
  /* From here the accumulator holds only a reply still coming in (EHLO's lines were read above). */
  g_clear_pointer (&self->reply_shown, g_free);
  pl_smtp_reply_accumulator_reset (self->reply);
}

static void
handle_line (PlSmtpClient *self,
             const PlLine *line)
{
  gsize held;

  pl_smtp_reply_accumulator_get_octets (self->reply, &held);
  if (held + line->raw_len > CLIENT_REPLY_LIMIT)
    {
      g_autofree char *why = g_strdup_printf ("reply larger than %u octets", (guint) CLIENT_REPLY_LIMIT);

      pl_engine_emit_note (PL_ENGINE (self), "%s: giving up", why);
      if (held > 0 && pl_engine_wants_received_events (PL_ENGINE (self)))
        {
          g_autoptr(PlEvent) event = NULL;
          const guint8 *data = pl_smtp_reply_accumulator_get_octets (self->reply, &held);

          event = pl_event_new (PL_EVENT_REPLY, PL_DIR_SERVER, data, held);
          pl_engine_emit (PL_ENGINE (self), event);
        }
      decide_all (self, PL_SMTP_VERDICT_TEMPORARY, 0, why);
      finish (self, TRUE);
      return;
    }
  self->reply_discarded += line->discarded;
  if (pl_smtp_reply_accumulator_add_line (self->reply, line->data, line->raw_len, line->len))
    reply_complete (self);
}

static void
pl_smtp_client_receive (PlEngine     *engine,
                        const guint8 *data,
                        gsize         len)
{
  PlSmtpClient *self = PL_SMTP_CLIENT (engine);
  PlLine line;

  /* Lines are read where they arrived; what is left is kept before @data goes away. */
  pl_line_reader_feed_borrowed (self->reader, data, len);
  while (!pl_engine_base_is_finished (self->base) && pl_line_reader_next (self->reader, &line))
    handle_line (self, &line);
  pl_line_reader_keep (self->reader);
}

/*
 * The server went away. Whatever was half read is still shown. A message
 * whose "." got its 2xx is delivered, QUIT or not; one whose "." was never
 * answered was not (RFC 5321 6.1), so it is tried again later, which may
 * deliver it twice: 6.1 accepts that rather than losing it.
 */
static void
pl_smtp_client_connection_lost (PlEngine *engine)
{
  PlSmtpClient *self = PL_SMTP_CLIENT (engine);
  gsize pending = pl_line_reader_get_buffered (self->reader);
  gsize held;

  if (pl_engine_is_finished (engine))
    return;
  if (pending > 0)
    {
      gsize len;
      const guint8 *data = pl_line_reader_read_raw (self->reader, pending, &len);

      pl_smtp_reply_accumulator_add_line (self->reply, data, len, len);
    }
  pl_smtp_reply_accumulator_get_octets (self->reply, &held);
  if (held > 0)
    {
      /* Shown as what it was, never acted on: a reply cut short is no answer. */
      if (pl_engine_wants_received_events (engine))
        {
          g_autoptr(PlEvent) event = NULL;
          const guint8 *data = pl_smtp_reply_accumulator_get_octets (self->reply, &held);

          event = pl_event_new (PL_EVENT_REPLY, PL_DIR_SERVER, data, held);
          pl_engine_emit (engine, event);
        }
      pl_engine_emit_note (engine, "connection lost in the middle of a reply");
    }
  if (!self->quit_sent)
    pl_engine_emit_note (engine, "connection closed before the session ended");
  finish (self, TRUE);
}

static void
pl_smtp_client_start (PlEngine *engine)
{
  /* SMTP is server-first (RFC 5321 3.1): wait for the greeting. */
}

static void
pl_smtp_client_finalize (GObject *object)
{
  PlSmtpClient *self = PL_SMTP_CLIENT (object);

  g_free (self->helo_name);
  g_free (self->mail_from);
  g_free (self->auth_user);
  g_free (self->auth_password);
  g_strfreev (self->script);
  g_byte_array_unref (self->wire);
  pl_line_reader_free (self->reader);
  g_string_free (self->text, TRUE);
  pl_smtp_reply_accumulator_free (self->reply);
  g_free (self->reply_shown);
  g_array_unref (self->pending);
  g_ptr_array_unref (self->extensions);
  g_free (self->accepted);
  for (guint i = 0; i < self->recipients->len; i++)
    {
      PlSmtpRecipientResult *r = recipient (self, i);
      g_free ((char *) r->address);
      g_free ((char *) r->reply);
    }
  g_array_unref (self->recipients);
  g_free (self->result_reply);
  g_free (self->delivered_reply);
  G_OBJECT_CLASS (pl_smtp_client_parent_class)->finalize (object);
}

static void
pl_smtp_client_class_init (PlSmtpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlEngineClass *engine_class = PL_ENGINE_CLASS (klass);

  object_class->finalize = pl_smtp_client_finalize;
  engine_class->start = pl_smtp_client_start;
  engine_class->receive = pl_smtp_client_receive;
  engine_class->connection_lost = pl_smtp_client_connection_lost;
  engine_class->state_name = pl_smtp_client_state_name;
}

static void
pl_smtp_client_init (PlSmtpClient *self)
{
  self->base = pl_engine_get_base (PL_ENGINE (self));
  self->reader = pl_line_reader_new (CLIENT_LINE_LIMIT);
  self->text = g_string_new (NULL);
  self->reply = pl_smtp_reply_accumulator_new ();
  self->pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  self->extensions = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  self->recipients = g_array_new (FALSE, TRUE, sizeof (PlSmtpRecipientResult));
  self->wire = g_byte_array_new ();
}

/*
 * What goes into a command line must not end it early: a CR or LF in an
 * address would let whoever typed it add commands of their own.
 */
static gboolean
fits_in_line (const char *text)
{
  if (text == NULL)
    return TRUE;
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || (guchar) *p == 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
all_fit_in_line (const char *const *texts)
{
  for (guint i = 0; texts != NULL && texts[i] != NULL; i++)
    if (!fits_in_line (texts[i]))
      return FALSE;
  return TRUE;
}

/* The config a session needs (see pl_smtp_client_new()). */
static gboolean
config_is_valid (const PlSmtpClientConfig *config)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (config->script != NULL
                        || (config->helo_name != NULL && config->mail_from != NULL
                            && config->recipients != NULL && config->recipients[0] != NULL
                            && config->message != NULL), FALSE);
  g_return_val_if_fail ((config->auth_user == NULL) == (config->auth_password == NULL), FALSE);
  g_return_val_if_fail (fits_in_line (config->helo_name) && fits_in_line (config->mail_from), FALSE);
  g_return_val_if_fail (all_fit_in_line (config->recipients) && all_fit_in_line (config->script), FALSE);
  return TRUE;
}

/* Takes @config into an engine that is new or was just cleared (clear_session()). */
static void
configure (PlSmtpClient             *self,
           const PlSmtpClientConfig *config)
{
  gsize len = 0;
  const guint8 *data = NULL;

  self->helo_name = g_strdup (config->helo_name);
  self->mail_from = g_strdup (config->mail_from);
  self->auth_user = g_strdup (config->auth_user);
  self->auth_password = g_strdup (config->auth_password);
  self->no_pipelining = config->no_pipelining;
  self->script = g_strdupv ((char **) config->script);
  if (config->message != NULL)
    data = g_bytes_get_data (config->message, &len);
  pl_smtp_dot_stuff (self->wire, data, len);
  g_byte_array_append (self->wire, (const guint8 *) ".\r\n", 3);
  self->message_size = pl_smtp_message_size (data, len);
  {
    guint64 any = 0;
    gsize i = 0;

    /* RFC 6152: any octet over 127 makes it 8-bit; eight octets a turn (the message is read once per hop). */
    for (; i + 8 <= len; i += 8)
      {
        guint64 word;

        memcpy (&word, data + i, 8);
        any |= word;
      }
    for (; i < len; i++)
      any |= data[i];
    self->eight_bit = (any & G_GUINT64_CONSTANT (0x8080808080808080)) != 0;
  }

  if (self->script == NULL)
    for (guint i = 0; config->recipients[i] != NULL; i++)
      {
        PlSmtpRecipientResult r = { g_strdup (config->recipients[i]), PL_SMTP_VERDICT_NONE, 0, NULL };
        g_array_append_val (self->recipients, r);
      }
  self->accepted = g_new0 (gboolean, MAX (self->recipients->len, 1));
  self->result.n_recipients = self->recipients->len;
  self->result.recipients = (const PlSmtpRecipientResult *) self->recipients->data;

  expect (self, self->script != NULL ? EXPECT_SCRIPT : EXPECT_GREETING, 0);
}

/*
 * Everything of the session: the engine as pl_smtp_client_init() left it,
 * its buffers and arrays emptied but kept (finalize frees them).
 */
static void
clear_session (PlSmtpClient *self)
{
  g_clear_pointer (&self->helo_name, g_free);
  g_clear_pointer (&self->mail_from, g_free);
  g_clear_pointer (&self->auth_user, g_free);
  g_clear_pointer (&self->auth_password, g_free);
  self->no_pipelining = FALSE;
  g_clear_pointer (&self->script, g_strfreev);
  self->script_pos = 0;
  g_byte_array_set_size (self->wire, 0);
  self->message_size = 0;
  self->eight_bit = FALSE;
  pl_line_reader_reset (self->reader);
  g_string_truncate (self->text, 0);
  pl_smtp_reply_accumulator_reset (self->reply);
  g_clear_pointer (&self->reply_shown, g_free);
  self->reply_discarded = 0;
  g_array_set_size (self->pending, 0);
  self->pending_head = 0;
  g_ptr_array_set_size (self->extensions, 0);
  self->has_pipelining = FALSE;
  self->has_size = FALSE;
  self->size_limit = 0;
  self->has_8bitmime = FALSE;
  self->has_plain = FALSE;
  self->has_login = FALSE;
  self->auth_step = AUTH_PLAIN_SENT;
  self->pipelined = FALSE;
  self->mail_failed = FALSE;
  self->n_accepted = 0;
  g_clear_pointer (&self->accepted, g_free);
  self->empty_data = FALSE;
  self->sasl_next = FALSE;
  self->quit_sent = FALSE;
  memset (&self->result, 0, sizeof self->result);
  for (guint i = 0; i < self->recipients->len; i++)
    {
      PlSmtpRecipientResult *r = recipient (self, i);
      g_free ((char *) r->address);
      g_free ((char *) r->reply);
    }
  g_array_set_size (self->recipients, 0);
  g_clear_pointer (&self->result_reply, g_free);
  g_clear_pointer (&self->delivered_reply, g_free);
  self->delivered_code = 0;
}

/*
 * pl_smtp_client_new:
 * The transaction of RFC 5321 3.3 for one message, or the lines of
 * @config->script. Without a script, helo_name, mail_from, at least one
 * recipient and the message are required. Nothing that becomes part of a
 * command line (names, addresses, script lines) may hold a control
 * character.
 */
PlEngine *
pl_smtp_client_new (const PlSmtpClientConfig *config)
{
  PlSmtpClient *self;

  if (!config_is_valid (config))
    return NULL;

  self = g_object_new (PL_TYPE_SMTP_CLIENT, NULL);
  pl_engine_set_protocol (PL_ENGINE (self), PL_PROTOCOL_SMTP);
  configure (self, config);
  return PL_ENGINE (self);
}

/*
 * pl_smtp_client_reset:
 * Makes @self what pl_smtp_client_new (@config) would return, keeping its
 * buffers: for a driver that runs one session after another (the
 * simulator). Everything of the session before is forgotten, its result
 * too; the event and state functions are unset. FALSE (and @self left as
 * it was) when @config would not do for pl_smtp_client_new().
 */
gboolean
pl_smtp_client_reset (PlSmtpClient             *self,
                      const PlSmtpClientConfig *config)
{
  g_return_val_if_fail (PL_IS_SMTP_CLIENT (self), FALSE);
  if (!config_is_valid (config))
    return FALSE;

  clear_session (self);
  pl_engine_base_reset (self->base);
  configure (self, config);
  return TRUE;
}

const PlSmtpClientResult *
pl_smtp_client_get_result (PlSmtpClient *self)
{
  g_return_val_if_fail (PL_IS_SMTP_CLIENT (self), NULL);
  return &self->result;
}

const char *const *
pl_smtp_client_get_extensions (PlSmtpClient *self)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (PL_IS_SMTP_CLIENT (self), NULL);
  return self->extensions->pdata != NULL ? (const char *const *) self->extensions->pdata : none;
}

const char *
pl_smtp_verdict_to_string (PlSmtpVerdict verdict)
{
  switch (verdict)
    {
    case PL_SMTP_VERDICT_DELIVERED:
      return "delivered";
    case PL_SMTP_VERDICT_TEMPORARY:
      return "temporary failure";
    case PL_SMTP_VERDICT_PERMANENT:
      return "permanent failure";
    case PL_SMTP_VERDICT_NONE:
    default:
      return "undecided";
    }
}
