/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Message headers as GMime parses them (RFC 5322), for the places that need them. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-message.h"

#include <gmime/gmime.h>
#include <string.h>

/* GMime keeps global tables; g_mime_init() must run once, before any thread parses. */
static void
ensure_gmime (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }
}

/* The length of the header section: up to and including the empty line, or everything. */
static gsize
header_length (const guint8 *data,
               gsize         len)
{
  /* An empty line first: no header at all. */
  if (len >= 1 && data[0] == '\n')
    return 0;
  if (len >= 2 && data[0] == '\r' && data[1] == '\n')
    return 0;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] != '\n')
        continue;
      if (i + 1 < len && data[i + 1] == '\n')
        return i + 2;
      if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
        return i + 3;
    }
  return len;
}

static char *
address_list_text (InternetAddressList *list)
{
  char *text;

  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  /* encode = FALSE: decoded UTF-8 for people, not RFC 2047 for the wire. */
  text = internet_address_list_to_string (list, NULL, FALSE);
  if (text != NULL && text[0] == '\0')
    g_clear_pointer (&text, g_free);
  return text;
}

static char *
header_text (GMimeObject *object,
             const char  *name)
{
  const char *value = g_mime_object_get_header (object, name);

  return value != NULL ? g_strdup (value) : NULL;
}

static void
summarize (PlMessageSummary *summary,
           GMimeMessage     *parsed)
{
  GMimeHeaderList *headers;

  summary->from = address_list_text (g_mime_message_get_from (parsed));
  summary->to = address_list_text (g_mime_message_get_to (parsed));
  summary->subject = g_strdup (g_mime_message_get_subject (parsed));
  summary->date = header_text (GMIME_OBJECT (parsed), "Date");
  summary->message_id = g_strdup (g_mime_message_get_message_id (parsed));

  /* In header order: the top one was added by the last server (RFC 5321 section 4.4). */
  headers = g_mime_object_get_header_list (GMIME_OBJECT (parsed));
  for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);

      if (g_ascii_strcasecmp (g_mime_header_get_name (header), "Received") == 0)
        g_ptr_array_add (summary->received, g_strdup (g_mime_header_get_value (header)));
    }
}

/*
 * pl_message_summary_parse:
 * Parses the header section of @message (RFC 5322 section 2.2, CRLF or LF
 * line ends); encoded words (RFC 2047) are decoded to UTF-8. Only the header
 * is handed to GMime, so a large body costs nothing. Never fails: missing
 * headers are NULL, and received is empty when there are none.
 */
PlMessageSummary *
pl_message_summary_parse (GBytes *message)
{
  g_autoptr(PlMessageSummary) summary = NULL;
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *parsed;
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (message != NULL, NULL);

  ensure_gmime ();
  summary = g_new0 (PlMessageSummary, 1);
  summary->received = g_ptr_array_new_with_free_func (g_free);

  data = g_bytes_get_data (message, &len);
  len = header_length (data, len);
  if (len == 0)
    return g_steal_pointer (&summary);

  /* GMime 3.2 declares no g_autoptr cleanups: plain unrefs below. */
  stream = g_mime_stream_mem_new_with_buffer ((const char *) data, len);
  parser = g_mime_parser_new_with_stream (stream);
  parsed = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (parsed == NULL)
    return g_steal_pointer (&summary);

  summarize (summary, parsed);
  g_object_unref (parsed);
  return g_steal_pointer (&summary);
}

void
pl_message_summary_free (PlMessageSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->from);
  g_free (summary->to);
  g_free (summary->subject);
  g_free (summary->date);
  g_free (summary->message_id);
  if (summary->received != NULL)
    g_ptr_array_unref (summary->received);
  g_free (summary);
}
