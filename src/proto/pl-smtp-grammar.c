/* SPDX-License-Identifier: GPL-3.0-or-later */
/* SMTP's grammar (RFC 5321, RFC 4954, RFC 1870): stateless parsers on raw octets shared by the server, client and tracer. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-smtp-grammar.h"

#include <stdarg.h>
#include <string.h>

#include "pl-line-reader.h"

#define MAX_VERB_LEN PL_SMTP_MAX_VERB_LEN

G_DEFINE_QUARK (pl-smtp-syntax-error-quark, pl_smtp_syntax_error)

/* Commands ------------------------------------------------------------------ */

/*
 * pl_smtp_split_command, pl_smtp_parse_command:
 * RFC 5321 4.1.1: a verb, a space, and arguments. Verbs are matched without
 * regard to case (section 2.4), so the verb comes back in upper case; the
 * arguments are kept as sent. The octets come from the wire and nothing is
 * assumed of them: a NUL cannot be returned in a C string, so it fails.
 * pl_smtp_split_command() only says where the parts are, for the engines,
 * which parse every line and keep strings only for the events they make.
 */
gboolean
pl_smtp_split_command (const guint8 *line,
                       gsize         len,
                       gsize        *verb_len,
                       gsize        *args_start)
{
  return pl_line_split_command (line, len, MAX_VERB_LEN, verb_len, args_start);
}

gboolean
pl_smtp_parse_command (const guint8  *line,
                       gsize          len,
                       char         **verb,
                       char         **args)
{
  gsize verb_len;
  gsize args_start;

  g_return_val_if_fail (line != NULL || len == 0, FALSE);
  g_return_val_if_fail (verb != NULL, FALSE);
  g_return_val_if_fail (args != NULL, FALSE);

  *verb = NULL;
  *args = NULL;
  if (!pl_smtp_split_command (line, len, &verb_len, &args_start))
    return FALSE;
  *verb = g_ascii_strup ((const char *) line, (gssize) verb_len);
  *args = g_strndup ((const char *) line + args_start, len - args_start);
  return TRUE;
}

/* Paths (RFC 5321 4.1.2) -------------------------------------------------------- */

static void
param_free (PlSmtpParam *param)
{
  g_free (param->keyword);
  g_free (param->value);
  g_free (param);
}

void
pl_smtp_path_free (PlSmtpPath *path)
{
  if (path == NULL)
    return;
  g_free (path->address);
  g_free (path->local_part);
  g_free (path->domain);
  g_ptr_array_unref (path->params);
  g_free (path);
}

const PlSmtpParam *
pl_smtp_path_get_param (const PlSmtpPath *path,
                        const char       *keyword)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (keyword != NULL, NULL);

  for (guint i = 0; i < path->params->len; i++)
    {
      const PlSmtpParam *param = g_ptr_array_index (path->params, i);
      if (g_ascii_strcasecmp (param->keyword, keyword) == 0)
        return param;
    }
  return NULL;
}

/* RFC 5322 3.2.3 atext, which RFC 5321 4.1.2 uses for Atom. */
static gboolean
is_atext (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 4.1.2: Dot-string = Atom *("." Atom). */
static gboolean
is_dot_string (const char *s,
               gsize       len)
{
  gboolean after_dot = TRUE;

  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '.')
        {
          if (after_dot)
            return FALSE;
          after_dot = TRUE;
        }
      else if (is_atext (s[i]))
        after_dot = FALSE;
      else
        return FALSE;
    }
  return !after_dot;
}

/* RFC 5321 4.1.2: Quoted-string = DQUOTE *QcontentSMTP DQUOTE. */
static gboolean
is_quoted_string (const char *s,
                  gsize       len)
{
  if (len < 2 || s[0] != '"' || s[len - 1] != '"')
    return FALSE;
  for (gsize i = 1; i + 1 < len; i++)
    {
      guchar c = (guchar) s[i];

      if (c == '\\')
        {
          /* quoted-pairSMTP: a backslash and any printable ASCII or space */
          if (i + 2 >= len || (guchar) s[i + 1] < 32 || (guchar) s[i + 1] > 126)
            return FALSE;
          i++;
        }
      else if (c < 32 || c > 126 || c == '"')
        return FALSE;
    }
  return TRUE;
}

