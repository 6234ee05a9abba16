/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSmtpServer: the server side of SMTP (RFC 5321, with SIZE, PIPELINING, 8BITMIME and AUTH), sans-I/O. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-smtp-server.h"

#include <stdarg.h>
#include <string.h>

#include "pl-engine-private.h"
#include "pl-line-reader.h"

#define LINE_LIMIT ((guint) PL_SMTP_SERVER_MAX_LINE)

/*
 * A client may pipeline thousands of commands in one write (RFC 2920).
 * Past this much unsent output the server reads no further lines until the
 * driver has sent what is pending, so a session's memory stays bounded
 * whatever the client sends.
 */
#define OUTPUT_HIGH_WATER (64 * 1024)

/* RFC 4954 section 4 challenges of AUTH LOGIN (a de-facto mechanism): "Username:", "Password:". */
#define LOGIN_USER_CHALLENGE "VXNlcm5hbWU6"
#define LOGIN_PASS_CHALLENGE "UGFzc3dvcmQ6"

typedef enum {
  SASL_NONE = 0,
  SASL_PLAIN,           /* "334 " sent, the PLAIN response is next */
  SASL_LOGIN_USER,      /* "334 Username:" sent */
  SASL_LOGIN_PASSWORD,  /* "334 Password:" sent */
} SaslStep;

struct _PlSmtpServer
{
  PlEngine               parent_instance;
  PlEngineBase          *base;             /* read on every line (pl-engine-private.h) */

  char                  *hostname;
  char                  *greeting;
  gboolean               greeting_is_default;
  char                  *extensions;       /* EHLO's lines after the first, '\n' between them */
  gsize                  max_message_size;
  guint                  max_recipients;
  gboolean               offer_auth;
  guint                  auth_failure_delay_ms;
  char                  *client_address;
  gboolean               trusted;
  PlSmtpServerCallbacks  callbacks;
  gpointer               user_data;
  GDestroyNotify         destroy;

  PlLineReader          *reader;
  GByteArray            *wire;             /* the reply being sent */
  GString               *args;             /* the arguments of the command being handled */
  gboolean               warned_bare_lf;
  gboolean               lost;             /* the connection is gone: lines are shown, never acted on */
  guint                  unanswered;

  char                  *helo;
  gboolean               esmtp;            /* EHLO, not HELO */
  char                  *auth_user;
  SaslStep               sasl;
  char                  *sasl_user;        /* AUTH LOGIN: the user name, waiting for the password */

  /* The mail transaction (RFC 5321 3.3). */
  char                  *mail_from;
  gboolean               body_8bitmime;
  GPtrArray             *recipients;       /* of char*, accepted */

  /* The message being read after 354. */
  GByteArray            *data_raw;         /* as sent: stuffed, line ends as they came */
  gsize                  data_size;        /* the message so far, unstuffed, CRLF line ends */
  gsize                  data_dropped;     /* octets not kept past the size limit */
  guint                  data_long_lines;
  gsize                  data_long_discarded;
  gboolean               data_has_nul;

  guint                  id_counter;
  guint                  n_delivered;
};

G_DEFINE_FINAL_TYPE (PlSmtpServer, pl_smtp_server, PL_TYPE_ENGINE)

/* A command line, split and checked; what the handler acts on. */
typedef struct {
  const char *verb;
  const char *args;
  PlSmtpPath *path;            /* MAIL and RCPT, from their check */
  gboolean    body_8bitmime;   /* MAIL ... BODY=8BITMIME */
} SmtpRequest;

/* A check looks at the arguments before anything happens; a reply it returns is sent instead. */
typedef PlSmtpReply *(*SmtpCheckFunc)   (PlSmtpServer *self,
                                         SmtpRequest  *request);
typedef void         (*SmtpHandlerFunc) (PlSmtpServer *self,
                                         SmtpRequest  *request);

#define IN_CONNECTED (1u << PL_SMTP_SERVER_CONNECTED)
#define IN_READY     (1u << PL_SMTP_SERVER_READY)
#define IN_MAIL      (1u << PL_SMTP_SERVER_MAIL)
#define IN_RCPT      (1u << PL_SMTP_SERVER_RCPT)
#define IN_ANY       (IN_CONNECTED | IN_READY | IN_MAIL | IN_RCPT)

typedef struct {
  const char      *verb;
  guint            states;
  SmtpCheckFunc    check;
  SmtpHandlerFunc  handler;
  const char      *not_now;   /* the 503 text outside its states */
} SmtpCommand;

static const char *
plural (guint64 n)
{
  return n == 1 ? "" : "s";
}

/* Replies ------------------------------------------------------------------------ */

/*
 * Sends the reply built in self->wire and, when anyone listens, emits its
 * event: @shown (taken) is its display text, or NULL for the wire's own.
 */
static void
send_wire (PlSmtpServer *self,
           guint         code,
           char         *shown)
{
  pl_engine_base_write (self->base, self->wire->data, self->wire->len);
  if (pl_engine_base_wants_events (self->base))
    {
      char status[4] = { (char) ('0' + code / 100 % 10), (char) ('0' + code / 10 % 10),
                         (char) ('0' + code % 10), '\0' };
      PlEvent *event = pl_event_new_unit (PL_EVENT_REPLY, PL_DIR_SERVER, self->wire->data, self->wire->len,
                                          shown, status, NULL, NULL);

      pl_engine_base_emit (self->base, event);
      pl_event_unref (event);
    }
  else
    g_free (shown);
  g_byte_array_set_size (self->wire, 0);
}

/* Sends one whole reply (RFC 5321 4.2) and emits its event. */
static void
send_reply (PlSmtpServer *self,
            guint         code,
            const char   *text)
{
  pl_smtp_reply_append (self->wire, code, text);
  send_wire (self, code, NULL);
}

static void reply (PlSmtpServer *self,
                   guint         code,
                   const char   *format,
                   ...) G_GNUC_PRINTF (3, 4);

/* A reply whose text is formatted (the constant ones go straight to send_reply()). */
static void
reply (PlSmtpServer *self,
       guint         code,
       const char   *format,
       ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  send_reply (self, code, text);
}

/* A reply from a callback (or a check), which the engine now owns. */
static void
send_reply_take (PlSmtpServer *self,
                 PlSmtpReply  *taken)
{
  g_autoptr(PlSmtpReply) r = taken;

  send_reply (self, r->code, r->text);
}

/*
 * RFC 4954 section 4: "334" SP [base64]. The challenge is shown decoded,
 * as everything base64 in the transcript is. An empty challenge still has
 * its space, which pl_smtp_reply_append() would drop.
 */
static void
send_challenge (PlSmtpServer *self,
                const char   *b64)
{
  char *shown = NULL;

  g_byte_array_append (self->wire, (const guint8 *) "334 ", 4);
  g_byte_array_append (self->wire, (const guint8 *) b64, (guint) strlen (b64));
  if (pl_engine_base_wants_events (self->base))
    {
      g_autofree char *line = g_strndup ((const char *) self->wire->data, self->wire->len);

      shown = pl_smtp_annotate_base64 (line, b64);
    }
  g_byte_array_append (self->wire, (const guint8 *) "\r\n", 2);
  send_wire (self, 334, shown);
}

