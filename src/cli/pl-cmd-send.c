/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli send: builds an RFC 5322 message and submits it with Postlab's own SMTP client, showing the dialogue. */
#define G_LOG_DOMAIN "postlab-cli"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pl-cli.h"
#include "pl-net-client.h"
#include "pl-net-error.h"
#include "pl-smtp-client.h"
#include "pl-smtp-grammar.h"
#include "pl-writer.h"

/* mail.a.example's SMTP in the default world (DESIGN.md, "The mail path"). */
#define SEND_DEFAULT_HOST "127.0.0.1"
#define SEND_DEFAULT_PORT 2525
/* RFC 5321 4.5.4.2 / RFC 6409: SMTP's own port, when --server names a host alone. */
#define SMTP_PORT 25

/* RFC 5322 2.1.1: a line is at most 998 characters, the CRLF not counted. */
#define MAX_LINE 998
/* RFC 5322 2.1.1: "SHOULD be no more than 78", where a header can be folded. */
#define FOLD_AT 78
/* What send reads from --body-file at most: a message far past any server's SIZE. */
#define MAX_BODY (64 * 1024 * 1024)

typedef struct {
  char    *from;
  char   **to;
  char    *subject;
  char    *body_file;
  char    *server;
  char    *auth;
  gboolean json;
} SendOptions;

static void
send_options_clear (SendOptions *options)
{
  g_free (options->from);
  g_strfreev (options->to);
  g_free (options->subject);
  g_free (options->body_file);
  g_free (options->server);
  if (options->auth != NULL)
    memset (options->auth, 0, strlen (options->auth));
  g_free (options->auth);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SendOptions, send_options_clear)

/* Addresses ------------------------------------------------------------------------------------- */

/* RFC 5322 3.2.3 atext: what a dot-atom local part may hold besides the dots. */
static gboolean
is_atext (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static gboolean
check_domain (const char *domain,
              char      **why)
{
  gsize len = strlen (domain);
  gsize label = 0;

  if (len == 0)
    {
      *why = g_strdup ("nothing after the @");
      return FALSE;
    }
  if (len > PL_SMTP_MAX_DOMAIN)
    {
      *why = g_strdup_printf ("the domain is %" G_GSIZE_FORMAT " characters long; RFC 5321 4.5.3.1.2 "
                              "allows %d", len, PL_SMTP_MAX_DOMAIN);
      return FALSE;
    }
  /* RFC 5321 4.1.3: an address literal, [127.0.0.1] or [IPv6:::1]. */
  if (domain[0] == '[')
    {
      g_autofree char *inner = NULL;

      if (len < 3 || domain[len - 1] != ']')
        {
          *why = g_strdup ("an address literal must be written [192.0.2.1] or [IPv6:2001:db8::1]");
          return FALSE;
        }
      inner = g_strndup (domain + 1, len - 2);
      if (g_ascii_strncasecmp (inner, "IPv6:", 5) == 0
          ? !g_hostname_is_ip_address (inner + 5) || strchr (inner + 5, ':') == NULL
          : !g_hostname_is_ip_address (inner) || strchr (inner, ':') != NULL)
        {
          *why = g_strdup_printf ("'%s' is not an IP address literal", domain);
          return FALSE;
        }
      return TRUE;
    }
  /* RFC 5321 4.1.2 Domain: labels of letters, digits and inner hyphens, joined by dots. */
  for (const char *p = domain; ; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          if (label == 0)
            {
              *why = g_strdup_printf ("the domain '%s' has an empty label (two dots, or a dot at an end)", domain);
              return FALSE;
            }
          if (p[-1] == '-')
            {
              *why = g_strdup_printf ("a label of the domain '%s' ends with a hyphen", domain);
              return FALSE;
            }
          if (*p == '\0')
            break;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (*p) && *p != '-')
        {
          *why = g_strdup_printf ("the domain '%s' holds '%c'; a domain is letters, digits, hyphens and dots",
                                  domain, *p);
          return FALSE;
        }
      if (label == 0 && *p == '-')
        {
          *why = g_strdup_printf ("a label of the domain '%s' starts with a hyphen", domain);
          return FALSE;
        }
      label++;
    }
  return TRUE;
}