/* RFC 5321 4.1.2 Domain (letters, digits, hyphens, dots) or 4.1.3 address-literal. */
static gboolean
is_domain (const char *s,
           gsize       len)
{
  gsize label_len = 0;

  if (len == 0)
    return FALSE;
  if (s[0] == '[')
    {
      if (len < 3 || s[len - 1] != ']')
        return FALSE;
      /* dcontent: printable ASCII but "[", "\" and "]" */
      for (gsize i = 1; i + 1 < len; i++)
        if ((guchar) s[i] < 33 || (guchar) s[i] > 126 || s[i] == '[' || s[i] == '\\' || s[i] == ']')
          return FALSE;
      return TRUE;
    }
  for (gsize i = 0; i <= len; i++)
    {
      if (i == len || s[i] == '.')
        {
          /* sub-domain = Let-dig [Ldh-str]: no empty label, no hyphen at either end */
          if (label_len == 0 || label_len > 63 || s[i - 1] == '-')
            return FALSE;
          label_len = 0;
        }
      else if (g_ascii_isalnum (s[i]) || (s[i] == '-' && label_len > 0))
        label_len++;
      else
        return FALSE;
    }
  return TRUE;
}

/* Where a quoted local part ends (the octet after its closing quote), or 0. */
static gsize
quoted_end (const char *s,
            gsize       len)
{
  for (gsize i = 1; i < len; i++)
    {
      if (s[i] == '\\')
        i++;
      else if (s[i] == '"')
        return i + 1;
    }
  return 0;
}

static gboolean
parse_mailbox (PlSmtpPath  *path,
               const char  *s,
               gsize        len,
               GError     **error)
{
  gsize at;

  if (s[0] == '"')
    {
      at = quoted_end (s, len);
      if (at == 0 || at >= len || s[at] != '@')
        at = len;
    }
  else
    {
      const char *p = memchr (s, '@', len);
      at = p != NULL ? (gsize) (p - s) : len;
    }

  if (at == len)
    {
      /* RFC 5321 4.1.1.3: "<Postmaster>" without a domain must be accepted. */
      if (g_ascii_strncasecmp (s, "postmaster", len) == 0 && len == strlen ("postmaster"))
        {
          path->local_part = g_strndup (s, len);
          return TRUE;
        }
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_ADDRESS,
                   "the address has no @domain");
      return FALSE;
    }
  if (at > PL_SMTP_MAX_LOCAL_PART)
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_TOO_LONG,
                   "local part longer than %u octets", PL_SMTP_MAX_LOCAL_PART);
      return FALSE;
    }
  if (len - at - 1 > PL_SMTP_MAX_DOMAIN)
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_TOO_LONG,
                   "domain longer than %u octets", PL_SMTP_MAX_DOMAIN);
      return FALSE;
    }
  if (!is_dot_string (s, at) && !is_quoted_string (s, at))
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_ADDRESS,
                   "bad local part before the @");
      return FALSE;
    }
  if (!is_domain (s + at + 1, len - at - 1))
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_ADDRESS,
                   "bad domain after the @");
      return FALSE;
    }
  path->local_part = g_strndup (s, at);
  path->domain = g_strndup (s + at + 1, len - at - 1);
  return TRUE;
}

/* RFC 5321 4.1.2: esmtp-keyword ["=" esmtp-value], each separated by spaces. */
static gboolean
parse_params (PlSmtpPath  *path,
              const char  *s,
              GError     **error)
{
  g_auto(GStrv) words = g_strsplit (s, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];
      const char *eq = strchr (word, '=');
      gsize key_len = eq != NULL ? (gsize) (eq - word) : strlen (word);
      PlSmtpParam *param;

      if (word[0] == '\0')
        continue;
      for (gsize k = 0; k < key_len; k++)
        if (!g_ascii_isalnum (word[k]) && (k == 0 || word[k] != '-'))
          {
            g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_PARAMETER,
                         "bad parameter keyword");
            return FALSE;
          }
      if (key_len == 0 || (eq != NULL && eq[1] == '\0'))
        {
          g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_PARAMETER,
                       "bad parameter");
          return FALSE;
        }
      if (eq != NULL)
        for (const char *v = eq + 1; *v != '\0'; v++)
          if ((guchar) *v < 33 || (guchar) *v > 126 || *v == '=')
            {
              g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_PARAMETER,
                           "bad parameter value");
              return FALSE;
            }
      param = g_new0 (PlSmtpParam, 1);
      param->keyword = g_ascii_strup (word, (gssize) key_len);
      param->value = eq != NULL ? g_strdup (eq + 1) : NULL;
      g_ptr_array_add (path->params, param);
    }
  return TRUE;
}

