/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlPop3Server: the server side of POP3 (RFC 1939, RFC 2449, RFC 5034), sans-I/O. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-pop3-server.h"

#include <stdarg.h>
#include <string.h>

#include "pl-engine-private.h"
#include "pl-line-reader.h"
#include "pl-pop3-grammar.h"

#define COMMAND_LINE_LIMIT PL_POP3_SERVER_MAX_COMMAND_LINE

/*
 * A client may pipeline thousands of RETR in one read; each answer is far
 * longer than its command. Past this much unsent output the server reads
 * no further commands until the driver has sent what is pending, so the
 * memory a session holds stays bounded whatever the client sends.
 */
#define OUTPUT_HIGH_WATER (64 * 1024)

#define DEFAULT_GREETING "POP3 server ready"

struct _PlPop3Server
{
  PlEngine       parent_instance;
  PlEngineBase  *base;           /* read on every line (pl-engine-private.h) */

  PlMailStore   *store;
  char          *greeting;
  guint          auth_failure_delay_ms;
  guint          max_auth_failures;

  PlLineReader  *reader;
  GByteArray    *wire;           /* the reply being sent */
  GByteArray    *body;           /* a multi-line reply's body, before it is sent */
  GString       *args;           /* the arguments of the command being handled */
  gboolean       warned_bare_lf;

  char          *pending_user;   /* from USER, waiting for PASS */
  gboolean       sasl_pending;   /* "AUTH PLAIN" sent "+ ", the response is next */
  guint          auth_failures;

  char          *user;           /* logged in as */
  PlMaildrop    *maildrop;       /* open (locked) from PASS to the end */
  gboolean      *deleted;        /* per message of the snapshot */
  guint          n_messages;
};

G_DEFINE_FINAL_TYPE (PlPop3Server, pl_pop3_server, PL_TYPE_ENGINE)

/* A command line, split and checked; what the handler acts on. */
typedef struct {
  const char *verb;
  const char *args;
  guint       msg;        /* 0-based index, when the check took a message number */
  guint64     lines;      /* TOP's line count */
  gboolean    has_msg;
} Pop3Request;

typedef struct _Pop3Command Pop3Command;

/*
 * A check looks at the arguments before anything happens; on failure it
 * returns the text for "-ERR" (newly allocated) and the handler is not run.
 */
typedef char *(*Pop3CheckFunc)   (PlPop3Server *self,
                                  Pop3Request  *request);
typedef void  (*Pop3HandlerFunc) (PlPop3Server *self,
                                  Pop3Request  *request);

#define IN_AUTHORIZATION (1u << PL_POP3_SERVER_AUTHORIZATION)
#define IN_TRANSACTION   (1u << PL_POP3_SERVER_TRANSACTION)
#define IN_ANY           (IN_AUTHORIZATION | IN_TRANSACTION)

struct _Pop3Command
{
  const char      *verb;
  guint            states;
  Pop3CheckFunc    check;
  Pop3HandlerFunc  handler;
};

/* Replies ------------------------------------------------------------------ */

/*
 * Sends one whole reply and emits its event. @octets is the reply exactly as
 * it goes on the wire; a multi-line body is shown un-dot-stuffed.
 */
static void
send_reply (PlPop3Server *self,
            const char   *status,
            const guint8 *octets,
            gsize         len,
            gboolean      multiline)
{
  PlEvent *event;

  pl_engine_base_write (self->base, octets, len);
  if (!pl_engine_base_wants_events (self->base))
    return;
  event = multiline ? pl_event_new_body (PL_EVENT_REPLY, PL_DIR_SERVER, octets, len, status)
                    : pl_event_new_unit (PL_EVENT_REPLY, PL_DIR_SERVER, octets, len, NULL, status, NULL, NULL);
  pl_engine_base_emit (self->base, event);
  pl_event_unref (event);
}

/* A single-line reply: "+OK" or "-ERR", a space, and @text (RFC 1939 section 3). */
static void
reply_text (PlPop3Server *self,
            gboolean      ok,
            const char   *text)
{
  GByteArray *wire = self->wire;

  g_byte_array_set_size (wire, 0);
  if (ok)
    g_byte_array_append (wire, (const guint8 *) "+OK ", 4);
  else
    g_byte_array_append (wire, (const guint8 *) "-ERR ", 5);
  g_byte_array_append (wire, (const guint8 *) text, (guint) strlen (text));
  g_byte_array_append (wire, (const guint8 *) "\r\n", 2);
  send_reply (self, ok ? "+OK" : "-ERR", wire->data, wire->len, FALSE);
}

static void reply_line (PlPop3Server *self,
                        gboolean      ok,
                        const char   *format,
                        ...) G_GNUC_PRINTF (3, 4);

/* The same with a formatted text (status lines are short: formatted on the stack). */
static void
reply_line (PlPop3Server *self,
            gboolean      ok,
            const char   *format,
            ...)
{
  char text[256];
  va_list args;
  int n;

  va_start (args, format);
  n = g_vsnprintf (text, sizeof text, format, args);
  va_end (args);
  if (n >= 0 && (gsize) n < sizeof text)
    {
      reply_text (self, ok, text);
      return;
    }
  {
    g_autofree char *long_text = NULL;

    va_start (args, format);
    long_text = g_strdup_vprintf (format, args);
    va_end (args);
    reply_text (self, ok, long_text);
  }
}