/*
 * An address as the envelope (RFC 5321 4.1.2 Mailbox) and the header (RFC
 * 5322 3.4.1 addr-spec) both carry it without quoting: local@domain with a
 * dot-atom local part. Anything that could end a command line early or
 * break out of the angle brackets (CR, LF, spaces, <, >) is refused here,
 * before a connection is made, and so is what we would have to quote.
 */
static gboolean
check_address (const char  *address,
               char       **why)
{
  const char *at;
  g_autofree char *local = NULL;
  gsize local_len;

  for (const char *p = address; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '\r' || c == '\n')
        {
          *why = g_strdup ("it holds a line break (CR or LF), which would end the SMTP command early");
          return FALSE;
        }
      if (c < 0x20 || c == 0x7f)
        {
          *why = g_strdup ("it holds a control character");
          return FALSE;
        }
      if (c == ' ')
        {
          *why = g_strdup ("it holds a space");
          return FALSE;
        }
      if (c == ',' || c == ';')
        {
          *why = g_strdup ("give one address per --to (repeat --to for more)");
          return FALSE;
        }
      if (c == '<' || c == '>')
        {
          *why = g_strdup ("give the bare address, without angle brackets");
          return FALSE;
        }
      if (c >= 0x80)
        {
          *why = g_strdup ("it holds non-ASCII characters (internationalised addresses, RFC 6531, "
                           "are not supported)");
          return FALSE;
        }
    }
  at = strrchr (address, '@');
  if (at == NULL)
    {
      *why = g_strdup ("it has no @: write it as local-part@domain");
      return FALSE;
    }
  local_len = (gsize) (at - address);
  if (local_len == 0)
    {
      *why = g_strdup ("nothing before the @");
      return FALSE;
    }
  if (local_len > PL_SMTP_MAX_LOCAL_PART)
    {
      *why = g_strdup_printf ("the part before the @ is %" G_GSIZE_FORMAT " characters long; "
                              "RFC 5321 4.5.3.1.1 allows %d", local_len, PL_SMTP_MAX_LOCAL_PART);
      return FALSE;
    }
  if (strlen (address) + 2 > PL_SMTP_MAX_PATH)
    {
      *why = g_strdup_printf ("it is longer than the %d characters RFC 5321 4.5.3.1.3 allows in a path",
                              PL_SMTP_MAX_PATH - 2);
      return FALSE;
    }
  local = g_strndup (address, local_len);
  if (local[0] == '.' || local[local_len - 1] == '.' || strstr (local, "..") != NULL)
    {
      *why = g_strdup ("the part before the @ starts or ends with a dot, or has two in a row");
      return FALSE;
    }
  for (const char *p = local; *p != '\0'; p++)
    if (*p != '.' && !is_atext (*p))
      {
        *why = g_strdup_printf ("the part before the @ holds '%c', which would need quoting "
                                "(quoted local parts are not supported)", *p);
        return FALSE;
      }
  return check_domain (at + 1, why);
}

/* The domain of an address check_address() accepted. */
static const char *
address_domain (const char *address)
{
  return strrchr (address, '@') + 1;
}

/* Options ---------------------------------------------------------------------------------------- */