/* A callback's reply, or NULL, checked before it goes on the wire. */
static gboolean
reply_is_sane (const PlSmtpReply *r)
{
  return r != NULL && ((r->code >= 200 && r->code <= 299) || (r->code >= 400 && r->code <= 599));
}

/* The state -------------------------------------------------------------------------- */

static const char *
pl_smtp_server_state_name (PlEngine *engine,
                           guint     state)
{
  static const char *const names[] = {
    [PL_SMTP_SERVER_CONNECTED] = "CONNECTED",
    [PL_SMTP_SERVER_READY] = "READY",
    [PL_SMTP_SERVER_AUTH] = "AUTH",
    [PL_SMTP_SERVER_MAIL] = "MAIL",
    [PL_SMTP_SERVER_RCPT] = "RCPT",
    [PL_SMTP_SERVER_DATA] = "DATA",
    [PL_SMTP_SERVER_CLOSED] = "CLOSED",
  };

  return state < G_N_ELEMENTS (names) ? names[state] : "?";
}

static PlSmtpServerState
get_state (PlSmtpServer *self)
{
  return (PlSmtpServerState) pl_engine_base_get_state (self->base);
}

static void
set_state (PlSmtpServer      *self,
           PlSmtpServerState  state)
{
  pl_engine_base_set_state (self->base, state);
}

/* A message buffer bigger than this is given back after its message; a smaller one is kept for the next. */
#define DATA_KEEP_LIMIT (64 * 1024)

static void
clear_data (PlSmtpServer *self)
{
  if (self->data_raw != NULL && self->data_raw->len > DATA_KEEP_LIMIT)
    g_clear_pointer (&self->data_raw, g_byte_array_unref);
  else if (self->data_raw != NULL)
    g_byte_array_set_size (self->data_raw, 0);
  self->data_size = 0;
  self->data_dropped = 0;
  self->data_long_lines = 0;
  self->data_long_discarded = 0;
  self->data_has_nul = FALSE;
}

/*
 * RFC 5321 4.1.1.5 (RSET) and 4.1.4 (a new EHLO): the sender, recipients
 * and content are forgotten; the greeting and the login stay.
 */
static void
reset_transaction (PlSmtpServer *self)
{
  g_clear_pointer (&self->mail_from, g_free);
  g_ptr_array_set_size (self->recipients, 0);
  self->body_8bitmime = FALSE;
  clear_data (self);
  set_state (self, self->helo != NULL ? PL_SMTP_SERVER_READY : PL_SMTP_SERVER_CONNECTED);
}

static void
end_session (PlSmtpServer *self,
             gboolean      failed)
{
  g_clear_pointer (&self->mail_from, g_free);
  g_ptr_array_set_size (self->recipients, 0);
  clear_data (self);
  set_state (self, PL_SMTP_SERVER_CLOSED);
  pl_engine_finish (PL_ENGINE (self), failed);
}

/* Checks (the argument half of each row) --------------------------------------------- */

static PlSmtpReply *
check_any (PlSmtpServer *self,
           SmtpRequest  *request)
{
  return NULL;
}

static gboolean
is_blank (const char *text)
{
  for (; *text != '\0'; text++)
    if (*text != ' ' && *text != '\t')
      return FALSE;
  return TRUE;
}

static PlSmtpReply *
check_no_args (PlSmtpServer *self,
               SmtpRequest  *request)
{
  if (!is_blank (request->args))
    return pl_smtp_reply_new (501, "Syntax: %s takes no arguments", request->verb);
  return NULL;
}

/* RFC 5321 4.1.1.1: HELO and EHLO name the client; the server "MUST NOT" refuse a name it cannot verify. */
static PlSmtpReply *
check_hostname (PlSmtpServer *self,
                SmtpRequest  *request)
{
  if (is_blank (request->args))
    return pl_smtp_reply_new (501, "Syntax: %s hostname", request->verb);
  return NULL;
}

static PlSmtpReply *
check_required (PlSmtpServer *self,
                SmtpRequest  *request)
{
  if (is_blank (request->args))
    return pl_smtp_reply_new (501, "Syntax: %s address", request->verb);
  return NULL;
}

static PlSmtpReply *
syntax_reply (const char   *usage,
              const GError *error)
{
  return pl_smtp_reply_new (501, "Syntax: %s (%s)", usage, error->message);
}

/* RFC 1870 section 6: SIZE=<octets>, at most 20 digits. */
static PlSmtpReply *
check_size_param (PlSmtpServer      *self,
                  const PlSmtpParam *param)
{
  guint64 size = 0;

  if (param->value == NULL || strlen (param->value) > 20)
    return pl_smtp_reply_new (501, "Syntax: SIZE=<number of octets>");
  for (const char *p = param->value; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return pl_smtp_reply_new (501, "Syntax: SIZE=<number of octets>");
      size = size > G_MAXUINT64 / 10 - 1 ? G_MAXUINT64 : size * 10 + (guint64) (*p - '0');
    }
  if (size > self->max_message_size)
    return pl_smtp_reply_new (552, "Message size exceeds fixed maximum message size (%" G_GSIZE_FORMAT " octets)",
                              self->max_message_size);
  return NULL;
}

/* RFC 5321 4.1.1.2, with the parameters of SIZE (RFC 1870), 8BITMIME (RFC 6152) and AUTH (RFC 4954 5). */
static PlSmtpReply *
check_mail (PlSmtpServer *self,
            SmtpRequest  *request)
{
  g_autoptr(GError) error = NULL;

  request->path = pl_smtp_parse_path (request->args, "FROM", &error);
  if (request->path == NULL)
    return syntax_reply ("MAIL FROM:<address>", error);
  if (request->path->address[0] != '\0' && request->path->domain == NULL)
    return pl_smtp_reply_new (501, "Syntax: MAIL FROM:<address> (the address has no @domain)");

  for (guint i = 0; i < request->path->params->len; i++)
    {
      const PlSmtpParam *param = g_ptr_array_index (request->path->params, i);

      if (strcmp (param->keyword, "SIZE") == 0)
        {
          PlSmtpReply *refusal = check_size_param (self, param);
          if (refusal != NULL)
            return refusal;
        }
      else if (strcmp (param->keyword, "BODY") == 0)
        {
          if (param->value != NULL && g_ascii_strcasecmp (param->value, "8BITMIME") == 0)
            request->body_8bitmime = TRUE;
          else if (param->value == NULL || g_ascii_strcasecmp (param->value, "7BIT") != 0)
            return pl_smtp_reply_new (501, "Syntax: BODY=7BIT or BODY=8BITMIME");
        }
      else if (strcmp (param->keyword, "AUTH") == 0 && self->offer_auth && param->value != NULL)
        {
          /* RFC 4954 section 5: who submitted it at the previous hop; nothing to act on here. */
        }
      else
        return pl_smtp_reply_new (555, "MAIL FROM parameter %s not recognized or not implemented",
                                  param->keyword);
    }
  return NULL;
}

