/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The message an event carries (SMTP DATA, a POP3 RETR or TOP reply), taken off the wire as the receiver reads it. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <string.h>

#include "pl-event-message.h"

/* Where the body of a POP3 multi-line reply starts: after its status line. */
static gsize
after_first_line (const guint8 *data,
                  gsize         len)
{
  const guint8 *newline = memchr (data, '\n', len);

  return newline != NULL ? (gsize) (newline - data) + 1 : len;
}

/* A header field starts the message: a name of printable characters but ':', then ':' (RFC 5322 2.2). */
static gboolean
starts_with_field (const guint8 *data,
                   gsize         len)
{
  gsize i = 0;

  while (i < len && data[i] > 32 && data[i] < 127 && data[i] != ':')
    i++;
  return i > 0 && i < len && data[i] == ':';
}

gboolean
pl_event_carries_message (PlEvent    *event,
                          PlProtocol  protocol)
{
  const guint8 *data;
  gsize len = 0;
  gsize start;

  g_return_val_if_fail (event != NULL, FALSE);

  if (event->octets == NULL)
    return FALSE;
  if (event->kind == PL_EVENT_DATA)
    return TRUE;
  if (protocol != PL_PROTOCOL_POP3 || event->kind != PL_EVENT_REPLY
      || g_strcmp0 (event->status, "+OK") != 0)
    return FALSE;
  /* RETR and TOP answer with a message; LIST, UIDL and CAPA with lines that are no header. */
  data = g_bytes_get_data (event->octets, &len);
  start = after_first_line (data, len);
  return start < len && starts_with_field (data + start, len - start);
}

GBytes *
pl_event_dup_message (PlEvent    *event,
                      PlProtocol  protocol)
{
  const guint8 *data;
  gsize len = 0;
  gsize start = 0;
  GByteArray *message;

  g_return_val_if_fail (event != NULL, NULL);

  if (!pl_event_carries_message (event, protocol))
    return NULL;
  data = g_bytes_get_data (event->octets, &len);
  if (event->kind == PL_EVENT_REPLY)
    start = after_first_line (data, len);

  message = g_byte_array_sized_new (len - start);
  while (start < len)
    {
      const guint8 *newline = memchr (data + start, '\n', len - start);
      gsize end = newline != NULL ? (gsize) (newline - data) + 1 : len;
      gsize line_len = end - start;
      const guint8 *line = data + start;

      /* The line holding a single dot ends the message. */
      if ((line_len == 3 && memcmp (line, ".\r\n", 3) == 0) || (line_len == 2 && memcmp (line, ".\n", 2) == 0)
          || (line_len == 1 && line[0] == '.'))
        break;
      /* A leading dot was doubled on the wire. */
      if (line_len > 1 && line[0] == '.')
        {
          line++;
          line_len--;
        }
      g_byte_array_append (message, line, (guint) line_len);
      start = end;
    }
  return g_byte_array_free_to_bytes (message);
}