/* "+OK" and nothing else, as the textbook's answer to USER. */
static void
reply_bare_ok (PlPop3Server *self)
{
  send_reply (self, "+OK", (const guint8 *) "+OK\r\n", 5, FALSE);
}

/* The engine's buffer for a multi-line body, emptied: fill it, then reply_multiline(). */
static GByteArray *
start_body (PlPop3Server *self)
{
  g_byte_array_set_size (self->body, 0);
  return self->body;
}

/* A positive multi-line reply: @first (without "+OK "), then @body already dot-stuffed, then ".". */
static void
reply_multiline (PlPop3Server *self,
                 const char   *first,
                 GByteArray   *body)
{
  GByteArray *out = self->wire;

  g_byte_array_set_size (out, 0);
  g_byte_array_append (out, (const guint8 *) "+OK", 3);
  if (first != NULL && first[0] != '\0')
    {
      g_byte_array_append (out, (const guint8 *) " ", 1);
      g_byte_array_append (out, (const guint8 *) first, (guint) strlen (first));
    }
  g_byte_array_append (out, (const guint8 *) "\r\n", 2);
  g_byte_array_append (out, body->data, body->len);
  /* RFC 1939 section 3: the body ends with CRLF before the "." line. */
  if (body->len > 0 && body->data[body->len - 1] != '\n')
    g_byte_array_append (out, (const guint8 *) "\r\n", 2);
  g_byte_array_append (out, (const guint8 *) ".\r\n", 3);
  send_reply (self, "+OK", out->data, out->len, TRUE);
}

/* One line of a body the server writes itself, stuffed too, for safety. */
static void
append_text_line (GByteArray *body,
                  const char *text)
{
  pl_pop3_dot_stuff (body, (const guint8 *) text, strlen (text));
  g_byte_array_append (body, (const guint8 *) "\r\n", 2);
}

static void G_GNUC_PRINTF (2, 3)
append_line (GByteArray *body,
             const char *format,
             ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  append_text_line (body, text);
}

static const char *
plural (guint64 n)
{
  return n == 1 ? "" : "s";
}

/* The state ----------------------------------------------------------------- */

static const char *
state_to_string (guint state)
{
  switch (state)
    {
    case PL_POP3_SERVER_AUTHORIZATION:
      return "AUTHORIZATION";
    case PL_POP3_SERVER_TRANSACTION:
      return "TRANSACTION";
    case PL_POP3_SERVER_UPDATE:
      return "UPDATE";
    case PL_POP3_SERVER_CLOSED:
      return "CLOSED";
    default:
      return "?";
    }
}

static const char *
pl_pop3_server_state_name (PlEngine *engine,
                           guint     state)
{
  return state_to_string (state);
}

static void
close_maildrop (PlPop3Server *self)
{
  if (self->maildrop == NULL)
    return;
  pl_maildrop_close (self->maildrop);
  g_clear_object (&self->maildrop);
  g_clear_pointer (&self->deleted, g_free);
  self->n_messages = 0;
}

/* The session is over: nothing more is read, the driver closes once the output is sent. */
static void
end_session (PlPop3Server *self,
             gboolean      failed)
{
  close_maildrop (self);
  pl_engine_base_set_state (self->base, PL_POP3_SERVER_CLOSED);
  pl_engine_finish (PL_ENGINE (self), failed);
}

/* Maildrop helpers ------------------------------------------------------------ */

static void
count_undeleted (PlPop3Server *self,
                 guint        *n,
                 guint64      *octets)
{
  *n = 0;
  *octets = 0;
  for (guint i = 0; i < self->n_messages; i++)
    if (!self->deleted[i])
      {
        (*n)++;
        *octets += pl_maildrop_get_message (self->maildrop, i)->size;
      }
}

/*
 * RFC 1939 section 5: a message-number argument names a message of the
 * snapshot taken at login, which must not be marked deleted. Leading zeros
 * are fine ("01"); anything but digits is not. @word is @len octets long.
 */
static char *
parse_message_number (PlPop3Server *self,
                      const char   *word,
                      gsize         len,
                      guint        *index)
{
  guint64 number = 0;
  gboolean overflow = FALSE;

  if (len == 0)
    return g_strdup ("missing message number");
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (word[i]))
        return g_strdup ("invalid message number");
      if (number > (G_MAXUINT64 - 9) / 10)
        overflow = TRUE;
      else
        number = number * 10 + (guint64) (word[i] - '0');
    }
  if (!overflow && number == 0)
    return g_strdup ("invalid message number: messages are numbered from 1");
  if (overflow || number > self->n_messages)
    return g_strdup_printf ("no such message, only %u message%s in maildrop",
                            self->n_messages, plural (self->n_messages));
  if (self->deleted[number - 1])
    return g_strdup_printf ("message %" G_GUINT64_FORMAT " already deleted", number);
  *index = (guint) (number - 1);
  return NULL;
}

