/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a mail server writes into messages: dates, message ids, the headers a submission lacks, bounces. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-submission.h"

#include <string.h>

/* The original's header in a bounce: enough to recognise it, bounded whatever came in. */
#define BOUNCE_HEADER_MAX (64 * 1024)

char *
pl_rfc5322_date (GDateTime *when)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  GTimeSpan offset;
  gint64 minutes;
  char sign;

  g_return_val_if_fail (when != NULL, NULL);

  offset = g_date_time_get_utc_offset (when);
  sign = offset < 0 ? '-' : '+';
  minutes = (offset < 0 ? -offset : offset) / G_TIME_SPAN_MINUTE;
  return g_strdup_printf ("%s, %d %s %d %02d:%02d:%02d %c%02d%02d",
                          days[g_date_time_get_day_of_week (when) - 1],
                          g_date_time_get_day_of_month (when),
                          months[g_date_time_get_month (when) - 1],
                          g_date_time_get_year (when),
                          g_date_time_get_hour (when), g_date_time_get_minute (when),
                          g_date_time_get_second (when),
                          sign, (int) (minutes / 60), (int) (minutes % 60));
}

/* RFC 5322 2.2: a field name is printable ASCII but ':', then ':'. */
static gboolean
line_is_field (const char *line,
               gsize       len)
{
  gsize i;

  for (i = 0; i < len && line[i] != ':'; i++)
    if ((guchar) line[i] <= 0x20 || (guchar) line[i] >= 0x7F)
      return FALSE;
  return i > 0 && i < len;
}

static gboolean
field_is (const char *line,
          gsize       len,
          const char *name)
{
  gsize n = strlen (name);

  return len > n && line[n] == ':' && g_ascii_strncasecmp (line, name, n) == 0;
}

/*
 * Where the header of @data ends: the offset of the line that ends it (the
 * empty line, a line that is no field, or the end). *@blank says whether
 * that line is the empty line.
 */
static gsize
header_end (const char *data,
            gsize       len,
            gboolean   *blank,
            gboolean   *has_date,
            gboolean   *has_id)
{
  gsize pos = 0;

  *blank = FALSE;
  while (pos < len)
    {
      const char *lf = memchr (data + pos, '\n', len - pos);
      gsize line_len = (lf != NULL ? (gsize) (lf - (data + pos)) : len - pos);
      gsize content = line_len;

      if (content > 0 && data[pos + content - 1] == '\r')
        content--;
      if (content == 0)
        {
          *blank = TRUE;
          return pos;
        }
      if (data[pos] != ' ' && data[pos] != '\t')
        {
          if (!line_is_field (data + pos, content))
            return pos;
          if (has_date != NULL && field_is (data + pos, content, "Date"))
            *has_date = TRUE;
          if (has_id != NULL && field_is (data + pos, content, "Message-ID"))
            *has_id = TRUE;
        }
      if (lf == NULL)
        return len;
      pos += line_len + 1;
    }
  return len;
}