/* RFC 5321 4.1.1.3. The limit on recipients comes before the policy, so 452 costs the callback nothing. */
static PlSmtpReply *
check_rcpt (PlSmtpServer *self,
            SmtpRequest  *request)
{
  g_autoptr(GError) error = NULL;

  request->path = pl_smtp_parse_path (request->args, "TO", &error);
  if (request->path == NULL)
    return syntax_reply ("RCPT TO:<address>", error);
  if (request->path->address[0] == '\0')
    return pl_smtp_reply_new (501, "Syntax: RCPT TO:<address> (the null path is only for senders)");
  if (request->path->params->len > 0)
    return pl_smtp_reply_new (555, "RCPT TO parameter %s not recognized or not implemented",
                              ((PlSmtpParam *) g_ptr_array_index (request->path->params, 0))->keyword);
  /* RFC 5321 4.5.3.1.10: "452 too many recipients", for the extras only. */
  if (self->recipients->len >= self->max_recipients)
    return pl_smtp_reply_new (452, "Too many recipients (at most %u per message)", self->max_recipients);
  return NULL;
}

/* RFC 4954 section 4. */
static PlSmtpReply *
check_auth (PlSmtpServer *self,
            SmtpRequest  *request)
{
  g_auto(GStrv) words = NULL;
  g_autofree char *stripped = NULL;

  if (!self->offer_auth)
    return pl_smtp_reply_new (502, "Command not implemented: AUTH is not offered here");
  if (self->auth_user != NULL)
    return pl_smtp_reply_new (503, "Bad sequence of commands: already authenticated");
  if (!self->esmtp)
    return pl_smtp_reply_new (503, "Bad sequence of commands: send EHLO first");
  stripped = g_strstrip (g_strdup (request->args));
  words = g_strsplit (stripped, " ", -1);
  if (words[0] == NULL || words[0][0] == '\0')
    return pl_smtp_reply_new (501, "Syntax: AUTH mechanism [initial-response]");
  if (g_ascii_strcasecmp (words[0], "PLAIN") != 0 && g_ascii_strcasecmp (words[0], "LOGIN") != 0)
    return pl_smtp_reply_new (504, "Unrecognized authentication type");
  if (words[1] != NULL && words[2] != NULL)
    return pl_smtp_reply_new (501, "Syntax: AUTH mechanism [initial-response]");
  return NULL;
}

/* Handlers (the action half of each row) ---------------------------------------------- */

static void
greet (PlSmtpServer *self,
       const char   *name,
       gboolean      esmtp)
{
  g_free (self->helo);
  /* Shown in replies and the Received: header: printable ASCII only. */
  self->helo = g_strstrip (g_strdup (name));
  for (char *c = self->helo; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || (guchar) *c > 0x7e)
      *c = '?';
  self->esmtp = esmtp;
  reset_transaction (self);
}

/* RFC 5321 4.1.1.1: "<server> Hello <client>, pleased to meet you", then @more (the extensions) if any. */
static void
send_hello (PlSmtpServer *self,
            const char   *more)
{
  g_autoptr(GString) text = g_string_sized_new (128);

  g_string_append (text, self->hostname);
  g_string_append (text, " Hello ");
  g_string_append (text, self->helo);
  g_string_append (text, ", pleased to meet you");
  if (more != NULL)
    {
      g_string_append_c (text, '\n');
      g_string_append (text, more);
    }
  send_reply (self, 250, text->str);
}

/* RFC 5321 4.1.1.1. */
static void
handle_helo (PlSmtpServer *self,
             SmtpRequest  *request)
{
  greet (self, request->args, FALSE);
  send_hello (self, NULL);
}

/* RFC 5321 4.1.1.1 and 2.2.2: the first line names the server, each further one an extension. */
static void
handle_ehlo (PlSmtpServer *self,
             SmtpRequest  *request)
{
  greet (self, request->args, TRUE);
  send_hello (self, self->extensions);
}

/* RFC 5321 4.1.1.2: MAIL starts a transaction; check_sender may refuse it. */
static void
handle_mail (PlSmtpServer *self,
             SmtpRequest  *request)
{
  const char *address = request->path->address;
  PlSmtpReply *verdict = NULL;

  if (self->callbacks.check_sender != NULL)
    verdict = self->callbacks.check_sender (self, address, self->auth_user, self->user_data);
  if (verdict != NULL && !reply_is_sane (verdict))
    {
      g_warning ("check_sender gave reply code %u; answering 451", verdict->code);
      pl_smtp_reply_free (verdict);
      verdict = pl_smtp_reply_new (451, "Requested action aborted: local error in processing");
    }
  if (verdict != NULL && verdict->code >= 400)
    {
      send_reply_take (self, verdict);
      return;
    }

  self->mail_from = g_strdup (address);
  self->body_8bitmime = request->body_8bitmime;
  set_state (self, PL_SMTP_SERVER_MAIL);
  if (verdict != NULL)
    send_reply_take (self, verdict);
  else
    {
      g_autofree char *text = g_strconcat (address[0] != '\0' ? address : "<>", " ... Sender ok", NULL);

      send_reply (self, 250, text);
    }
}

/* RFC 5321 4.1.1.3: each recipient is the policy's to accept (relaying, local users). */
static void
handle_rcpt (PlSmtpServer *self,
             SmtpRequest  *request)
{
  const char *address = request->path->address;
  PlSmtpReply *verdict;

  verdict = self->callbacks.check_recipient (self, address, self->auth_user, self->trusted,
                                             self->user_data);
  if (verdict != NULL && !reply_is_sane (verdict))
    {
      g_warning ("check_recipient gave reply code %u; answering 451", verdict->code);
      pl_smtp_reply_free (verdict);
      verdict = pl_smtp_reply_new (451, "Requested action aborted: local error in processing");
    }
  if (verdict != NULL && verdict->code >= 400)
    {
      send_reply_take (self, verdict);
      return;
    }

  g_ptr_array_add (self->recipients, g_strdup (address));
  set_state (self, PL_SMTP_SERVER_RCPT);
  if (verdict != NULL)
    send_reply_take (self, verdict);
  else
    reply (self, 250, "%s ... Recipient ok", address);
}

/* RFC 5321 4.1.1.4: 354, then the message up to a line holding a single ".". */
static void
handle_data (PlSmtpServer *self,
             SmtpRequest  *request)
{
  clear_data (self);
  /* Room for a short message at once, not a realloc every few lines (kept from the last one if any). */
  if (self->data_raw == NULL)
    self->data_raw = g_byte_array_sized_new (2048);
  set_state (self, PL_SMTP_SERVER_DATA);
  send_reply (self, 354, "Enter mail, end with \".\" on a line by itself");
}

static void
handle_rset (PlSmtpServer *self,
             SmtpRequest  *request)
{
  reset_transaction (self);
  send_reply (self, 250, "OK");
}

/* RFC 5321 4.1.1.9: NOOP may carry a string, which is ignored. */
static void
handle_noop (PlSmtpServer *self,
             SmtpRequest  *request)
{
  send_reply (self, 250, "OK");
}

/*
 * RFC 5321 3.5.3 and 7.3: VRFY would tell a spammer which addresses exist;
 * 252 is the answer that says nothing and is still not an error.
 */
static void
handle_vrfy (PlSmtpServer *self,
             SmtpRequest  *request)
{
  send_reply (self, 252, "Cannot VRFY user, but will accept message and attempt delivery");
}