/* Splits arguments at spaces, forgiving the doubled or trailing spaces of a person at telnet. */
static GStrv
split_args (const char *args)
{
  g_auto(GStrv) parts = g_strsplit_set (args, " \t", -1);
  GPtrArray *words = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (words, g_strdup (parts[i]));
  g_ptr_array_add (words, NULL);
  return (GStrv) g_ptr_array_free (words, FALSE);
}

/*
 * The same split for the checks, which run on every command: how many
 * words there are, and where the first few are in the arguments (not
 * copied, not terminated).
 */
#define MAX_WORDS 3

typedef struct {
  guint       n;
  const char *word[MAX_WORDS];
  gsize       len[MAX_WORDS];
} Words;

static void
find_words (const char *args,
            Words      *words)
{
  const char *p = args;

  words->n = 0;
  for (;;)
    {
      const char *start;

      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0')
        return;
      start = p;
      while (*p != '\0' && *p != ' ' && *p != '\t')
        p++;
      if (words->n < MAX_WORDS)
        {
          words->word[words->n] = start;
          words->len[words->n] = (gsize) (p - start);
        }
      words->n++;
    }
}

/* Checks (the argument half of each row) -------------------------------------- */

static char *
check_no_args (PlPop3Server *self,
               Pop3Request  *request)
{
  Words words;

  find_words (request->args, &words);
  if (words.n > 0)
    return g_strdup_printf ("%s takes no arguments", request->verb);
  return NULL;
}

static char *
check_message (PlPop3Server *self,
               Pop3Request  *request)
{
  Words words;
  char *error;

  find_words (request->args, &words);
  if (words.n == 0)
    return g_strdup ("missing message number");
  if (words.n > 1)
    return g_strdup ("too many arguments");
  error = parse_message_number (self, words.word[0], words.len[0], &request->msg);
  request->has_msg = error == NULL;
  return error;
}

static char *
check_optional_message (PlPop3Server *self,
                        Pop3Request  *request)
{
  Words words;

  find_words (request->args, &words);
  if (words.n == 0)
    return NULL;
  return check_message (self, request);
}

static char *
check_top (PlPop3Server *self,
           Pop3Request  *request)
{
  Words words;
  guint64 lines = 0;
  char *error;

  find_words (request->args, &words);
  if (words.n < 2)
    return g_strdup ("usage: TOP message-number lines");
  if (words.n > 2)
    return g_strdup ("too many arguments");
  error = parse_message_number (self, words.word[0], words.len[0], &request->msg);
  if (error != NULL)
    return error;
  for (gsize i = 0; i < words.len[1]; i++)
    {
      char c = words.word[1][i];

      if (!g_ascii_isdigit (c))
        return g_strdup ("invalid number of lines");
      /* More lines than any message has: saturate rather than overflow. */
      lines = lines > G_MAXUINT32 ? lines : lines * 10 + (guint64) (c - '0');
    }
  request->lines = lines;
  request->has_msg = TRUE;
  return NULL;
}

static char *
check_required (PlPop3Server *self,
                Pop3Request  *request)
{
  Words words;

  find_words (request->args, &words);
  if (words.n == 0)
    return g_strdup_printf ("%s needs an argument", request->verb);
  return NULL;
}

static char *
check_any (PlPop3Server *self,
           Pop3Request  *request)
{
  return NULL;
}

/* Handlers (the action half of each row) --------------------------------------- */

/* RFC 2449 section 5. */
static void
handle_capa (PlPop3Server *self,
             Pop3Request  *request)
{
  GByteArray *body = start_body (self);

  append_text_line (body, "TOP");
  append_text_line (body, "USER");
  append_text_line (body, "UIDL");
  append_text_line (body, "RESP-CODES");
  append_text_line (body, "PIPELINING");
  append_text_line (body, "AUTH-RESP-CODE");
  append_text_line (body, "SASL PLAIN");
  append_text_line (body, "IMPLEMENTATION Postlab");
  reply_multiline (self, "capability list follows", body);
}

/*
 * RFC 1939 section 7, USER. The answer is "+OK" whether or not the user
 * exists, so that USER cannot be used to find out who has a mailbox.
 */
static void
handle_user (PlPop3Server *self,
             Pop3Request  *request)
{
  g_free (self->pending_user);
  self->pending_user = g_strstrip (g_strdup (request->args));
  reply_bare_ok (self);
}

/* Opens and locks the maildrop of a user whose password was right (RFC 1939 section 8). */
static void
log_in (PlPop3Server *self,
        const char   *user)
{
  g_autoptr(GError) error = NULL;
  PlMaildrop *maildrop;

  maildrop = pl_mail_store_open_maildrop (self->store, user, &error);
  if (maildrop == NULL)
    {
      if (g_error_matches (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED))
        reply_text (self, FALSE, "[IN-USE] maildrop locked by another session");
      else
        {
          g_warning ("Cannot open the maildrop of %s: %s", user, error->message);
          reply_text (self, FALSE, "[SYS/TEMP] unable to open the maildrop");
        }
      return;
    }

  self->maildrop = maildrop;
  self->n_messages = pl_maildrop_get_n_messages (maildrop);
  self->deleted = g_new0 (gboolean, MAX (self->n_messages, 1));
  self->user = g_strdup (user);
  self->auth_failures = 0;
  pl_engine_base_set_state (self->base, PL_POP3_SERVER_TRANSACTION);
  reply_text (self, TRUE, "user successfully logged on");
}