GBytes *
pl_submission_complete (GBytes      *message,
                        GDateTime   *now,
                        const char  *id,
                        const char  *hostname,
                        char       **added)
{
  gsize len, end;
  const char *data;
  gboolean blank = FALSE, has_date = FALSE, has_id = FALSE;
  g_autoptr(GString) out = NULL;
  g_autoptr(GString) what = g_string_new (NULL);

  g_return_val_if_fail (message != NULL, NULL);
  g_return_val_if_fail (now != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (hostname != NULL, NULL);

  if (added != NULL)
    *added = NULL;
  data = g_bytes_get_data (message, &len);
  end = header_end (data, len, &blank, &has_date, &has_id);
  if (has_date && has_id)
    return g_bytes_ref (message);

  out = g_string_sized_new (len + 128);
  g_string_append_len (out, data, (gssize) end);
  /* A header that ends without a line end: close its last line first. */
  if (end > 0 && data[end - 1] != '\n')
    g_string_append (out, "\r\n");
  if (!has_date)
    {
      g_autofree char *date = pl_rfc5322_date (now);

      g_string_append_printf (out, "Date: %s\r\n", date);
      g_string_append (what, "Date");
    }
  if (!has_id)
    {
      g_string_append_printf (out, "Message-ID: <%s@%s>\r\n", id, hostname);
      g_string_append_printf (what, "%sMessage-ID", what->len > 0 ? ", " : "");
    }
  /* Text that is no header field starts the body: RFC 5322 wants the empty line before it. */
  if (!blank && end < len)
    g_string_append (out, "\r\n");
  g_string_append_len (out, data + end, (gssize) (len - end));

  if (added != NULL)
    *added = g_strdup (what->str);
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

char *
pl_message_dup_header (GBytes *message,
                       gsize   max)
{
  gsize len, end;
  const char *data;
  gboolean blank;

  g_return_val_if_fail (message != NULL, NULL);

  data = g_bytes_get_data (message, &len);
  end = header_end (data, len, &blank, NULL, NULL);
  while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r'))
    end--;
  return g_strndup (data, MIN (end, max));
}

/* Lines of @text, each with CRLF, valid UTF-8, none longer than SMTP takes (RFC 5321 4.5.3.1.6). */
static void
append_text (GString    *out,
             const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_auto(GStrv) lines = g_strsplit (valid, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize len = strlen (line);

      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
      while (len > 990)
        {
          const char *cut = g_utf8_find_prev_char (line, line + 990);
          gsize take = cut != NULL && cut > line ? (gsize) (cut - line) : 990;

          g_string_append_len (out, line, (gssize) take);
          g_string_append (out, "\r\n ");
          line += take;
          len -= take;
        }
      g_string_append_printf (out, "%s\r\n", line);
    }
}

GBytes *
pl_bounce_compose (const char              *hostname,
                   const char              *sender,
                   const PlBounceRecipient *recipients,
                   guint                    n_recipients,
                   const char              *explanation,
                   GBytes                  *original,
                   const char              *original_id,
                   GDateTime               *now,
                   const char              *id)
{
  GString *out;
  g_autofree char *date = NULL;
  g_autofree char *header = NULL;
  g_autoptr(GString) body = g_string_new (NULL);

  g_return_val_if_fail (hostname != NULL, NULL);
  g_return_val_if_fail (sender != NULL, NULL);
  g_return_val_if_fail (recipients != NULL || n_recipients == 0, NULL);
  g_return_val_if_fail (original != NULL, NULL);
  g_return_val_if_fail (now != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  date = pl_rfc5322_date (now);
  header = pl_message_dup_header (original, BOUNCE_HEADER_MAX);

  out = g_string_new (NULL);
  g_string_append_printf (out, "Date: %s\r\n", date);
  g_string_append_printf (out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", hostname);
  g_string_append_printf (out, "To: <%s>\r\n", sender);
  g_string_append (out, "Subject: Undelivered Mail Returned to Sender\r\n");
  g_string_append_printf (out, "Message-ID: <%s@%s>\r\n", id, hostname);
  /* RFC 3834 section 5: a machine wrote this; nobody should auto-reply to it. */
  g_string_append (out, "Auto-Submitted: auto-replied\r\n");
  g_string_append (out, "MIME-Version: 1.0\r\n");
  g_string_append (out, "Content-Type: text/plain; charset=utf-8\r\n");
  g_string_append (out, "Content-Transfer-Encoding: 8bit\r\n");
  g_string_append (out, "\r\n");

  g_string_append_printf (body,
                          "This is the mail system at %s.\n"
                          "\n"
                          "Your message could not be delivered to %s:\n"
                          "\n",
                          hostname, n_recipients == 1 ? "this recipient" : "these recipients");
  for (guint i = 0; i < n_recipients; i++)
    g_string_append_printf (body, "<%s>\n    %s\n\n", recipients[i].address, recipients[i].reason);
  if (explanation != NULL)
    g_string_append_printf (body, "%s\n\n", explanation);
  if (original_id != NULL)
    g_string_append_printf (body, "Your message was queued here as %s. Its headers follow.\n\n", original_id);
  else
    g_string_append (body, "The headers of your message follow.\n\n");
  g_string_append (body, "----- Headers of the original message -----\n\n");
  g_string_append (body, header);
  append_text (out, body->str);
  return g_string_free_to_bytes (out);
}