/* RFC 5321 4.1.1.8. */
static void
handle_help (PlSmtpServer *self,
             SmtpRequest  *request)
{
  reply (self, 214, "This is Postlab; the commands are in RFC 5321\n"
         "HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT%s",
         self->offer_auth ? " AUTH" : "");
}

/* RFC 5321 4.1.1.10: 221, then the server closes. */
static void
handle_quit (PlSmtpServer *self,
             SmtpRequest  *request)
{
  g_autofree char *text = g_strconcat (self->hostname, " closing connection", NULL);

  send_reply (self, 221, text);
  end_session (self, FALSE);
}

/* RFC 5321 4.2.4: a verb the server knows of but does not do. */
static void
handle_not_implemented (PlSmtpServer *self,
                        SmtpRequest  *request)
{
  send_reply (self, 502, "Command not implemented");
}

/* AUTH (RFC 4954) ------------------------------------------------------------------- */

static void
end_sasl (PlSmtpServer *self)
{
  self->sasl = SASL_NONE;
  g_clear_pointer (&self->sasl_user, g_free);
  if (get_state (self) == PL_SMTP_SERVER_AUTH)
    set_state (self, PL_SMTP_SERVER_READY);
}

/*
 * The last step of either mechanism. A wrong password is answered 535 only
 * after the delay (the driver holds the output back), so guessing is slow.
 */
static void
try_login (PlSmtpServer *self,
           const char   *user,
           const char   *password)
{
  gboolean ok = self->callbacks.check_password (self, user, password, self->user_data);

  end_sasl (self);
  if (!ok)
    {
      if (self->auth_failure_delay_ms > 0)
        pl_engine_request_delay (PL_ENGINE (self), self->auth_failure_delay_ms);
      send_reply (self, 535, "Authentication credentials invalid");
      return;
    }
  self->auth_user = g_strdup (user);
  send_reply (self, 235, "Authentication successful");
}

/* RFC 4616 section 2: authzid NUL authcid NUL passwd. */
static void
finish_plain (PlSmtpServer *self,
              const guint8 *decoded,
              gsize         len)
{
  const guint8 *nul1 = len > 0 ? memchr (decoded, '\0', len) : NULL;
  const guint8 *nul2 = nul1 != NULL ? memchr (nul1 + 1, '\0', len - (gsize) (nul1 + 1 - decoded)) : NULL;
  g_autofree char *authzid = NULL;
  g_autofree char *authcid = NULL;
  g_autofree char *password = NULL;

  if (nul2 == NULL || memchr (nul2 + 1, '\0', len - (gsize) (nul2 + 1 - decoded)) != NULL)
    {
      end_sasl (self);
      send_reply (self, 501, "Malformed PLAIN response: expected authzid, user and password separated by NUL");
      return;
    }
  authzid = g_strndup ((const char *) decoded, (gsize) (nul1 - decoded));
  authcid = g_strndup ((const char *) nul1 + 1, (gsize) (nul2 - nul1 - 1));
  password = g_strndup ((const char *) nul2 + 1, len - (gsize) (nul2 + 1 - decoded));
  if (authzid[0] != '\0' && strcmp (authzid, authcid) != 0)
    {
      end_sasl (self);
      send_reply (self, 535, "Authentication credentials invalid: cannot act on behalf of another user");
      return;
    }
  try_login (self, authcid, password);
}

/* A SASL response: base64, or "*" to give up (RFC 4954 section 4). */
static void
handle_sasl_response (PlSmtpServer *self,
                      const PlLine *line)
{
  g_autofree char *text = NULL;
  g_autofree guint8 *decoded = NULL;
  gsize len = 0;

  if (line->flags & (PL_LINE_TOO_LONG | PL_LINE_HAS_NUL | PL_LINE_LONE_CR))
    {
      end_sasl (self);
      send_reply (self, 501, "Cannot decode the response: it is not base64");
      return;
    }
  text = g_strndup ((const char *) line->data, line->len);
  if (strcmp (text, "*") == 0)
    {
      end_sasl (self);
      send_reply (self, 501, "Authentication cancelled");
      return;
    }
  decoded = pl_smtp_base64_decode (text, &len);
  if (decoded == NULL)
    {
      end_sasl (self);
      send_reply (self, 501, "Cannot decode the response: it is not base64");
      return;
    }

  switch (self->sasl)
    {
    case SASL_PLAIN:
      finish_plain (self, decoded, len);
      break;
    case SASL_LOGIN_USER:
      if (memchr (decoded, '\0', len) != NULL)
        {
          end_sasl (self);
          send_reply (self, 501, "Malformed user name");
          return;
        }
      self->sasl_user = g_strndup ((const char *) decoded, len);
      self->sasl = SASL_LOGIN_PASSWORD;
      send_challenge (self, LOGIN_PASS_CHALLENGE);
      break;
    case SASL_LOGIN_PASSWORD:
      {
        g_autofree char *user = g_steal_pointer (&self->sasl_user);
        g_autofree char *password = g_strndup ((const char *) decoded, len);

        if (memchr (decoded, '\0', len) != NULL)
          {
            end_sasl (self);
            send_reply (self, 501, "Malformed password");
            return;
          }
        try_login (self, user, password);
      }
      break;
    case SASL_NONE:
    default:
      g_assert_not_reached ();
    }
}

/*
 * RFC 4954 section 4: AUTH mechanism [initial-response]; "=" is an empty
 * initial response. LOGIN is not in an RFC, but every client speaks it:
 * "334 Username:", "334 Password:", both in base64.
 */
static void
handle_auth (PlSmtpServer *self,
             SmtpRequest  *request)
{
  g_autofree char *stripped = g_strstrip (g_strdup (request->args));
  g_auto(GStrv) words = g_strsplit (stripped, " ", -1);
  const char *initial = words[1];
  gboolean plain = g_ascii_strcasecmp (words[0], "PLAIN") == 0;

  set_state (self, PL_SMTP_SERVER_AUTH);
  if (initial == NULL)
    {
      self->sasl = plain ? SASL_PLAIN : SASL_LOGIN_USER;
      send_challenge (self, plain ? "" : LOGIN_USER_CHALLENGE);
      return;
    }

  {
    g_autofree guint8 *decoded = NULL;
    gsize len = 0;

    if (strcmp (initial, "=") == 0)
      decoded = g_malloc0 (1);
    else
      decoded = pl_smtp_base64_decode (initial, &len);
    if (decoded == NULL)
      {
        end_sasl (self);
        send_reply (self, 501, "Cannot decode the response: it is not base64");
        return;
      }
    if (plain)
      {
        self->sasl = SASL_PLAIN;
        finish_plain (self, decoded, len);
        return;
      }
    if (memchr (decoded, '\0', len) != NULL)
      {
        end_sasl (self);
        send_reply (self, 501, "Malformed user name");
        return;
      }
    self->sasl_user = g_strndup ((const char *) decoded, len);
    self->sasl = SASL_LOGIN_PASSWORD;
    send_challenge (self, LOGIN_PASS_CHALLENGE);
  }
}

/*
 * The commands: adding one is adding a row. A command outside its states
 * is answered 503 and the session goes on (RFC 5321 4.2.4, 4.3.2); before
 * HELO/EHLO, a command that needs a greeting says so instead.
 */