/* HOST, HOST:PORT, [IPv6], [IPv6]:PORT; a bare IPv6 literal (two colons or more) is a host alone. */
static gboolean
parse_server (const char  *text,
              char       **host,
              guint16     *port,
              char       **why)
{
  const char *port_text = NULL;
  g_autofree char *name = NULL;

  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');

      if (close == NULL || close == text + 1)
        {
          *why = g_strdup_printf ("'%s': an IPv6 server is written [ADDRESS]:PORT", text);
          return FALSE;
        }
      name = g_strndup (text + 1, (gsize) (close - text - 1));
      if (close[1] == ':')
        port_text = close + 2;
      else if (close[1] != '\0')
        {
          *why = g_strdup_printf ("'%s': after [ADDRESS] comes :PORT or nothing", text);
          return FALSE;
        }
    }
  else
    {
      const char *colon = strchr (text, ':');

      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        name = g_strdup (text);
      else if (colon != NULL)
        {
          name = g_strndup (text, (gsize) (colon - text));
          port_text = colon + 1;
        }
      else
        name = g_strdup (text);
    }
  if (*name == '\0')
    {
      *why = g_strdup_printf ("'%s' names no host: give HOST:PORT", text);
      return FALSE;
    }
  for (const char *p = name; *p != '\0'; p++)
    if ((guchar) *p <= 0x20 || *p == 0x7f || *p == '/')
      {
        *why = g_strdup_printf ("'%s' is not a host name or IP address", name);
        return FALSE;
      }
  *port = SMTP_PORT;
  if (port_text != NULL)
    {
      guint64 value = 0;

      if (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &value, NULL))
        {
          *why = g_strdup_printf ("'%s' is not a port number (1-65535)", port_text);
          return FALSE;
        }
      *port = (guint16) value;
    }
  *host = g_steal_pointer (&name);
  return TRUE;
}