/*
 * A wrong user name or password: the reply is held back (the driver waits
 * auth_failure_delay_ms before sending it) so that guessing is slow, and
 * after max_auth_failures the connection ends.
 */
static void
login_failed (PlPop3Server *self)
{
  self->auth_failures++;
  if (self->auth_failure_delay_ms > 0)
    pl_engine_request_delay (PL_ENGINE (self), self->auth_failure_delay_ms);
  if (self->max_auth_failures > 0 && self->auth_failures >= self->max_auth_failures)
    {
      reply_text (self, FALSE, "[AUTH] invalid user name or password; "
                  "too many failed logins, closing connection");
      end_session (self, TRUE);
      return;
    }
  reply_text (self, FALSE, "[AUTH] invalid user name or password");
}

static void
try_login (PlPop3Server *self,
           const char   *user,
           const char   *password)
{
  if (!pl_mail_store_check_password (self->store, user, password))
    {
      login_failed (self);
      return;
    }
  log_in (self, user);
}

/* RFC 1939 section 7, PASS: only straight after USER. */
static void
handle_pass (PlPop3Server *self,
             Pop3Request  *request)
{
  g_autofree char *user = g_steal_pointer (&self->pending_user);

  if (user == NULL)
    {
      reply_text (self, FALSE, "send USER first");
      return;
    }
  try_login (self, user, request->args);
}

/* RFC 5034 section 4 with RFC 4616's PLAIN: "authzid NUL authcid NUL passwd", base64. */
static void
finish_sasl_plain (PlPop3Server *self,
                   const char   *response)
{
  g_autofree guint8 *decoded = NULL;
  gsize len = 0;
  const char *authzid, *authcid, *password;
  const guint8 *nul1, *nul2;

  for (const char *p = response; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
      {
        reply_text (self, FALSE, "invalid base64 in SASL response");
        return;
      }
  decoded = g_base64_decode (response, &len);
  nul1 = len > 0 ? memchr (decoded, '\0', len) : NULL;
  nul2 = nul1 != NULL ? memchr (nul1 + 1, '\0', len - (gsize) (nul1 + 1 - decoded)) : NULL;
  if (nul2 == NULL || memchr (nul2 + 1, '\0', len - (gsize) (nul2 + 1 - decoded)) != NULL)
    {
      reply_text (self, FALSE, "malformed PLAIN response");
      return;
    }
  /* g_base64_decode() does not terminate: copy the password out. */
  {
    g_autofree char *pass = g_strndup ((const char *) nul2 + 1, len - (gsize) (nul2 + 1 - decoded));

    authzid = (const char *) decoded;
    authcid = (const char *) nul1 + 1;
    password = pass;
    if (authzid[0] != '\0' && strcmp (authzid, authcid) != 0)
      {
        reply_text (self, FALSE, "[AUTH] cannot act on behalf of another user");
        return;
      }
    try_login (self, authcid, password);
  }
}

/* RFC 5034 section 4: AUTH PLAIN [initial-response]; a bare AUTH lists the mechanisms. */
static void
handle_auth (PlPop3Server *self,
             Pop3Request  *request)
{
  g_auto(GStrv) words = split_args (request->args);

  g_clear_pointer (&self->pending_user, g_free);
  if (words[0] == NULL)
    {
      GByteArray *body = start_body (self);

      append_text_line (body, "PLAIN");
      reply_multiline (self, "SASL mechanisms follow", body);
      return;
    }
  if (g_ascii_strcasecmp (words[0], "PLAIN") != 0)
    {
      reply_text (self, FALSE, "unsupported SASL mechanism");
      return;
    }
  if (words[1] != NULL && words[2] != NULL)
    {
      reply_text (self, FALSE, "too many arguments");
      return;
    }
  if (words[1] == NULL)
    {
      /* An empty challenge: "+ " then the client's response line. */
      self->sasl_pending = TRUE;
      send_reply (self, "+", (const guint8 *) "+ \r\n", 4, FALSE);
      return;
    }
  if (strcmp (words[1], "=") == 0)
    finish_sasl_plain (self, "");
  else
    finish_sasl_plain (self, words[1]);
}

/* RFC 1939 section 6: QUIT in TRANSACTION enters UPDATE; in AUTHORIZATION it just ends. */
static void
handle_quit (PlPop3Server *self,
             Pop3Request  *request)
{
  g_autoptr(GArray) indices = NULL;
  g_autoptr(GError) error = NULL;

  if (pl_engine_get_state (PL_ENGINE (self)) != PL_POP3_SERVER_TRANSACTION)
    {
      reply_text (self, TRUE, "POP3 server signing off");
      end_session (self, FALSE);
      return;
    }

  pl_engine_base_set_state (self->base, PL_POP3_SERVER_UPDATE);
  indices = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < self->n_messages; i++)
    if (self->deleted[i])
      g_array_append_val (indices, i);
  if (!pl_maildrop_expunge (self->maildrop, (const guint *) indices->data, indices->len, &error))
    {
      g_warning ("Cannot remove deleted messages of %s: %s", self->user, error->message);
      reply_text (self, FALSE, "some deleted messages not removed");
    }
  else
    reply_text (self, TRUE, "POP3 server signing off");
  end_session (self, FALSE);
}