static const SmtpCommand commands[] = {
  { "HELO", IN_ANY,          check_hostname, handle_helo, NULL },
  { "EHLO", IN_ANY,          check_hostname, handle_ehlo, NULL },
  { "MAIL", IN_READY,        check_mail,     handle_mail, "sender already given (send RSET to start over)" },
  { "RCPT", IN_MAIL | IN_RCPT, check_rcpt,   handle_rcpt, "need MAIL before RCPT" },
  { "DATA", IN_RCPT,         check_no_args,  handle_data, "need RCPT before DATA" },
  { "RSET", IN_ANY,          check_no_args,  handle_rset, NULL },
  { "NOOP", IN_ANY,          check_any,      handle_noop, NULL },
  { "VRFY", IN_ANY,          check_required, handle_vrfy, NULL },
  { "HELP", IN_ANY,          check_any,      handle_help, NULL },
  { "QUIT", IN_ANY,          check_no_args,  handle_quit, NULL },
  { "AUTH", IN_READY,        check_auth,     handle_auth, "AUTH is not allowed during a mail transaction" },
  { "EXPN", IN_ANY,          check_any,      handle_not_implemented, NULL },
  { "TURN", IN_ANY,          check_any,      handle_not_implemented, NULL },
  { "ETRN", IN_ANY,          check_any,      handle_not_implemented, NULL },
  { "SEND", IN_ANY,          check_any,      handle_not_implemented, NULL },
  { "SOML", IN_ANY,          check_any,      handle_not_implemented, NULL },
  { "SAML", IN_ANY,          check_any,      handle_not_implemented, NULL },
  { "BDAT", IN_ANY,          check_any,      handle_not_implemented, NULL },
  { "STARTTLS", IN_ANY,      check_any,      handle_not_implemented, NULL },
};

static const SmtpCommand *
find_command (const char *verb)
{
  /* The first octet first: a strcmp() call for each row cost more than the rest of finding it. */
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].verb[0] == verb[0] && strcmp (commands[i].verb, verb) == 0)
      return &commands[i];
  return NULL;
}

static void
dispatch (PlSmtpServer *self,
          const char   *verb,
          const char   *args)
{
  const SmtpCommand *command = find_command (verb);
  guint state = get_state (self);
  SmtpRequest request = { verb, args, NULL, FALSE };
  PlSmtpReply *refusal;

  if (command == NULL)
    {
      reply (self, 500, "Syntax error, command unrecognized: %s", verb);
      return;
    }
  if ((command->states & (1u << state)) == 0)
    {
      if (state == PL_SMTP_SERVER_CONNECTED && (command->states & IN_READY) != 0)
        send_reply (self, 503, "Bad sequence of commands: send HELO or EHLO first");
      else
        reply (self, 503, "Bad sequence of commands: %s", command->not_now);
      return;
    }
  refusal = command->check (self, &request);
  if (refusal != NULL)
    send_reply_take (self, refusal);
  else
    command->handler (self, &request);
  pl_smtp_path_free (request.path);
}

/* The message (DATA) -------------------------------------------------------------------- */

/*
 * RFC 5321 4.4: each hop adds a trace line at the top, so the path shows in
 * the message itself. "for" only with one recipient, not to tell each
 * recipient who else got it; "ESMTPA" after AUTH (RFC 3848).
 */
static char *
make_received (PlSmtpServer *self,
               const char   *id)
{
  g_autofree char *date = self->callbacks.now (self, self->user_data);
  const char *with = !self->esmtp ? "SMTP" : self->auth_user != NULL ? "ESMTPA" : "ESMTP";
  const char *address = self->client_address != NULL ? self->client_address : "unknown";

  if (self->recipients->len == 1)
    return g_strconcat ("Received: from ", self->helo, " (", address, ")\r\n"
                        "\tby ", self->hostname, " (Postlab) with ", with, " id ", id, "\r\n"
                        "\tfor <", (const char *) g_ptr_array_index (self->recipients, 0), ">; ",
                        date != NULL ? date : "", "\r\n", NULL);
  return g_strconcat ("Received: from ", self->helo, " (", address, ")\r\n"
                      "\tby ", self->hostname, " (Postlab) with ", with, " id ", id, ";\r\n"
                      "\t", date != NULL ? date : "", "\r\n", NULL);
}

/*
 * The message as it is stored: the Received: header, then each line of the
 * data with its dot-stuffing undone (RFC 5321 4.5.2) and a CRLF line end,
 * whatever ended it on the wire. @raw holds the data without its "." line.
 */
static GBytes *
make_message (const char   *received,
              const guint8 *raw,
              gsize         len,
              gsize         size)
{
  GByteArray *out = g_byte_array_sized_new ((guint) MIN (strlen (received) + size, G_MAXUINT));
  gsize start = 0;
  gsize run = 0;

  g_byte_array_append (out, (const guint8 *) received, (guint) strlen (received));
  /* Lines that end in CRLF and start with no dot are kept as they are: copied in runs. */
  while (start < len)
    {
      const guint8 *lf = memchr (raw + start, '\n', len - start);
      gsize end = lf != NULL ? (gsize) (lf - raw) : len;
      gsize next = lf != NULL ? end + 1 : len;

      if (raw[start] == '.' || lf == NULL || end == start || raw[end - 1] != '\r')
        {
          gsize from = start;
          gsize to = end;

          g_byte_array_append (out, raw + run, (guint) (start - run));
          if (to > from && raw[to - 1] == '\r')
            to--;
          if (to > from && raw[from] == '.')
            from++;
          g_byte_array_append (out, raw + from, (guint) (to - from));
          g_byte_array_append (out, (const guint8 *) "\r\n", 2);
          run = next;
        }
      start = next;
    }
  g_byte_array_append (out, raw + run, (guint) (len - run));
  return g_byte_array_free_to_bytes (out);
}

/* Hands the message to the world; the client hears 250 only when it is stored. */
static void
deliver (PlSmtpServer *self)
{
  g_autofree char *id = NULL;
  g_autofree char *received = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new ();
  PlSmtpEnvelope envelope;
  PlSmtpReply *verdict;
  gsize terminator = 0;

  if (self->callbacks.new_id != NULL)
    id = self->callbacks.new_id (self, self->user_data);
  if (id == NULL)
    id = g_strdup_printf ("%u", self->id_counter + 1);
  self->id_counter++;

  /* The raw data ends with its "." line, ".\r\n" or ".\n". */
  terminator = self->data_raw->len >= 3 && self->data_raw->data[self->data_raw->len - 2] == '\r' ? 3 : 2;
  received = make_received (self, id);
  message = make_message (received, self->data_raw->data, self->data_raw->len - terminator,
                          self->data_size);

  for (guint i = 0; i < self->recipients->len; i++)
    g_ptr_array_add (recipients, g_ptr_array_index (self->recipients, i));
  g_ptr_array_add (recipients, NULL);
  envelope = (PlSmtpEnvelope) {
    .id = id,
    .helo = self->helo,
    .client_address = self->client_address,
    .mail_from = self->mail_from,
    .recipients = (const char *const *) recipients->pdata,
    .n_recipients = self->recipients->len,
    .auth_user = self->auth_user,
    .trusted = self->trusted,
    .body_8bitmime = self->body_8bitmime,
  };

  verdict = self->callbacks.deliver (self, &envelope, message, self->user_data);
  if (verdict != NULL && !reply_is_sane (verdict))
    {
      g_warning ("deliver gave reply code %u; answering 451", verdict->code);
      g_clear_pointer (&verdict, pl_smtp_reply_free);
    }
  if (verdict == NULL)
    verdict = pl_smtp_reply_new (451, "Requested action aborted: local error in processing");
  if (verdict->code < 300)
    self->n_delivered++;
  send_reply_take (self, verdict);
}