static gboolean
has_control_characters (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

/* USER:PASS, split at the first colon (a user name has none; a password may). */
static gboolean
parse_auth (const char  *text,
            char       **user,
            char       **password,
            char       **why)
{
  const char *colon = strchr (text, ':');

  if (colon == NULL || colon == text)
    {
      *why = g_strdup ("--auth takes USER:PASS");
      return FALSE;
    }
  /* SASL PLAIN (RFC 4616) carries NUL-free UTF-8; a CR or LF would be no worse here, but surely a slip. */
  if (has_control_characters (text))
    {
      *why = g_strdup ("the user or password of --auth holds control characters (CR, LF, ...)");
      return FALSE;
    }
  if (!g_utf8_validate (text, -1, NULL))
    {
      *why = g_strdup ("the user or password of --auth is not UTF-8 (RFC 4616 section 2)");
      return FALSE;
    }
  *user = g_strndup (text, (gsize) (colon - text));
  *password = g_strdup (colon + 1);
  return TRUE;
}

/* The body ---------------------------------------------------------------------------------------- */

static GBytes *
read_stream (FILE        *stream,
             const char  *name,
             GError     **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buffer[16384];

  for (;;)
    {
      size_t n = fread (buffer, 1, sizeof buffer, stream);

      if (n > 0)
        {
          if (data->len + n > MAX_BODY)
            {
              g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s is larger than %d MiB", name,
                           MAX_BODY / (1024 * 1024));
              return NULL;
            }
          g_byte_array_append (data, buffer, (guint) n);
        }
      if (n < sizeof buffer)
        {
          if (ferror (stream))
            {
              int saved_errno = errno;

              g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                           "cannot read %s: %s", name, g_strerror (saved_errno));
              return NULL;
            }
          if (feof (stream))
            break;
        }
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

static GBytes *
read_body (const char  *path,
           GError     **error)
{
  FILE *stream;
  GBytes *body;

  if (path == NULL)
    return g_bytes_new_static ("", 0);
  if (g_str_equal (path, "-"))
    return read_stream (stdin, "the standard input", error);

  stream = fopen (path, "rb");
  if (stream == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "cannot open the body file %s: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  body = read_stream (stream, path, error);
  fclose (stream);
  return body;
}

/*
 * Appends @body to @out as RFC 5322 text: CRLF line ends (a bare LF
 * becomes CRLF), every line at most 998 octets (2.1.1), no NUL and no CR
 * alone (2.3, RFC 6152 section 3's 8bit data), valid UTF-8 since the
 * message says charset=utf-8. An empty body stays empty; a last line
 * without a line end gets one.
 */
static gboolean
append_body (GString      *out,
             GBytes       *body,
             gboolean     *eight_bit,
             char        **why)
{
  gsize len;
  const char *data = g_bytes_get_data (body, &len);
  const char *bad_utf8 = NULL;
  gsize start = 0;
  guint line_number = 1;

  if (memchr (data, '\0', len) != NULL)
    {
      *why = g_strdup ("the body holds a NUL byte, which no mail line may carry (RFC 5322 2.3); "
                       "is it a binary file?");
      return FALSE;
    }
  if (!g_utf8_validate_len (data, len, &bad_utf8))
    {
      *why = g_strdup_printf ("the body is not valid UTF-8 (at octet %" G_GSIZE_FORMAT "); send "
                              "saves it as text/plain; charset=utf-8", (gsize) (bad_utf8 - data));
      return FALSE;
    }
  *eight_bit = FALSE;
  while (start < len)
    {
      const char *nl = memchr (data + start, '\n', len - start);
      gsize end = nl != NULL ? (gsize) (nl - data) : len;
      gsize content_end = end;

      if (content_end > start && data[content_end - 1] == '\r')
        content_end--;
      for (gsize i = start; i < content_end; i++)
        {
          if (data[i] == '\r')
            {
              *why = g_strdup_printf ("line %u of the body holds a carriage return that is not "
                                      "followed by a line feed (RFC 5322 2.3 forbids it)", line_number);
              return FALSE;
            }
          if ((guchar) data[i] >= 0x80)
            *eight_bit = TRUE;
        }
      if (content_end - start > MAX_LINE)
        {
          *why = g_strdup_printf ("line %u of the body is %" G_GSIZE_FORMAT " octets long; a mail line "
                                  "may be at most %d (RFC 5322 2.1.1, RFC 5321 4.5.3.1.6): wrap it",
                                  line_number, content_end - start, MAX_LINE);
          return FALSE;
        }
      g_string_append_len (out, data + start, (gssize) (content_end - start));
      g_string_append (out, "\r\n");
      start = end + 1;
      line_number++;
    }
  return TRUE;
}

/* The header -------------------------------------------------------------------------------------- */

/*
 * RFC 5322 3.3 date-time, "Tue, 03 Mar 2026 14:05:09 +0100": the day and
 * month names are English whatever the locale, so not strftime's %a and %b.
 */
static char *
format_date (GDateTime *now)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  GTimeSpan offset = g_date_time_get_utc_offset (now);
  gint64 minutes = (offset < 0 ? -offset : offset) / G_TIME_SPAN_MINUTE;

  return g_strdup_printf ("%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
                          days[g_date_time_get_day_of_week (now) - 1],
                          g_date_time_get_day_of_month (now),
                          months[g_date_time_get_month (now) - 1],
                          g_date_time_get_year (now),
                          g_date_time_get_hour (now),
                          g_date_time_get_minute (now),
                          g_date_time_get_second (now),
                          offset < 0 ? '-' : '+',
                          (int) (minutes / 60), (int) (minutes % 60));
}

/*
 * Appends "Name: word word ...", folded (RFC 5322 2.2.3) before a space
 * wherever the line would pass 78 characters; @words are joined by single
 * spaces, so unfolding gives back exactly that.
 */
static void
append_folded (GString           *out,
               const char        *name,
               const char *const *words)
{
  gsize line_start = out->len;

  g_string_append_printf (out, "%s:", name);
  for (guint i = 0; words[i] != NULL; i++)
    {
      gsize word_len = strlen (words[i]);

      if (i > 0 && out->len - line_start + 1 + word_len > FOLD_AT)
        {
          g_string_append (out, "\r\n");
          line_start = out->len;
        }
      g_string_append_c (out, ' ');
      g_string_append (out, words[i]);
    }
  g_string_append (out, "\r\n");
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return FALSE;
  return TRUE;
}

/*
 * RFC 2047: @text as encoded words "=?UTF-8?B?...?=", each at most 75
 * characters (section 2) and never splitting a character (section 5), so
 * that each fits a folded line of its own: the first after @first_line_used
 * characters ("Subject: "), the others after the folding space.
 */
static GStrv
encode_words (const char *text,
              gsize       first_line_used)
{
  const gsize envelope = strlen ("=?UTF-8?B?") + strlen ("?=");
  g_autoptr(GStrvBuilder) words = g_strv_builder_new ();
  gsize room = MIN (75, FOLD_AT - first_line_used);
  const char *p = text;

  while (*p != '\0')
    {
      /* Base64 turns each 3 octets into 4 characters. */
      gsize max_octets = (room - envelope) / 4 * 3;
      const char *end = p;
      g_autofree char *b64 = NULL;
      g_autofree char *word = NULL;

      while (*end != '\0')
        {
          const char *next = g_utf8_next_char (end);

          if ((gsize) (next - p) > max_octets)
            break;
          end = next;
        }
      b64 = g_base64_encode ((const guchar *) p, (gsize) (end - p));
      word = g_strdup_printf ("=?UTF-8?B?%s?=", b64);
      g_strv_builder_add (words, word);
      p = end;
      room = MIN (75, FOLD_AT - 1);
    }
  return g_strv_builder_end (words);
}

/*
 * The Subject: field. ASCII text goes as it is, folded at its spaces; text
 * with other characters, or a word too long for any line, as encoded words.
 */
static void
append_subject (GString    *out,
                const char *subject)
{
  g_auto(GStrv) words = g_strsplit (subject, " ", -1);
  gboolean encode = !is_ascii (subject);

  for (guint i = 0; words[i] != NULL && !encode; i++)
    {
      /* An empty word (two spaces, or one at an end) could leave a folded line of blanks (RFC 5322 3.2.2). */
      if (strlen (words[i]) > MAX_LINE - strlen ("Subject: ") || (words[i][0] == '\0' && words[1] != NULL))
        encode = TRUE;
      /* Text that looks like an encoded word would be decoded by the reader (RFC 2047 section 6.1). */
      if (strstr (words[i], "=?") != NULL)
        encode = TRUE;
    }
  if (encode)
    {
      g_strfreev (words);
      words = encode_words (subject, strlen ("Subject: "));
    }
  append_folded (out, "Subject", (const char *const *) words);
}

/*
 * The whole message (RFC 5322 3.6): the originator, destination and
 * identification fields, the date, the MIME fields (RFC 2045) saying the
 * body is UTF-8 text, then the body. CRLF line ends throughout, as SMTP
 * sends them.
 */
static GBytes *
build_message (const char         *from,
               const char *const  *to,
               const char         *subject,
               GBytes             *body,
               char              **why)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = format_date (now);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autoptr(GStrvBuilder) to_words = g_strv_builder_new ();
  g_auto(GStrv) to_list = NULL;
  const char *from_words[] = { from, NULL };
  gboolean eight_bit = FALSE;

  if (!append_body (text, body, &eight_bit, why))
    return NULL;

  for (guint i = 0; to[i] != NULL; i++)
    {
      g_autofree char *word = g_strdup_printf ("%s%s", to[i], to[i + 1] != NULL ? "," : "");

      g_strv_builder_add (to_words, word);
    }
  to_list = g_strv_builder_end (to_words);

  append_folded (out, "From", from_words);
  append_folded (out, "To", (const char *const *) to_list);
  if (subject != NULL)
    append_subject (out, subject);
  g_string_append_printf (out, "Date: %s\r\n", date);
  /* RFC 5322 3.6.4: unique; the random UUID at the sender's domain makes it so. */
  g_string_append_printf (out, "Message-ID: <%s@%s>\r\n", uuid, address_domain (from));
  g_string_append (out, "MIME-Version: 1.0\r\n");
  g_string_append (out, "Content-Type: text/plain; charset=utf-8\r\n");
  /* RFC 2045 6.1: 8bit says the lines hold octets over 127; 7bit is the default, said out loud. */
  g_string_append_printf (out, "Content-Transfer-Encoding: %s\r\n", eight_bit ? "8bit" : "7bit");
  g_string_append (out, "\r\n");
  g_string_append_len (out, text->str, (gssize) text->len);

  return g_bytes_new (out->str, out->len);
}