/*
 * pl_smtp_parse_path:
 * RFC 5321 4.1.1.2 and 4.1.1.3: "FROM:" Reverse-path [SP Mail-parameters]
 * and "TO:" Forward-path [SP Rcpt-parameters]. A source route
 * ("<@a.example:bob@b.example>") is read and dropped, as 4.1.1.3 and C
 * tell servers to do. The limits of 4.5.3.1 are checked.
 */
PlSmtpPath *
pl_smtp_parse_path (const char  *args,
                    const char  *keyword,
                    GError     **error)
{
  g_autoptr(PlSmtpPath) path = NULL;
  gsize key_len;
  const char *p = args;
  const char *open;
  const char *close = NULL;
  const char *inner;
  gsize inner_len;
  gboolean in_quotes = FALSE;

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (keyword != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  key_len = strlen (keyword);
  while (*p == ' ')
    p++;
  if (g_ascii_strncasecmp (p, keyword, key_len) != 0 || p[key_len] != ':')
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_KEYWORD,
                   "expected %s: before the address", keyword);
      return NULL;
    }
  p += key_len + 1;
  while (*p == ' ')
    p++;
  if (*p != '<')
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_BRACKETS,
                   "the address must be enclosed in <>");
      return NULL;
    }
  open = p;
  for (p = open + 1; *p != '\0'; p++)
    {
      if (in_quotes && *p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '"')
        in_quotes = !in_quotes;
      else if (*p == '>' && !in_quotes)
        {
          close = p;
          break;
        }
    }
  if (close == NULL)
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_BRACKETS,
                   "the address must be enclosed in <>: no closing >");
      return NULL;
    }
  if ((gsize) (close - open) + 1 > PL_SMTP_MAX_PATH)
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_TOO_LONG,
                   "path longer than %u octets", PL_SMTP_MAX_PATH);
      return NULL;
    }
  if (close[1] != '\0' && close[1] != ' ')
    {
      g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_PARAMETER,
                   "unexpected text after the address");
      return NULL;
    }

  path = g_new0 (PlSmtpPath, 1);
  path->params = g_ptr_array_new_with_free_func ((GDestroyNotify) param_free);
  inner = open + 1;
  inner_len = (gsize) (close - inner);

  /* A-d-l ":" : the source route of RFC 821, read and ignored. */
  if (inner_len > 0 && inner[0] == '@')
    {
      const char *colon = memchr (inner, ':', inner_len);

      if (colon == NULL)
        {
          g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_ADDRESS,
                       "source route without a colon");
          return NULL;
        }
      inner_len -= (gsize) (colon + 1 - inner);
      inner = colon + 1;
    }

  if (inner_len == 0)
    {
      if (inner != open + 1)
        {
          g_set_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_ADDRESS,
                       "source route without a mailbox");
          return NULL;
        }
      path->address = g_strdup ("");
      path->local_part = g_strdup ("");
    }
  else
    {
      if (!parse_mailbox (path, inner, inner_len, error))
        return NULL;
      path->address = g_strndup (inner, inner_len);
    }

  if (close[1] == ' ' && !parse_params (path, close + 2, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* Replies (RFC 5321 4.2) ----------------------------------------------------------- */

/*
 * pl_smtp_parse_reply_line:
 * RFC 5321 4.2: Reply-code [ SP textstring ] on the last line, Reply-code
 * "-" [ textstring ] on the others. Codes run 2yz to 5yz (4.2.1); a first
 * digit of 1 is read too, since RFC 821 had it and the tracer meets old
 * servers, but nothing else.
 */
gboolean
pl_smtp_parse_reply_line (const guint8 *line,
                          gsize         len,
                          guint        *code,
                          gboolean     *continues,
                          gsize        *text_start)
{
  g_return_val_if_fail (line != NULL || len == 0, FALSE);

  if (len < 3 || line[0] < '1' || line[0] > '5' || !g_ascii_isdigit (line[1]) || !g_ascii_isdigit (line[2]))
    return FALSE;
  if (len > 3 && line[3] != ' ' && line[3] != '-')
    return FALSE;
  if (code != NULL)
    *code = (guint) ((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
  if (continues != NULL)
    *continues = len > 3 && line[3] == '-';
  if (text_start != NULL)
    *text_start = len > 3 ? 4 : 3;
  return TRUE;
}

/* The text of one line of a reply, after its code and separator, without the line end. */
typedef struct {
  gsize start;
  gsize len;
} Span;

/*
 * A client reads every reply through here, a line at a time: the octets
 * and the spans are plain buffers grown by doubling (a GByteArray and a
 * GArray ask for room, and empty themselves, with a call each time).
 */
struct _PlSmtpReplyAccumulator
{
  guint8     *octets;
  gsize       octets_len;
  gsize       octets_size;
  Span       *spans;     /* where the text of each line is in octets */
  guint       n_spans;
  guint       spans_size;
  GPtrArray  *lines;     /* of char*, the text of each line once asked for, or NULL */
  guint       code;
  gboolean    malformed;
  gboolean    complete;
};

PlSmtpReplyAccumulator *
pl_smtp_reply_accumulator_new (void)
{
  PlSmtpReplyAccumulator *self = g_new0 (PlSmtpReplyAccumulator, 1);

  self->lines = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
pl_smtp_reply_accumulator_free (PlSmtpReplyAccumulator *self)
{
  if (self == NULL)
    return;
  g_free (self->octets);
  g_free (self->spans);
  g_ptr_array_unref (self->lines);
  g_free (self);
}

void
pl_smtp_reply_accumulator_reset (PlSmtpReplyAccumulator *self)
{
  g_return_if_fail (self != NULL);
  self->octets_len = 0;
  self->n_spans = 0;
  if (self->lines->len > 0)
    g_ptr_array_set_size (self->lines, 0);
  self->code = 0;
  self->malformed = FALSE;
  self->complete = FALSE;
}

/* Untrusted octets as text a person can be shown: valid UTF-8, no control characters. */
static char *
printable_text (const guint8 *data,
                gsize         len)
{
  g_autofree char *copy = g_malloc (len + 1);
  guint8 any = 0;

  for (gsize i = 0; i < len; i++)
    {
      copy[i] = (data[i] < 0x20 && data[i] != '\t') || data[i] == 0x7f ? '?' : (char) data[i];
      any |= data[i];
    }
  copy[len] = '\0';
  /* ASCII is UTF-8 already, and it is what replies mostly are. */
  if (any < 0x80)
    return g_steal_pointer (&copy);
  return g_utf8_make_valid (copy, (gssize) len);
}

/*
 * pl_smtp_reply_accumulator_add_line:
 * RFC 5321 4.2.1: the lines of a multi-line reply share a code, and all but
 * the last have "-" after it. A line after a complete reply starts the next.
 */
gboolean
pl_smtp_reply_accumulator_add_line (PlSmtpReplyAccumulator *self,
                                    const guint8           *raw,
                                    gsize                   raw_len,
                                    gsize                   len)
{
  guint code = 0;
  gboolean continues = FALSE;
  gsize text_start = 0;
  Span span;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (raw != NULL || raw_len == 0, FALSE);
  g_return_val_if_fail (len <= raw_len, FALSE);

  if (self->complete)
    pl_smtp_reply_accumulator_reset (self);

  /* The texts are made when asked for (EHLO's keywords, a challenge): most replies are read by their code. */
  span.start = self->octets_len;
  if (raw_len > self->octets_size - self->octets_len)
    {
      gsize size = MAX (self->octets_size * 2, 256);

      while (size < self->octets_len + raw_len)
        size *= 2;
      self->octets = g_realloc (self->octets, size);
      self->octets_size = size;
    }
  if (raw_len > 0)
    memcpy (self->octets + self->octets_len, raw, raw_len);
  self->octets_len += raw_len;
  if (self->n_spans == self->spans_size)
    {
      self->spans_size = MAX (self->spans_size * 2, 8);
      self->spans = g_renew (Span, self->spans, self->spans_size);
    }
  if (!pl_smtp_parse_reply_line (raw, len, &code, &continues, &text_start))
    {
      span.len = len;
      self->spans[self->n_spans++] = span;
      self->malformed = TRUE;
      self->code = 0;
      self->complete = TRUE;
      return TRUE;
    }
  span.start += text_start;
  span.len = len - text_start;
  self->spans[self->n_spans++] = span;
  self->code = code;
  self->complete = !continues;
  return self->complete;
}

guint
pl_smtp_reply_accumulator_get_code (PlSmtpReplyAccumulator *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->code;
}

gboolean
pl_smtp_reply_accumulator_is_malformed (PlSmtpReplyAccumulator *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->malformed;
}

const guint8 *
pl_smtp_reply_accumulator_get_octets (PlSmtpReplyAccumulator *self,
                                      gsize                  *len)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);
  *len = self->octets_len;
  return self->octets;
}

guint
pl_smtp_reply_accumulator_get_n_lines (PlSmtpReplyAccumulator *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_spans;
}

const char *
pl_smtp_reply_accumulator_get_line (PlSmtpReplyAccumulator *self,
                                    guint                   index)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (index >= self->n_spans)
    return NULL;
  /* One slot per line, made the first time any is asked for. */
  if (self->lines->len < self->n_spans)
    g_ptr_array_set_size (self->lines, self->n_spans);
  if (g_ptr_array_index (self->lines, index) == NULL)
    {
      const Span *span = &self->spans[index];

      g_ptr_array_index (self->lines, index) = printable_text (self->octets + span->start, span->len);
    }
  return g_ptr_array_index (self->lines, index);
}

PlSmtpReply *
pl_smtp_reply_new (guint       code,
                   const char *format,
                   ...)
{
  PlSmtpReply *reply = g_new0 (PlSmtpReply, 1);
  va_list args;

  reply->code = code;
  va_start (args, format);
  reply->text = g_strdup_vprintf (format, args);
  va_end (args);
  return reply;
}

PlSmtpReply *
pl_smtp_reply_new_take (guint  code,
                        char  *text)
{
  PlSmtpReply *reply = g_new0 (PlSmtpReply, 1);

  reply->code = code;
  reply->text = text != NULL ? text : g_strdup ("");
  return reply;
}

PlSmtpReply *
pl_smtp_reply_copy (const PlSmtpReply *reply)
{
  PlSmtpReply *copy;

  g_return_val_if_fail (reply != NULL, NULL);
  copy = g_new0 (PlSmtpReply, 1);
  copy->code = reply->code;
  copy->text = g_strdup (reply->text != NULL ? reply->text : "");
  return copy;
}

void
pl_smtp_reply_free (PlSmtpReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->text);
  g_free (reply);
}


/*
 * TRUE when some octet of @data is a control character (below 0x20, or
 * 0x7f), looked for eight at a time: a word has an octet below 0x20 when
 * (x - 0x20...) & ~x & 0x80... is not zero, and one equal to 0x7f when
 * x ^ 0x7f... has a zero octet (the usual tests, exact for "some octet").
 */
static gboolean
has_control (const guint8 *data,
             gsize         len)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      guint64 x;
      guint64 d;

      memcpy (&x, data + i, 8);
      d = x ^ (ones * 0x7f);
      if ((((x - ones * 0x20) & ~x) | ((d - ones) & ~d)) & highs)
        return TRUE;
    }
  for (; i < len; i++)
    if (data[i] < 0x20 || data[i] == 0x7f)
      return TRUE;
  return FALSE;
}