/* The message as the client sent it, one unit (RFC 5321 4.1.1.4), shown with its dot-stuffing undone. */
static void
emit_data (PlSmtpServer *self)
{
  PlEvent *event;

  if (!pl_engine_base_wants_received_events (self->base))
    return;
  event = pl_event_new_body (PL_EVENT_DATA, PL_DIR_CLIENT, self->data_raw->data, self->data_raw->len, NULL);
  pl_engine_base_emit (self->base, event);
  pl_event_unref (event);
}

/*
 * The "." line has come: one event for the whole content (RFC 5321 4.1.1.4),
 * then the verdict. Whatever it is, the transaction is over (4.1.1.4: the
 * buffers are cleared after DATA, whether it worked or not).
 */
static void
finish_data (PlSmtpServer *self)
{
  emit_data (self);

  if (self->data_long_lines > 0)
    pl_engine_emit_note (PL_ENGINE (self), "%u message line%s longer than %u octets: "
                         "%" G_GSIZE_FORMAT " octets discarded",
                         self->data_long_lines, plural (self->data_long_lines), LINE_LIMIT,
                         self->data_long_discarded);
  if (self->data_dropped > 0)
    pl_engine_emit_note (PL_ENGINE (self), "message over the %" G_GSIZE_FORMAT "-octet limit: "
                         "%" G_GSIZE_FORMAT " octets read and not kept",
                         self->max_message_size, self->data_dropped);

  if (self->lost)
    pl_engine_emit_note (PL_ENGINE (self), "connection lost before the message was answered: "
                         "nothing delivered");
  else if (self->data_size > self->max_message_size)
    reply (self, 552, "Message size exceeds fixed maximum message size (%" G_GSIZE_FORMAT " octets)",
           self->max_message_size);
  else if (self->data_long_lines > 0)
    reply (self, 500, "Line too long: message lines are limited to %u octets", LINE_LIMIT);
  else if (self->data_has_nul)
    send_reply (self, 554, "Transaction failed: the message contains a NUL octet");
  else
    deliver (self);

  reset_transaction (self);
}

/* RFC 2920 and 5321 2.3.8: noted once per session, for commands and message lines alike. */
static void
note_bare_lf (PlSmtpServer *self,
              const PlLine *line)
{
  if (!(line->flags & PL_LINE_BARE_LF) || self->warned_bare_lf)
    return;
  self->warned_bare_lf = TRUE;
  pl_engine_emit_note (PL_ENGINE (self), "client ends its lines with a bare LF, not CRLF "
                       "(RFC 5321 2.3.8); accepted");
}

/*
 * One line of the message. Everything is read up to the "." line, even past
 * the size limit (RFC 1870 section 6.3: the server must still find the end
 * of the data), but nothing past the limit is kept. TRUE for the "." line.
 */
static gboolean
handle_data_line (PlSmtpServer *self,
                  const PlLine *line)
{
  gsize content;

  if (line->len == 1 && line->data[0] == '.' && !(line->flags & PL_LINE_TOO_LONG))
    {
      g_byte_array_append (self->data_raw, line->data, (guint) line->raw_len);
      note_bare_lf (self, line);
      finish_data (self);
      return TRUE;
    }

  if (line->flags & PL_LINE_TOO_LONG)
    {
      self->data_long_lines++;
      self->data_long_discarded += line->discarded;
    }
  if (line->flags & PL_LINE_HAS_NUL)
    self->data_has_nul = TRUE;

  content = line->len - (line->len > 0 && line->data[0] == '.' ? 1 : 0) + 2;
  self->data_size += content;
  if (self->data_size <= self->max_message_size)
    g_byte_array_append (self->data_raw, line->data, (guint) line->raw_len);
  else
    self->data_dropped += line->raw_len;
  note_bare_lf (self, line);
  return FALSE;
}

/*
 * The ordinary lines of a message, many at once: those that end in CRLF,
 * hold no NUL, are within the line limit and keep the message within its
 * size, up to the first line that is none of these or is the "." line.
 * They are kept as handle_data_line() keeps them, one by one, would; the
 * line that stops the run is left for it, with everything it notes. A
 * message is most of what a server reads: this is its loop.
 */
static void
take_data_run (PlSmtpServer *self)
{
  gsize avail;
  const guint8 *data = pl_line_reader_peek (self->reader, &avail);
  const guint8 *nul;
  gsize end;
  gsize pos = 0;
  gsize size = self->data_size;

  if (data == NULL || avail == 0)
    return;
  /* A NUL anywhere stops the run before its line. */
  nul = memchr (data, '\0', avail);
  end = nul != NULL ? (gsize) (nul - data) : avail;
  while (pos < end)
    {
      const guint8 *lf = memchr (data + pos, '\n', end - pos);
      gsize raw_len;
      gsize content;

      if (lf == NULL)
        break;
      raw_len = (gsize) (lf - (data + pos)) + 1;
      /* Bare LF, over the limit, or the "." line: one by one. */
      if (raw_len < 2 || lf[-1] != '\r' || raw_len > LINE_LIMIT
          || (raw_len == 3 && data[pos] == '.'))
        break;
      content = raw_len - (data[pos] == '.' ? 1 : 0);
      if (size + content > self->max_message_size)
        break;
      size += content;
      pos += raw_len;
    }
  if (pos == 0)
    return;
  g_byte_array_append (self->data_raw, data, (guint) pos);
  self->data_size = size;
  pl_line_reader_read_raw (self->reader, pos, &avail);
}

/* Reading -------------------------------------------------------------------------------- */

/* The event of a command line (exact octets; credentials in base64 shown decoded, which is the lesson of AUTH). */
static void
emit_command (PlSmtpServer *self,
              const PlLine *line,
              gboolean      in_sasl,
              const char   *verb,
              const char   *args)
{
  g_autoptr(PlEvent) event = pl_event_new_unit (PL_EVENT_COMMAND, PL_DIR_CLIENT, line->data, line->raw_len,
                                                NULL, NULL, in_sasl ? NULL : verb,
                                                in_sasl || verb == NULL ? NULL : args);

  if (in_sasl)
    {
      if (!(line->flags & (PL_LINE_TOO_LONG | PL_LINE_HAS_NUL)))
        {
          g_autofree char *b64 = g_strndup ((const char *) line->data, line->len);
          pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, b64));
        }
    }
  else if (verb != NULL)
    {
      if (strcmp (verb, "AUTH") == 0)
        {
          g_auto(GStrv) words = g_strsplit (args, " ", -1);

          if (words[0] != NULL && words[1] != NULL)
            pl_event_take_text (event, pl_smtp_annotate_base64 (event->text, words[1]));
        }
    }
  pl_engine_base_emit (self->base, event);
}