/* The outcome ------------------------------------------------------------------------------------- */

/* One line, for the summary: a multi-line reply's lines joined by " / ". */
static char *
one_line (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);

  return g_strjoinv (" / ", lines);
}

static const char *
verdict_name (PlSmtpVerdict verdict)
{
  switch (verdict)
    {
    case PL_SMTP_VERDICT_DELIVERED:
      return "delivered";
    case PL_SMTP_VERDICT_TEMPORARY:
      return "temporary";
    case PL_SMTP_VERDICT_PERMANENT:
      return "permanent";
    case PL_SMTP_VERDICT_NONE:
    default:
      return "none";
    }
}

static void
print_summary_text (const PlSmtpClientResult *result)
{
  for (guint i = 0; i < result->n_recipients; i++)
    {
      const PlSmtpRecipientResult *r = &result->recipients[i];
      g_autofree char *reply = one_line (r->reply);

      if (r->verdict == PL_SMTP_VERDICT_DELIVERED)
        printf ("* %s: accepted (%s)\n", r->address, reply);
      else if (r->code != 0)
        printf ("* %s: refused%s: %s\n", r->address,
                r->verdict == PL_SMTP_VERDICT_TEMPORARY ? " for now (try again later)" : "", reply);
      else
        printf ("* %s: not delivered: %s\n", r->address, reply);
    }
  fflush (stdout);
}