/* RFC 1939 section 5. */
static void
handle_stat (PlPop3Server *self,
             Pop3Request  *request)
{
  guint n;
  guint64 octets;

  count_undeleted (self, &n, &octets);
  reply_line (self, TRUE, "%u %" G_GUINT64_FORMAT, n, octets);
}

static void
handle_list (PlPop3Server *self,
             Pop3Request  *request)
{
  GByteArray *body;
  char first[PL_ENGINE_SHORT_TEXT];
  guint n;
  guint64 octets;

  if (request->has_msg)
    {
      reply_line (self, TRUE, "%u %" G_GSIZE_FORMAT, request->msg + 1,
                  pl_maildrop_get_message (self->maildrop, request->msg)->size);
      return;
    }
  body = start_body (self);
  for (guint i = 0; i < self->n_messages; i++)
    if (!self->deleted[i])
      {
        char line[PL_ENGINE_SHORT_TEXT];
        char number[PL_ENGINE_DECIMAL_SIZE];
        char size[PL_ENGINE_DECIMAL_SIZE];

        /* "1 498" (printf would cost more than the rest of the reply). */
        append_text_line (body, pl_engine_concat (line, pl_engine_decimal (number, i + 1), " ",
                                                  pl_engine_decimal (size, pl_maildrop_get_message (self->maildrop,
                                                                                                   i)->size),
                                                  NULL));
      }
  count_undeleted (self, &n, &octets);
  {
    char count[PL_ENGINE_DECIMAL_SIZE];
    char total[PL_ENGINE_DECIMAL_SIZE];

    /* "2 messages (1410 octets)" */
    pl_engine_concat (first, pl_engine_decimal (count, n), " message", plural (n), " (",
                      pl_engine_decimal (total, octets), " octets)", NULL);
  }
  reply_multiline (self, first, body);
}

static void
handle_uidl (PlPop3Server *self,
             Pop3Request  *request)
{
  GByteArray *body;

  if (request->has_msg)
    {
      reply_line (self, TRUE, "%u %s", request->msg + 1,
                  pl_maildrop_get_message (self->maildrop, request->msg)->uid);
      return;
    }
  body = start_body (self);
  for (guint i = 0; i < self->n_messages; i++)
    if (!self->deleted[i])
      append_line (body, "%u %s", i + 1, pl_maildrop_get_message (self->maildrop, i)->uid);
  reply_multiline (self, "unique-id listing follows", body);
}

static GBytes *
read_message (PlPop3Server *self,
              guint         index)
{
  g_autoptr(GError) error = NULL;
  GBytes *message = pl_maildrop_read (self->maildrop, index, &error);

  if (message == NULL)
    {
      g_warning ("Cannot read message %u of %s: %s", index + 1, self->user, error->message);
      reply_line (self, FALSE, "[SYS/TEMP] unable to read message %u", index + 1);
    }
  return message;
}

/*
 * RFC 1939 section 5, RETR. The whole reply is built at once: messages are
 * bounded by the store, and the event must hold the reply's exact octets.
 */
static void
handle_retr (PlPop3Server *self,
             Pop3Request  *request)
{
  g_autoptr(GBytes) message = read_message (self, request->msg);
  GByteArray *body;
  char first[PL_ENGINE_SHORT_TEXT];
  char size[PL_ENGINE_DECIMAL_SIZE];
  const guint8 *data;
  gsize len;

  if (message == NULL)
    return;
  data = g_bytes_get_data (message, &len);
  body = start_body (self);
  pl_pop3_dot_stuff (body, data, len);
  /* "912 octets" */
  pl_engine_concat (first, pl_engine_decimal (size, pl_maildrop_get_message (self->maildrop, request->msg)->size),
                    " octets", NULL);
  reply_multiline (self, first, body);
}

/* RFC 1939 section 7, TOP: the header, the blank line, and the first @lines lines of the body. */
static void
handle_top (PlPop3Server *self,
            Pop3Request  *request)
{
  g_autoptr(GBytes) message = read_message (self, request->msg);
  GByteArray *body;
  char first[48];
  const guint8 *data;
  gsize len;
  gsize pos = 0;
  gboolean in_header = TRUE;
  guint64 body_lines = 0;

  if (message == NULL)
    return;
  data = g_bytes_get_data (message, &len);
  while (pos < len)
    {
      const guint8 *lf = memchr (data + pos, '\n', len - pos);
      gsize end = lf != NULL ? (gsize) (lf - data) + 1 : len;

      if (in_header)
        {
          if (end - pos <= 2 && (data[pos] == '\r' || data[pos] == '\n'))
            in_header = FALSE;   /* the blank line ending the header */
        }
      else
        {
          if (body_lines == request->lines)
            break;
          body_lines++;
        }
      pos = end;
    }
  body = start_body (self);
  pl_pop3_dot_stuff (body, data, pos);
  g_snprintf (first, sizeof first, "top of message %u follows", request->msg + 1);
  reply_multiline (self, first, body);
}