/*
 * pl_smtp_reply_append, pl_smtp_reply_format:
 * RFC 5321 4.2: each line but the last is code "-" text, the last code SP
 * text (or the code alone). A reply's text comes partly from callbacks and
 * from what the client sent (an address echoed back): nothing in it may
 * break the framing, so CR, LF and other controls never reach the wire.
 */
void
pl_smtp_reply_append (GByteArray *out,
                      guint       code,
                      const char *text)
{
  const char *line;

  g_return_if_fail (out != NULL);
  g_return_if_fail (code >= 100 && code <= 599);

  line = text != NULL ? text : "";
  for (;;)
    {
      const char *end = strchr (line, '\n');
      gsize len = end != NULL ? (gsize) (end - line) : strlen (line);
      gboolean bare = end == NULL && len == 0;
      guint start = out->len;
      guint8 *p;

      /* Each line written in place: "250", "-" or " " and the text, or the code alone; then CRLF. */
      g_byte_array_set_size (out, start + (bare ? 5 : (guint) len + 6));
      p = out->data + start;
      p[0] = (guint8) ('0' + code / 100);
      p[1] = (guint8) ('0' + code / 10 % 10);
      p[2] = (guint8) ('0' + code % 10);
      p += 3;
      if (!bare)
        {
          *p++ = end != NULL ? '-' : ' ';
          if (!has_control ((const guint8 *) line, len))
            {
              /* Replies are printable text: copied as they are (every reply a server sends comes here). */
              memcpy (p, line, len);
              p += len;
            }
          else
            for (gsize i = 0; i < len; i++)
              {
                guint8 c = (guint8) line[i];

                *p++ = c < 0x20 || c == 0x7f ? '?' : c;
              }
        }
      p[0] = '\r';
      p[1] = '\n';
      if (end == NULL)
        return;
      line = end + 1;
    }
}