/*
 * After the session's lines, one {"type":"recipient"} line per recipient:
 * a field set of its own, so no DESIGN.md field changes meaning.
 */
static void
print_summary_json (const PlSmtpClientResult *result,
                    guint                     session_id)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < result->n_recipients; i++)
    {
      const PlSmtpRecipientResult *r = &result->recipients[i];

      g_string_append_printf (out, "{\"type\":\"recipient\",\"session\":%u,\"address\":", session_id);
      pl_json_append_string (out, r->address, -1);
      g_string_append_printf (out, ",\"verdict\":\"%s\",\"code\":%u,\"reply\":", verdict_name (r->verdict), r->code);
      pl_json_append_string (out, r->reply != NULL ? r->reply : "", -1);
      g_string_append (out, "}\n");
    }
  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

/*
 * The session's id, 0 while no connection was made: a connect timeout and
 * an idle one share an error code, and the recipient lines name the session.
 */
static void
on_session_opened (PlSession *session,
                   gpointer   user_data)
{
  guint *session_id = user_data;

  *session_id = session->id;
}

static const PlTraceListener connected_listener = { on_session_opened, NULL, NULL };

/* The command --------------------------------------------------------------------------------------- */

static int
check_options (const SendOptions  *options,
               char              **host,
               guint16            *port,
               char              **auth_user,
               char              **auth_password)
{
  g_autofree char *why = NULL;

  if (options->from == NULL)
    return pl_cli_usage_error ("send", "say who sends the message: --from ADDRESS");
  if (options->to == NULL || options->to[0] == NULL)
    return pl_cli_usage_error ("send", "say who gets the message: --to ADDRESS (repeat it for more)");
  if (!check_address (options->from, &why))
    return pl_cli_usage_error ("send", "--from '%s' is not an address: %s", options->from, why);
  for (guint i = 0; options->to[i] != NULL; i++)
    if (!check_address (options->to[i], &why))
      return pl_cli_usage_error ("send", "--to '%s' is not an address: %s", options->to[i], why);
  if (options->subject != NULL)
    {
      if (has_control_characters (options->subject))
        return pl_cli_usage_error ("send", "the subject holds a line break or another control character");
      if (!g_utf8_validate (options->subject, -1, NULL))
        return pl_cli_usage_error ("send", "the subject is not valid UTF-8");
    }
  if (options->server != NULL)
    {
      if (!parse_server (options->server, host, port, &why))
        return pl_cli_usage_error ("send", "--server %s", why);
    }
  else
    {
      *host = g_strdup (SEND_DEFAULT_HOST);
      *port = SEND_DEFAULT_PORT;
    }
  if (options->auth != NULL && !parse_auth (options->auth, auth_user, auth_password, &why))
    return pl_cli_usage_error ("send", "%s", why);
  return PL_EXIT_OK;
}