static void
handle_dele (PlPop3Server *self,
             Pop3Request  *request)
{
  char text[PL_ENGINE_SHORT_TEXT];
  char number[PL_ENGINE_DECIMAL_SIZE];

  self->deleted[request->msg] = TRUE;
  reply_text (self, TRUE, pl_engine_concat (text, "message ", pl_engine_decimal (number, request->msg + 1),
                                            " deleted", NULL));
}

static void
handle_noop (PlPop3Server *self,
             Pop3Request  *request)
{
  reply_bare_ok (self);
}

static void
handle_rset (PlPop3Server *self,
             Pop3Request  *request)
{
  guint n;
  guint64 octets;

  memset (self->deleted, 0, sizeof (gboolean) * MAX (self->n_messages, 1));
  count_undeleted (self, &n, &octets);
  reply_line (self, TRUE, "maildrop has %u message%s (%" G_GUINT64_FORMAT " octets)",
              n, plural (n), octets);
}

/*
 * The commands: adding one is adding a row. A command outside its states
 * is answered "-ERR" and the session goes on (RFC 1939 section 3).
 */
static const Pop3Command commands[] = {
  { "USER", IN_AUTHORIZATION, check_required,         handle_user },
  { "PASS", IN_AUTHORIZATION, check_required,         handle_pass },
  { "AUTH", IN_AUTHORIZATION, check_any,              handle_auth },
  { "CAPA", IN_ANY,           check_no_args,          handle_capa },
  { "QUIT", IN_ANY,           check_no_args,          handle_quit },
  { "STAT", IN_TRANSACTION,   check_no_args,          handle_stat },
  { "LIST", IN_TRANSACTION,   check_optional_message, handle_list },
  { "RETR", IN_TRANSACTION,   check_message,          handle_retr },
  { "DELE", IN_TRANSACTION,   check_message,          handle_dele },
  { "NOOP", IN_TRANSACTION,   check_no_args,          handle_noop },
  { "RSET", IN_TRANSACTION,   check_no_args,          handle_rset },
  { "TOP",  IN_TRANSACTION,   check_top,              handle_top },
  { "UIDL", IN_TRANSACTION,   check_optional_message, handle_uidl },
};

static const Pop3Command *
find_command (const char *verb)
{
  /* The first octet first: a strcmp() call for each row cost more than the rest of finding it. */
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].verb[0] == verb[0] && strcmp (commands[i].verb, verb) == 0)
      return &commands[i];
  return NULL;
}

static void
dispatch (PlPop3Server *self,
          const char   *verb,
          const char   *args)
{
  const Pop3Command *command = find_command (verb);
  guint state = pl_engine_base_get_state (self->base);
  Pop3Request request = { verb, args, 0, 0, FALSE };
  g_autofree char *error = NULL;

  if (command == NULL)
    {
      reply_line (self, FALSE, "unknown command \"%s\"", verb);
      return;
    }
  if ((command->states & (1u << state)) == 0)
    {
      if (state == PL_POP3_SERVER_AUTHORIZATION)
        reply_text (self, FALSE, "command not valid before login");
      else
        reply_text (self, FALSE, "command not valid after login");
      return;
    }
  error = command->check (self, &request);
  if (error != NULL)
    {
      reply_text (self, FALSE, error);
      return;
    }
  command->handler (self, &request);
}

/* Reading ----------------------------------------------------------------------- */

/*
 * One line from the client: its event first (exact octets, password in the
 * clear: that is the lesson of PASS), then whatever the line gets. Bad
 * framing is answered "-ERR" and never acted on.
 */