GByteArray *
pl_smtp_reply_format (guint       code,
                      const char *text)
{
  GByteArray *out = g_byte_array_new ();

  g_return_val_if_fail (code >= 100 && code <= 599, out);
  pl_smtp_reply_append (out, code, text);
  return out;
}

/* Message content (RFC 5321 4.5.2) --------------------------------------------------- */

/*
 * Walks @data line by line (LF ends a line); @content_len excludes the line
 * end, a CR before the LF included. A last line without LF counts too.
 */
typedef void (*LineFunc) (const guint8 *line,
                          gsize         content_len,
                          gpointer      user_data);

static void
for_each_line (const guint8 *data,
               gsize         len,
               LineFunc      func,
               gpointer      user_data)
{
  gsize start = 0;

  while (start < len)
    {
      const guint8 *lf = memchr (data + start, '\n', len - start);
      gsize end = lf != NULL ? (gsize) (lf - data) : len;
      gsize content = end - start;

      if (content > 0 && data[end - 1] == '\r')
        content--;
      func (data + start, content, user_data);
      start = lf != NULL ? end + 1 : len;
    }
}

static void
stuff_line (const guint8 *line,
            gsize         content_len,
            gpointer      user_data)
{
  GByteArray *out = user_data;

  if (content_len > 0 && line[0] == '.')
    g_byte_array_append (out, (const guint8 *) ".", 1);
  g_byte_array_append (out, line, (guint) content_len);
  g_byte_array_append (out, (const guint8 *) "\r\n", 2);
}