/*
 * One line from the client: its event first, then what it gets. Bad
 * framing is answered 500 and never acted on. The verb and arguments are
 * read into buffers of the engine's: a line costs no allocation here.
 */
static void
handle_line (PlSmtpServer *self,
             const PlLine *line)
{
  char verb[PL_SMTP_MAX_VERB_LEN + 1];
  gsize verb_len = 0;
  gsize args_start = 0;
  PlSmtpServerState state = get_state (self);
  gboolean in_sasl = state == PL_SMTP_SERVER_AUTH;
  gboolean parsed = FALSE;

  if (state == PL_SMTP_SERVER_DATA)
    {
      handle_data_line (self, line);
      return;
    }

  if (!in_sasl && pl_smtp_split_command (line->data, line->len, &verb_len, &args_start))
    {
      parsed = TRUE;
      for (gsize i = 0; i < verb_len; i++)
        verb[i] = pl_engine_ascii_toupper ((char) line->data[i]);
      verb[verb_len] = '\0';
      g_string_truncate (self->args, 0);
      g_string_append_len (self->args, (const char *) line->data + args_start, (gssize) (line->len - args_start));
    }
  if (pl_engine_base_wants_received_events (self->base))
    emit_command (self, line, in_sasl, parsed ? verb : NULL, self->args->str);

  if (line->flags & PL_LINE_TOO_LONG)
    pl_engine_emit_note (PL_ENGINE (self), "client line longer than %u octets: "
                         "%" G_GSIZE_FORMAT " more octets discarded", LINE_LIMIT, line->discarded);
  note_bare_lf (self, line);

  if (self->lost)
    {
      self->unanswered++;
      return;
    }

  if (in_sasl)
    handle_sasl_response (self, line);
  else if (line->flags & PL_LINE_TOO_LONG)
    send_reply (self, 500, "Line too long");
  else if (line->flags & PL_LINE_HAS_NUL)
    send_reply (self, 500, "Syntax error: NUL octet in command");
  else if (line->flags & PL_LINE_LONE_CR)
    send_reply (self, 500, "Syntax error: stray CR in command");
  else if (line->len == 0)
    send_reply (self, 500, "Syntax error: empty command");
  else if (!parsed)
    send_reply (self, 500, "Syntax error, command unrecognized");
  else
    dispatch (self, verb, self->args->str);
}

static gboolean
output_full (PlSmtpServer *self)
{
  return pl_engine_base_get_pending (self->base) >= OUTPUT_HIGH_WATER;
}

/* Pipelined commands (RFC 2920) are answered in order; after QUIT nothing is read. */
static void
process_lines (PlSmtpServer *self)
{
  PlLine line;

  while (!pl_engine_base_is_finished (self->base) && !output_full (self)
         && pl_line_reader_next (self->reader, &line))
    {
      if (get_state (self) != PL_SMTP_SERVER_DATA)
        {
          handle_line (self, &line);
          continue;
        }
      /* The lines of a message get no answer until its "." line: they are read in one go. */
      while (!handle_data_line (self, &line))
        {
          take_data_run (self);
          if (!pl_line_reader_next (self->reader, &line))
            break;
        }
    }
}

static void
pl_smtp_server_receive (PlEngine     *engine,
                        const guint8 *data,
                        gsize         len)
{
  PlSmtpServer *self = PL_SMTP_SERVER (engine);

  /* Lines are read where they arrived; what is left is kept before @data goes away. */
  pl_line_reader_feed_borrowed (self->reader, data, len);
  process_lines (self);
  pl_line_reader_keep (self->reader);
}

static void
pl_smtp_server_output_drained (PlEngine *engine)
{
  PlSmtpServer *self = PL_SMTP_SERVER (engine);

  /* Lines were held back only if some are waiting; most of the time none are. */
  if (pl_line_reader_is_mid_line (self->reader))
    process_lines (self);
}

/* RFC 5321 4.3.1 and 3.1: the 220 greeting opens the session. */
static void
pl_smtp_server_start (PlEngine *engine)
{
  PlSmtpServer *self = PL_SMTP_SERVER (engine);

  send_reply (self, 220, self->greeting);
}

/*
 * The client went away. Whatever it sent is still shown (lines read but
 * held back, a half line, a half message), but none of it is acted on: a
 * message cut off in DATA, or whose "." was never answered, was never
 * acknowledged and is not delivered (RFC 5321 6.1: the sender keeps the
 * responsibility until it has the 250).
 */
static void
pl_smtp_server_connection_lost (PlEngine *engine)
{
  PlSmtpServer *self = PL_SMTP_SERVER (engine);
  PlLine line;
  gsize pending;
  const guint8 *data;
  gsize len = 0;

  if (pl_engine_is_finished (engine))
    return;

  self->lost = TRUE;
  while (pl_line_reader_next (self->reader, &line))
    handle_line (self, &line);

  pending = pl_line_reader_get_buffered (self->reader);
  data = pending > 0 ? pl_line_reader_read_raw (self->reader, pending, &len) : NULL;
  if (get_state (self) == PL_SMTP_SERVER_DATA)
    {
      if (len > 0)
        g_byte_array_append (self->data_raw, data, (guint) len);
      emit_data (self);
      pl_engine_emit_note (engine, "connection lost in the middle of DATA after %" G_GSIZE_FORMAT
                           " octets of message: nothing delivered", self->data_size + len);
    }
  else if (len > 0)
    {
      if (pl_engine_wants_received_events (engine))
        {
          g_autoptr(PlEvent) event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, data, len);

          pl_engine_emit (engine, event);
        }
      pl_engine_emit_note (engine, "connection lost in the middle of a line; "
                           "the last %" G_GSIZE_FORMAT " octets were not a command", len);
    }
  if (self->unanswered > 0)
    pl_engine_emit_note (engine, "connection lost: %u command%s never answered",
                         self->unanswered, plural (self->unanswered));
  end_session (self, TRUE);
}

static void
pl_smtp_server_finalize (GObject *object)
{
  PlSmtpServer *self = PL_SMTP_SERVER (object);

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_free (self->hostname);
  g_free (self->greeting);
  g_free (self->extensions);
  g_free (self->client_address);
  pl_line_reader_free (self->reader);
  g_byte_array_unref (self->wire);
  g_string_free (self->args, TRUE);
  g_free (self->helo);
  g_free (self->auth_user);
  g_free (self->sasl_user);
  g_free (self->mail_from);
  g_ptr_array_unref (self->recipients);
  g_clear_pointer (&self->data_raw, g_byte_array_unref);
  G_OBJECT_CLASS (pl_smtp_server_parent_class)->finalize (object);
}

static void
pl_smtp_server_class_init (PlSmtpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlEngineClass *engine_class = PL_ENGINE_CLASS (klass);

  object_class->finalize = pl_smtp_server_finalize;
  engine_class->start = pl_smtp_server_start;
  engine_class->receive = pl_smtp_server_receive;
  engine_class->connection_lost = pl_smtp_server_connection_lost;
  engine_class->state_name = pl_smtp_server_state_name;
  engine_class->output_drained = pl_smtp_server_output_drained;
}