/* RFC 5321 4.1.1.1: EHLO names this host; a name that is no domain falls back to a literal. */
static char *
helo_name (void)
{
  const char *name = g_get_host_name ();
  g_autofree char *why = NULL;

  if (check_domain (name, &why))
    return g_strdup (name);
  return g_strdup ("[127.0.0.1]");
}

/*
 * The exit code (PlExitCode) for what happened: 0 when every recipient was
 * accepted; 1 when the server (or its advertised limits) refused any; 2
 * when the dialogue could not run to an answer (connection refused or cut).
 */
static int
conclude (const PlSmtpClientResult *result,
          gboolean                  ran,
          const GError             *error)
{
  gboolean all_delivered = TRUE;
  gboolean refused_by_reply = FALSE;
  guint n_refused = 0;

  for (guint i = 0; i < result->n_recipients; i++)
    {
      const PlSmtpRecipientResult *r = &result->recipients[i];

      if (r->verdict != PL_SMTP_VERDICT_DELIVERED)
        {
          all_delivered = FALSE;
          n_refused++;
        }
      if (r->verdict != PL_SMTP_VERDICT_DELIVERED && r->code >= 400)
        refused_by_reply = TRUE;
    }
  if (all_delivered)
    {
      /* 250 after "." is the server's promise (RFC 5321 6.1), whatever became of QUIT. */
      if (!ran)
        pl_cli_error ("send", "%s (after the message was accepted)", error->message);
      return PL_EXIT_OK;
    }
  if (refused_by_reply || ran)
    {
      g_autofree char *reply = one_line (result->reply);

      pl_cli_error ("send", "%u of %u recipient%s not accepted: %s", n_refused, result->n_recipients,
                    result->n_recipients == 1 ? "" : "s", reply);
      return PL_EXIT_REFUSED;
    }
  pl_cli_error ("send", "%s", error->message);
  return PL_EXIT_USAGE;
}

/*
 * pl_cmd_send:
 * `postlab-cli send`: a user agent's submission (RFC 6409 section 3, here on
 * any port) of one message built by RFC 5322 section 3.6 and RFC 2045, sent
 * by PlSmtpClient through RFC 5321 section 3.3's transaction. Addresses and
 * the message are checked before any connection is made. Returns a
 * PlExitCode: 0 when every recipient was accepted, 1 when the server refused
 * any, 2 for a usage error or no connection.
 */