static void
handle_line (PlPop3Server *self,
             const PlLine *line)
{
  char verb[PL_POP3_MAX_VERB_LEN + 1];
  gsize verb_len = 0;
  gsize args_start = 0;
  gboolean parsed = FALSE;

  /* The verb and arguments are read into buffers of the engine's: a line costs no allocation here. */
  if (!self->sasl_pending && pl_pop3_split_command (line->data, line->len, &verb_len, &args_start))
    {
      parsed = TRUE;
      for (gsize i = 0; i < verb_len; i++)
        verb[i] = pl_engine_ascii_toupper ((char) line->data[i]);
      verb[verb_len] = '\0';
      g_string_truncate (self->args, 0);
      g_string_append_len (self->args, (const char *) line->data + args_start, (gssize) (line->len - args_start));
    }
  if (pl_engine_base_wants_received_events (self->base))
    {
      g_autoptr(PlEvent) event = pl_event_new_unit (PL_EVENT_COMMAND, PL_DIR_CLIENT, line->data, line->raw_len,
                                                    NULL, NULL, parsed ? verb : NULL,
                                                    parsed ? self->args->str : NULL);

      pl_engine_base_emit (self->base, event);
    }

  if (line->flags & PL_LINE_TOO_LONG)
    pl_engine_emit_note (PL_ENGINE (self), "client line longer than %u octets: "
                         "%" G_GSIZE_FORMAT " more octets discarded",
                         COMMAND_LINE_LIMIT, line->discarded);
  if ((line->flags & PL_LINE_BARE_LF) && !self->warned_bare_lf)
    {
      self->warned_bare_lf = TRUE;
      pl_engine_emit_note (PL_ENGINE (self), "client ends its lines with a bare LF, "
                           "not CRLF (RFC 1939 section 3); accepted");
    }

  if (self->sasl_pending)
    {
      g_autofree char *response = NULL;

      self->sasl_pending = FALSE;
      if (line->flags & (PL_LINE_TOO_LONG | PL_LINE_HAS_NUL | PL_LINE_LONE_CR))
        {
          reply_text (self, FALSE, "invalid SASL response");
          return;
        }
      response = g_strndup ((const char *) line->data, line->len);
      /* RFC 5034 section 4: "*" cancels the exchange. */
      if (strcmp (response, "*") == 0)
        reply_text (self, FALSE, "authentication cancelled");
      else
        finish_sasl_plain (self, response);
      return;
    }

  if (line->flags & PL_LINE_TOO_LONG)
    reply_line (self, FALSE, "line too long (at most %u octets)", COMMAND_LINE_LIMIT);
  else if (line->flags & PL_LINE_HAS_NUL)
    reply_text (self, FALSE, "NUL octet in command");
  else if (line->flags & PL_LINE_LONE_CR)
    reply_text (self, FALSE, "stray CR in command");
  else if (line->len == 0)
    reply_text (self, FALSE, "empty command");
  else if (!parsed)
    reply_text (self, FALSE, "invalid command");
  else
    dispatch (self, verb, self->args->str);
}

static gboolean
output_full (PlPop3Server *self)
{
  return pl_engine_base_get_pending (self->base) >= OUTPUT_HIGH_WATER;
}

/* Pipelined commands (RFC 2449 section 6.6) are answered in order; after QUIT nothing is read. */
static void
process_lines (PlPop3Server *self)
{
  PlLine line;

  while (!pl_engine_base_is_finished (self->base) && !output_full (self)
         && pl_line_reader_next (self->reader, &line))
    handle_line (self, &line);
}

static void
pl_pop3_server_receive (PlEngine     *engine,
                        const guint8 *data,
                        gsize         len)
{
  PlPop3Server *self = PL_POP3_SERVER (engine);

  /* Lines are read where they arrived; what is left is kept before @data goes away. */
  pl_line_reader_feed_borrowed (self->reader, data, len);
  process_lines (self);
  pl_line_reader_keep (self->reader);
}

static void
pl_pop3_server_output_drained (PlEngine *engine)
{
  PlPop3Server *self = PL_POP3_SERVER (engine);

  /* Lines were held back only if some are waiting; most of the time none are. */
  if (pl_line_reader_is_mid_line (self->reader))
    process_lines (self);
}

/* RFC 1939 section 4: the greeting. */
static void
pl_pop3_server_start (PlEngine *engine)
{
  PlPop3Server *self = PL_POP3_SERVER (engine);

  reply_text (self, TRUE, self->greeting);
}

/*
 * RFC 1939 section 6: a session that ends without QUIT never enters UPDATE,
 * so nothing marked deleted is removed; the lock is released.
 */
static void
pl_pop3_server_connection_lost (PlEngine *engine)
{
  PlPop3Server *self = PL_POP3_SERVER (engine);
  PlLine line;
  guint unanswered = 0;
  gsize pending;

  if (pl_engine_is_finished (engine))
    return;

  /*
   * Keep the client's stream complete: commands read but held back (the
   * output was full) and an unfinished line are events too, never acted on.
   */
  while (pl_line_reader_next (self->reader, &line))
    {
      if (pl_engine_wants_received_events (engine))
        {
          g_autoptr(PlEvent) event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT,
                                                   line.data, line.raw_len);
          g_autofree char *verb = NULL;
          g_autofree char *args = NULL;

          if (pl_pop3_parse_command (line.data, line.len, &verb, &args))
            pl_event_set_verb (event, verb, args);
          pl_engine_emit (engine, event);
        }
      unanswered++;
    }
  if (unanswered > 0)
    pl_engine_emit_note (engine, "connection lost: %u command%s never answered",
                         unanswered, plural (unanswered));
  pending = pl_line_reader_get_buffered (self->reader);
  if (pending > 0)
    {
      g_autoptr(PlEvent) event = NULL;
      gsize len;
      const guint8 *data = pl_line_reader_read_raw (self->reader, pending, &len);

      if (pl_engine_wants_received_events (engine))
        {
          event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, data, len);
          pl_engine_emit (engine, event);
        }
      pl_engine_emit_note (engine, "connection lost in the middle of a line; "
                           "the last %" G_GSIZE_FORMAT " octets were not a command", len);
    }
  if (pl_engine_get_state (engine) == PL_POP3_SERVER_TRANSACTION)
    {
      guint marked = 0;

      for (guint i = 0; i < self->n_messages; i++)
        marked += self->deleted[i] ? 1 : 0;
      pl_engine_emit_note (engine, "connection lost without QUIT: no UPDATE state, "
                           "%u message%s marked deleted stay%s in the maildrop",
                           marked, plural (marked), marked == 1 ? "s" : "");
    }
  end_session (self, TRUE);
}

