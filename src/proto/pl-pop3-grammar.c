/* SPDX-License-Identifier: GPL-3.0-or-later */
/* POP3's grammar (RFC 1939, RFC 2449): command and reply parsers shared by the server, client and tracer. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-pop3-grammar.h"

#include <string.h>

#include "pl-line-reader.h"

/* RFC 2449 section 4 lets extension keywords run to 40 characters. */
#define MAX_VERB_LEN PL_POP3_MAX_VERB_LEN

/*
 * pl_pop3_split_command, pl_pop3_parse_command:
 * RFC 1939 section 3: a keyword, then arguments separated by single spaces.
 * The verb ends at the first space; everything after that one space is the
 * argument string, kept as sent (PASS may hold spaces, section 7). The
 * octets come from the wire, so nothing is assumed about them: a line whose
 * arguments hold a NUL cannot be returned as a C string and is refused too.
 * pl_pop3_split_command() only says where the parts are, for the engines,
 * which parse every line and keep strings only for the events they make.
 */
gboolean
pl_pop3_split_command (const guint8 *line,
                       gsize         len,
                       gsize        *verb_len,
                       gsize        *args_start)
{
  return pl_line_split_command (line, len, MAX_VERB_LEN, verb_len, args_start);
}

gboolean
pl_pop3_parse_command (const guint8  *line,
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
  if (!pl_pop3_split_command (line, len, &verb_len, &args_start))
    return FALSE;
  *verb = g_ascii_strup ((const char *) line, (gssize) verb_len);
  *args = g_strndup ((const char *) line + args_start, len - args_start);
  return TRUE;
}

static gboolean
ends_indicator (const guint8 *line,
                gsize         len,
                gsize         pos)
{
  return pos == len || line[pos] == ' ' || line[pos] == '\r' || line[pos] == '\n';
}

/*
 * pl_pop3_parse_status:
 * RFC 1939 section 3: "+OK" or "-ERR", then a space and text or the line's
 * end; RFC 5034 section 4: "+" then a space (or the line's end) for a SASL
 * continuation. The indicator is matched without regard to case, as some
 * servers in the wild send "+Ok". @line may include its terminator.
 */
PlPop3Status
pl_pop3_parse_status (const guint8 *line,
                      gsize         len)
{
  g_return_val_if_fail (line != NULL || len == 0, PL_POP3_STATUS_INVALID);

  if (len >= 3 && g_ascii_strncasecmp ((const char *) line, "+OK", 3) == 0
      && ends_indicator (line, len, 3))
    return PL_POP3_STATUS_OK;
  if (len >= 4 && g_ascii_strncasecmp ((const char *) line, "-ERR", 4) == 0
      && ends_indicator (line, len, 4))
    return PL_POP3_STATUS_ERR;
  if (len >= 1 && line[0] == '+' && ends_indicator (line, len, 1))
    return PL_POP3_STATUS_CONTINUE;
  return PL_POP3_STATUS_INVALID;
}

/* The status as it is written on the wire ("+" for a continuation), or NULL. */
const char *
pl_pop3_status_to_string (PlPop3Status status)
{
  switch (status)
    {
    case PL_POP3_STATUS_OK:
      return "+OK";
    case PL_POP3_STATUS_ERR:
      return "-ERR";
    case PL_POP3_STATUS_CONTINUE:
      return "+";
    case PL_POP3_STATUS_INVALID:
    default:
      return NULL;
    }
}

static gboolean
is_blank (const char *text)
{
  for (; *text != '\0'; text++)
    if (*text != ' ' && *text != '\t')
      return FALSE;
  return TRUE;
}

/*
 * pl_pop3_reply_is_multiline:
 * RFC 1939 section 5 and 7: RETR, TOP, and LIST and UIDL without an
 * argument; RFC 2449 section 5: CAPA. A bare AUTH also lists the SASL
 * mechanisms as a multi-line reply (the RFC 1734 habit that Dovecot and
 * Outlook keep). @verb is matched without regard to case; @args may be NULL.
 */
gboolean
pl_pop3_reply_is_multiline (const char *verb,
                            const char *args)
{
  gboolean no_args;

  g_return_val_if_fail (verb != NULL, FALSE);

  no_args = args == NULL || is_blank (args);
  if (g_ascii_strcasecmp (verb, "RETR") == 0
      || g_ascii_strcasecmp (verb, "TOP") == 0
      || g_ascii_strcasecmp (verb, "CAPA") == 0)
    return TRUE;
  if (g_ascii_strcasecmp (verb, "LIST") == 0
      || g_ascii_strcasecmp (verb, "UIDL") == 0
      || g_ascii_strcasecmp (verb, "AUTH") == 0)
    return no_args;
  return FALSE;
}

/*
 * pl_pop3_dot_stuff:
 * RFC 1939 section 3 ("byte-stuffed"): a line of a multi-line body that
 * starts with the termination octet gets one more in front. Lines end at
 * LF; the caller adds the line end and "." that end the body.
 */
void
pl_pop3_dot_stuff (GByteArray   *out,
                   const guint8 *data,
                   gsize         len)
{
  gsize line_start = 0;
  gsize run = 0;

  g_return_if_fail (out != NULL);
  g_return_if_fail (data != NULL || len == 0);

  /* Copied in runs: only where a line starts with the termination octet does one more go in. */
  while (line_start < len)
    {
      const guint8 *lf = memchr (data + line_start, '\n', len - line_start);

      if (data[line_start] == '.')
        {
          g_byte_array_append (out, data + run, (guint) (line_start - run));
          g_byte_array_append (out, (const guint8 *) ".", 1);
          run = line_start;
        }
      line_start = lf != NULL ? (gsize) (lf - data) + 1 : len;
    }
  g_byte_array_append (out, data + run, (guint) (len - run));
}

/*
 * pl_pop3_dot_unstuff:
 * RFC 1939 section 3: "If the line begins with the termination octet, the
 * octet is stripped". @data is the body without its terminating "." line.
 */
GBytes *
pl_pop3_dot_unstuff (const guint8 *data,
                     gsize         len)
{
  GByteArray *out;
  gsize line_start = 0;
  gsize run = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  out = g_byte_array_sized_new ((guint) MIN (len, G_MAXUINT));
  /* Copied in runs: only the termination octets in front of lines are left out. */
  while (line_start < len)
    {
      const guint8 *lf = memchr (data + line_start, '\n', len - line_start);

      if (data[line_start] == '.')
        {
          g_byte_array_append (out, data + run, (guint) (line_start - run));
          run = line_start + 1;
        }
      line_start = lf != NULL ? (gsize) (lf - data) + 1 : len;
    }
  g_byte_array_append (out, data + run, (guint) (len - run));
  return g_byte_array_free_to_bytes (out);
}