/*
 * pl_smtp_dot_stuff:
 * RFC 5321 4.5.2: "Before sending a line of mail text, the SMTP client
 * checks the first character of the line. If it is a period, one
 * additional period is inserted at the beginning of the line." Lines are
 * sent with CRLF (2.3.8), whatever ended them in @data: a message whose
 * lines end in LF alone must not reach a server that takes "\n.\n" for the
 * end of the data (the 2023 "SMTP smuggling" attacks).
 */
void
pl_smtp_dot_stuff (GByteArray   *out,
                   const guint8 *data,
                   gsize         len)
{
  gsize start = 0;
  gsize run = 0;

  g_return_if_fail (out != NULL);
  g_return_if_fail (data != NULL || len == 0);

  /*
   * Most lines of a message go out as they are (CRLF, no leading dot): they
   * are copied in runs, and only a line that needs a dot or a CR is
   * written on its own.
   */
  while (start < len)
    {
      const guint8 *lf = memchr (data + start, '\n', len - start);
      gsize end = lf != NULL ? (gsize) (lf - data) : len;
      gsize next = lf != NULL ? end + 1 : len;

      if (data[start] == '.' || lf == NULL || end == start || data[end - 1] != '\r')
        {
          gsize content = end - start;

          if (content > 0 && data[end - 1] == '\r')
            content--;
          g_byte_array_append (out, data + run, (guint) (start - run));
          stuff_line (data + start, content, out);
          run = next;
        }
      start = next;
    }
  g_byte_array_append (out, data + run, (guint) (len - run));
}

static void
count_line (const guint8 *line,
            gsize         content_len,
            gpointer      user_data)
{
  gsize *size = user_data;

  *size += content_len + 2;
}

/* RFC 1870 section 3: the octets of the message with CRLF line ends, without stuffing. */
gsize
pl_smtp_message_size (const guint8 *data,
                      gsize         len)
{
  gsize size = 0;

  g_return_val_if_fail (data != NULL || len == 0, 0);
  for_each_line (data, len, count_line, &size);
  return size;
}

/*
 * pl_smtp_dot_unstuff:
 * RFC 5321 4.5.2: "If the first character [of a line] is a period and there
 * are other characters on the line, the first character is deleted." A line
 * of a single "." can only be the end of the data, which @data does not hold.
 */