static void
pl_smtp_server_init (PlSmtpServer *self)
{
  self->base = pl_engine_get_base (PL_ENGINE (self));
  self->reader = pl_line_reader_new (LINE_LIMIT);
  self->wire = g_byte_array_new ();
  self->args = g_string_new (NULL);
  self->recipients = g_ptr_array_new_with_free_func (g_free);
}

static gboolean
config_is_valid (const PlSmtpServerConfig    *config,
                 const PlSmtpServerCallbacks *callbacks)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (config->hostname != NULL && config->hostname[0] != '\0', FALSE);
  g_return_val_if_fail (callbacks != NULL, FALSE);
  g_return_val_if_fail (callbacks->check_recipient != NULL, FALSE);
  g_return_val_if_fail (callbacks->deliver != NULL, FALSE);
  g_return_val_if_fail (callbacks->now != NULL, FALSE);
  g_return_val_if_fail (!config->offer_auth || callbacks->check_password != NULL, FALSE);
  return TRUE;
}

/*
 * Takes the config into an engine that is new or was just cleared
 * (clear_session()). The greeting and the EHLO lines are the same for
 * every session with the same config: those of the session before are
 * kept when they are still right.
 */
static void
configure (PlSmtpServer                *self,
           const PlSmtpServerConfig    *config,
           const PlSmtpServerCallbacks *callbacks,
           gpointer                     user_data,
           GDestroyNotify               destroy)
{
  gsize max_message_size = config->max_message_size > 0 ? config->max_message_size
                                                        : PL_SMTP_SERVER_DEFAULT_MAX_MESSAGE_SIZE;
  gboolean same = self->hostname != NULL && strcmp (self->hostname, config->hostname) == 0
                  && max_message_size == self->max_message_size && config->offer_auth == self->offer_auth
                  && config->greeting == NULL && self->greeting_is_default;

  if (!same)
    {
      char size[24];

      g_free (self->hostname);
      g_free (self->greeting);
      g_free (self->extensions);
      self->hostname = g_strdup (config->hostname);
      self->greeting_is_default = config->greeting == NULL;
      self->greeting = config->greeting != NULL ? g_strdup (config->greeting)
                                                : g_strconcat (config->hostname, " ESMTP Postlab", NULL);
      self->max_message_size = max_message_size;
      self->offer_auth = config->offer_auth;
      /* RFC 1870 4, RFC 2920 2, RFC 6152 2, RFC 4954 3: what this server offers, the same to every client. */
      g_snprintf (size, sizeof size, "%" G_GSIZE_FORMAT, self->max_message_size);
      self->extensions = g_strconcat ("SIZE ", size, "\nPIPELINING\n8BITMIME\n",
                                      self->offer_auth ? "AUTH PLAIN LOGIN\n" : "", "HELP", NULL);
    }
  self->max_recipients = config->max_recipients > 0 ? config->max_recipients
                                                    : PL_SMTP_SERVER_DEFAULT_MAX_RECIPIENTS;
  self->auth_failure_delay_ms = config->auth_failure_delay_ms;
  self->client_address = g_strdup (config->client_address);
  self->trusted = config->peer_trusted;
  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->destroy = destroy;
}

/* Everything of the session: the engine as pl_smtp_server_init() left it, but for its buffers and greeting. */
static void
clear_session (PlSmtpServer *self)
{
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  self->destroy = NULL;
  self->user_data = NULL;
  memset (&self->callbacks, 0, sizeof self->callbacks);
  g_clear_pointer (&self->client_address, g_free);
  self->trusted = FALSE;
  pl_line_reader_reset (self->reader);
  g_byte_array_set_size (self->wire, 0);
  g_string_truncate (self->args, 0);
  self->warned_bare_lf = FALSE;
  self->lost = FALSE;
  self->unanswered = 0;
  g_clear_pointer (&self->helo, g_free);
  self->esmtp = FALSE;
  g_clear_pointer (&self->auth_user, g_free);
  self->sasl = SASL_NONE;
  g_clear_pointer (&self->sasl_user, g_free);
  g_clear_pointer (&self->mail_from, g_free);
  self->body_8bitmime = FALSE;
  g_ptr_array_set_size (self->recipients, 0);
  clear_data (self);
  self->id_counter = 0;
  self->n_delivered = 0;
}

/*
 * pl_smtp_server_new:
 * An SMTP server session (RFC 5321 4.3.2 gives its sequence), starting in
 * CONNECTED. check_recipient, deliver and now are required, and
 * check_password too when AUTH is offered.
 */
PlEngine *
pl_smtp_server_new (const PlSmtpServerConfig    *config,
                    const PlSmtpServerCallbacks *callbacks,
                    gpointer                     user_data,
                    GDestroyNotify               destroy)
{
  PlSmtpServer *self;

  if (!config_is_valid (config, callbacks))
    return NULL;

  self = g_object_new (PL_TYPE_SMTP_SERVER, NULL);
  pl_engine_set_protocol (PL_ENGINE (self), PL_PROTOCOL_SMTP);
  configure (self, config, callbacks, user_data, destroy);
  return PL_ENGINE (self);
}

/*
 * pl_smtp_server_reset:
 * Makes @self what pl_smtp_server_new() with these arguments would return,
 * keeping its buffers: for a driver that runs one session after another
 * (the simulator). The session before is forgotten (its @destroy is called
 * on its user data); the event and state functions are unset. FALSE (and
 * @self left as it was) when the arguments would not do for
 * pl_smtp_server_new().
 */
gboolean
pl_smtp_server_reset (PlSmtpServer                *self,
                      const PlSmtpServerConfig    *config,
                      const PlSmtpServerCallbacks *callbacks,
                      gpointer                     user_data,
                      GDestroyNotify               destroy)
{
  g_return_val_if_fail (PL_IS_SMTP_SERVER (self), FALSE);
  if (!config_is_valid (config, callbacks))
    return FALSE;

  clear_session (self);
  pl_engine_base_reset (self->base);
  configure (self, config, callbacks, user_data, destroy);
  return TRUE;
}

void
pl_smtp_server_set_peer (PlSmtpServer *self,
                         const char   *address,
                         gboolean      trusted)
{
  g_return_if_fail (PL_IS_SMTP_SERVER (self));
  g_free (self->client_address);
  self->client_address = g_strdup (address);
  self->trusted = trusted;
}

PlSmtpServerState
pl_smtp_server_get_state (PlSmtpServer *self)
{
  g_return_val_if_fail (PL_IS_SMTP_SERVER (self), PL_SMTP_SERVER_CLOSED);
  return get_state (self);
}

const char *
pl_smtp_server_get_auth_user (PlSmtpServer *self)
{
  g_return_val_if_fail (PL_IS_SMTP_SERVER (self), NULL);
  return self->auth_user;
}

const char *
pl_smtp_server_get_helo (PlSmtpServer *self)
{
  g_return_val_if_fail (PL_IS_SMTP_SERVER (self), NULL);
  return self->helo;
}

guint
pl_smtp_server_get_n_delivered (PlSmtpServer *self)
{
  g_return_val_if_fail (PL_IS_SMTP_SERVER (self), 0);
  return self->n_delivered;
}