static void
pl_pop3_server_finalize (GObject *object)
{
  PlPop3Server *self = PL_POP3_SERVER (object);

  close_maildrop (self);
  g_clear_object (&self->store);
  g_free (self->greeting);
  pl_line_reader_free (self->reader);
  g_byte_array_unref (self->wire);
  g_byte_array_unref (self->body);
  g_string_free (self->args, TRUE);
  g_free (self->pending_user);
  g_free (self->user);
  G_OBJECT_CLASS (pl_pop3_server_parent_class)->finalize (object);
}

static void
pl_pop3_server_class_init (PlPop3ServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlEngineClass *engine_class = PL_ENGINE_CLASS (klass);

  object_class->finalize = pl_pop3_server_finalize;
  engine_class->start = pl_pop3_server_start;
  engine_class->receive = pl_pop3_server_receive;
  engine_class->connection_lost = pl_pop3_server_connection_lost;
  engine_class->state_name = pl_pop3_server_state_name;
  engine_class->output_drained = pl_pop3_server_output_drained;
}

static void
pl_pop3_server_init (PlPop3Server *self)
{
  self->base = pl_engine_get_base (PL_ENGINE (self));
  self->reader = pl_line_reader_new (COMMAND_LINE_LIMIT);
  self->wire = g_byte_array_new ();
  self->body = g_byte_array_new ();
  self->args = g_string_new (NULL);
}

/* Takes the config into an engine that is new or was just cleared (clear_session()). */
static void
configure (PlPop3Server             *self,
           PlMailStore              *store,
           const PlPop3ServerConfig *config)
{
  const char *greeting = config != NULL && config->greeting != NULL ? config->greeting : DEFAULT_GREETING;

  self->store = g_object_ref (store);
  /* The same greeting as the session before (the simulator's case) is kept. */
  if (self->greeting == NULL || strcmp (self->greeting, greeting) != 0)
    {
      g_free (self->greeting);
      self->greeting = g_strdup (greeting);
    }
  if (config != NULL)
    {
      self->auth_failure_delay_ms = config->auth_failure_delay_ms;
      self->max_auth_failures = config->max_auth_failures;
    }
  else
    {
      self->auth_failure_delay_ms = PL_POP3_SERVER_DEFAULT_AUTH_DELAY_MS;
      self->max_auth_failures = PL_POP3_SERVER_DEFAULT_MAX_AUTH_FAILURES;
    }
}

/* Everything of the session: the engine as pl_pop3_server_init() left it, but for its buffers and greeting. */
static void
clear_session (PlPop3Server *self)
{
  close_maildrop (self);
  g_clear_object (&self->store);
  pl_line_reader_reset (self->reader);
  g_byte_array_set_size (self->wire, 0);
  g_byte_array_set_size (self->body, 0);
  g_string_truncate (self->args, 0);
  self->warned_bare_lf = FALSE;
  g_clear_pointer (&self->pending_user, g_free);
  self->sasl_pending = FALSE;
  self->auth_failures = 0;
  g_clear_pointer (&self->user, g_free);
}

/*
 * pl_pop3_server_new:
 * A POP3 server session (RFC 1939) over @store, starting in AUTHORIZATION.
 * @config may be NULL for the defaults; it is copied.
 */
PlEngine *
pl_pop3_server_new (PlMailStore              *store,
                    const PlPop3ServerConfig *config)
{
  PlPop3Server *self;

  g_return_val_if_fail (PL_IS_MAIL_STORE (store), NULL);

  self = g_object_new (PL_TYPE_POP3_SERVER, NULL);
  pl_engine_set_protocol (PL_ENGINE (self), PL_PROTOCOL_POP3);
  configure (self, store, config);
  return PL_ENGINE (self);
}

/*
 * pl_pop3_server_reset:
 * Makes @self what pl_pop3_server_new (@store, @config) would return,
 * keeping its buffers: for a driver that runs one session after another
 * (the simulator). A maildrop still open is closed as at finalize (nothing
 * deleted); the event and state functions are unset.
 */
gboolean
pl_pop3_server_reset (PlPop3Server             *self,
                      PlMailStore              *store,
                      const PlPop3ServerConfig *config)
{
  g_return_val_if_fail (PL_IS_POP3_SERVER (self), FALSE);
  g_return_val_if_fail (PL_IS_MAIL_STORE (store), FALSE);

  clear_session (self);
  pl_engine_base_reset (self->base);
  configure (self, store, config);
  return TRUE;
}

PlPop3ServerState
pl_pop3_server_get_state (PlPop3Server *self)
{
  g_return_val_if_fail (PL_IS_POP3_SERVER (self), PL_POP3_SERVER_CLOSED);
  return (PlPop3ServerState) pl_engine_get_state (PL_ENGINE (self));
}

/* The user logged in (from PASS or AUTH), or NULL before that. */
const char *
pl_pop3_server_get_user (PlPop3Server *self)
{
  g_return_val_if_fail (PL_IS_POP3_SERVER (self), NULL);
  return self->user;
}