GBytes *
pl_smtp_dot_unstuff (const guint8 *data,
                     gsize         len)
{
  GByteArray *out;
  gsize start = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  out = g_byte_array_sized_new ((guint) MIN (len, G_MAXUINT));
  while (start < len)
    {
      const guint8 *lf = memchr (data + start, '\n', len - start);
      gsize end = lf != NULL ? (gsize) (lf - data) + 1 : len;
      gsize from = start;

      if (data[from] == '.')
        from++;
      if (end > from)
        g_byte_array_append (out, data + from, (guint) (end - from));
      start = end;
    }
  return g_byte_array_free_to_bytes (out);
}

/* SASL's base64 (RFC 4954 section 4) ------------------------------------------------- */

static gboolean
is_base64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/*
 * pl_smtp_base64_decode:
 * RFC 4648 section 4 strictly: groups of four from the alphabet, "=" only
 * as padding at the very end. g_base64_decode() skips what it does not
 * know, which is right for mail bodies but would let "!!!" pass as a
 * credential here (RFC 4954 section 4 wants 501 for it).
 */
guint8 *
pl_smtp_base64_decode (const char *text,
                       gsize      *len)
{
  gsize n;
  gsize pad = 0;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  *len = 0;
  n = strlen (text);
  if (n % 4 != 0)
    return NULL;
  if (n == 0)
    return g_malloc0 (1);
  if (text[n - 1] == '=')
    pad++;
  if (text[n - 2] == '=')
    pad++;
  if (pad == 1 && text[n - 2] == '=')
    return NULL;
  for (gsize i = 0; i < n - pad; i++)
    if (!is_base64_char (text[i]))
      return NULL;
  return g_base64_decode (text, len);
}

/* TRUE when @data starts with a whole, valid, printable UTF-8 character. */
static gboolean
is_printable_utf8 (const guint8 *data,
                   gsize         len)
{
  gunichar ch = g_utf8_get_char_validated ((const char *) data, (gssize) len);

  return ch != (gunichar) -1 && ch != (gunichar) -2 && g_unichar_isprint (ch);
}

/* One decoded part, quoted, with anything unprintable escaped (a password may hold anything). */
static void
append_quoted (GString      *out,
               const guint8 *data,
               gsize         len)
{
  gsize i = 0;

  g_string_append_c (out, '"');
  while (i < len)
    {
      guint8 c = data[i];

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
          i++;
        }
      else if (c >= 0x20 && c < 0x7f)
        {
          g_string_append_c (out, (char) c);
          i++;
        }
      else if (c >= 0x80 && is_printable_utf8 (data + i, len - i))
        {
          const char *next = g_utf8_next_char ((const char *) data + i);
          gsize n = (gsize) (next - ((const char *) data + i));

          g_string_append_len (out, (const char *) data + i, (gssize) n);
          i += n;
        }
      else
        {
          g_string_append_printf (out, "\\x%02x", c);
          i++;
        }
    }
  g_string_append_c (out, '"');
}

/*
 * pl_smtp_annotate_base64:
 * RFC 4954 section 4 puts credentials on the wire in base64, which hides
 * nothing: showing them decoded is the lesson. AUTH PLAIN's response is
 * "authzid NUL authcid NUL passwd" (RFC 4616 section 2), so NULs split the
 * parts: "AGFsaWNlAHNlY3JldA==" shows as "" / "alice" / "secret".
 */
char *
pl_smtp_annotate_base64 (const char *shown,
                         const char *b64)
{
  g_autofree guint8 *decoded = NULL;
  g_autoptr(GString) out = NULL;
  gsize len = 0;
  gsize start = 0;

  g_return_val_if_fail (shown != NULL, NULL);

  if (b64 == NULL || b64[0] == '\0')
    return g_strdup (shown);
  decoded = pl_smtp_base64_decode (b64, &len);
  if (decoded == NULL)
    return g_strdup (shown);

  out = g_string_new (shown);
  g_string_append (out, "  (decodes to: ");
  for (gsize i = 0; i <= len; i++)
    if (i == len || decoded[i] == '\0')
      {
        if (start > 0)
          g_string_append (out, " / ");
        append_quoted (out, decoded + start, i - start);
        start = i + 1;
      }
  g_string_append_c (out, ')');
  return g_string_free (g_steal_pointer (&out), FALSE);
}