int
pl_cmd_send (int    argc,
             char **argv)
{
  g_auto(SendOptions) options = { 0 };
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &options.from,
      "The sender, in the envelope (MAIL FROM) and the From: field", "ADDR" },
    { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.to,
      "A recipient, in the envelope (RCPT TO) and the To: field; repeat for more", "ADDR" },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &options.subject,
      "The Subject: field (UTF-8; RFC 2047 encoded words when not ASCII)", "TEXT" },
    { "body-file", 0, 0, G_OPTION_ARG_FILENAME, &options.body_file,
      "The body: UTF-8 text, lines of at most 998 octets; - reads the standard input "
      "(default: an empty body)", "FILE" },
    { "server", 0, 0, G_OPTION_ARG_STRING, &options.server,
      "The SMTP server (default 127.0.0.1:2525, mail.a.example in the default world; "
      "the port defaults to 25)", "HOST:PORT" },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &options.auth,
      "Log in first with AUTH PLAIN (or LOGIN), RFC 4954", "USER:PASS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options.json,
      "Print the session as JSON Lines (DESIGN.md's machine format), then one "
      "{\"type\":\"recipient\"} line per recipient", NULL },
    { NULL }
  };
  g_autofree char *host = NULL;
  g_autofree char *auth_user = NULL;
  g_autofree char *auth_password = NULL;
  g_autofree char *helo = NULL;
  g_autofree char *why = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlWriter) writer = NULL;
  g_autoptr(PlEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  PlSmtpClientConfig config = { 0 };
  /* The first push of DESIGN.md's mail path: the user agent hands the message to its server. */
  PlNetClientConfig net_config = { .hop = PL_HOP_SUBMISSION };
  PlCliDialoguePrinter printer = { stdout, NULL };
  const PlSmtpClientResult *result;
  guint16 port = 0;
  gulong listener_id = 0;
  gulong connected_id;
  guint session_id = 0;
  gboolean ran;
  int exit_code = PL_EXIT_OK;

  if (!pl_cli_parse_options ("send", "",
                             "Builds a plain-text message (RFC 5322) and submits it over SMTP with\n"
                             "Postlab's own client: EHLO, AUTH with --auth, MAIL FROM, RCPT TO for each\n"
                             "recipient, DATA, QUIT, printing the dialogue as it goes, then what became\n"
                             "of each recipient.\n"
                             "\n"
                             "Exit status: 0 every recipient was accepted, 1 the server refused one or\n"
                             "more (4xx or 5xx), 2 a usage error or no connection.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc > 1)
    return pl_cli_usage_error ("send", "unexpected argument '%s' (recipients go after --to)", argv[1]);

  exit_code = check_options (&options, &host, &port, &auth_user, &auth_password);
  if (exit_code != PL_EXIT_OK)
    return exit_code;

  body = read_body (options.body_file, &error);
  if (body == NULL)
    return pl_cli_usage_error ("send", "%s", error->message);
  message = build_message (options.from, (const char *const *) options.to, options.subject, body, &why);
  if (message == NULL)
    return pl_cli_usage_error ("send", "%s", why);

  helo = helo_name ();
  config.helo_name = helo;
  config.mail_from = options.from;
  config.recipients = (const char *const *) options.to;
  config.message = message;
  config.auth_user = auth_user;
  config.auth_password = auth_password;
  engine = pl_smtp_client_new (&config);

  trace = pl_trace_new (FALSE);
  connected_id = pl_trace_add_listener (trace, &connected_listener, &session_id);
  if (options.json)
    {
      writer = pl_writer_new (stdout, PL_WRITER_JSONL, PL_WRITER_FLAGS_NONE);
      pl_writer_attach (writer, trace);
    }
  else
    {
      printer.host = host;
      listener_id = pl_cli_print_dialogue (trace, &printer);
    }

  ran = pl_net_client_run (engine, host, port, trace, &net_config, &error);

  if (writer != NULL)
    pl_writer_detach (writer);
  if (listener_id != 0)
    pl_trace_remove_listener (trace, listener_id);
  pl_trace_remove_listener (trace, connected_id);

  if (!ran && session_id == 0)
    {
      pl_cli_error ("send", "%s", error->message);
      return PL_EXIT_USAGE;
    }

  result = pl_smtp_client_get_result (PL_SMTP_CLIENT (engine));
  if (options.json)
    print_summary_json (result, session_id);
  else
    print_summary_text (result);
  if (auth_password != NULL)
    memset (auth_password, 0, strlen (auth_password));
  return conclude (result, ran, error);
}
