/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlInspector: the current step explained: what it means and its RFC, its exact octets, and the message it carries. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <inttypes.h>

#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>
#include <glib/gi18n.h>

#include "pl-event-message.h"
#include "pl-explain.h"
#include "pl-inspector.h"
#include "pl-message.h"
#include "pl-palette.h"
#include "pl-transcript-row.h"

/* How much of a unit the inspector shows: a 20 kB RETR reply is there in full in the octets' count. */
#define MAX_TEXT_OCTETS 4096
#define MAX_HEX_OCTETS  2048

struct _PlInspector
{
  GtkWidget      parent_instance;

  /* Template children. */
  GtkLabel      *title_label;
  GtkLabel      *meta_label;
  GtkLabel      *explanation_label;
  GtkLinkButton *reference_button;
  GtkWidget     *message_box;
  GtkLabel      *headers_label;
  GtkLabel      *received_label;
  GtkLabel      *parts_label;
  GtkLabel      *octets_heading;
  GtkLabel      *octets_text_label;
  GtkLabel      *hex_label;

  PlCursor      *cursor;
  PlDocument    *document;
};

G_DEFINE_FINAL_TYPE (PlInspector, pl_inspector, GTK_TYPE_WIDGET)

char *
pl_inspector_format_hex (const guint8 *data,
                         gsize         len,
                         gsize         max)
{
  GString *out = g_string_new (NULL);
  gsize shown = MIN (len, max);

  for (gsize offset = 0; offset < shown; offset += 16)
    {
      g_string_append_printf (out, "%04" G_GSIZE_MODIFIER "x  ", offset);
      for (gsize i = 0; i < 16; i++)
        {
          if (offset + i < shown)
            g_string_append_printf (out, "%02x ", data[offset + i]);
          else
            g_string_append (out, "   ");
          if (i == 7)
            g_string_append_c (out, ' ');
        }
      g_string_append_c (out, ' ');
      for (gsize i = 0; i < 16 && offset + i < shown; i++)
        {
          guint8 c = data[offset + i];

          g_string_append_c (out, c >= 0x20 && c < 0x7f ? (char) c : '.');
        }
      if (offset + 16 < shown)
        g_string_append_c (out, '\n');
    }
  if (len > shown)
    /* Translators: at the end of a cut hex dump. */
    g_string_append_printf (out, _("\n… and %" PRIu64 " more octets"), (uint64_t) (len - shown));
  return g_string_free (out, FALSE);
}

char *
pl_inspector_format_text (const guint8 *data,
                          gsize         len,
                          gsize         max)
{
  GString *out = g_string_new (NULL);
  gsize shown = MIN (len, max);
  /* Escapes stand out from the text they are in, and no font needs the ␍␊ symbols. */
  const char *open = "<span alpha=\"55%\" weight=\"bold\">";
  const char *close = "</span>";

  for (gsize i = 0; i < shown; i++)
    {
      guint8 c = data[i];

      switch (c)
        {
        case '\r':
          g_string_append_printf (out, "%s\\r%s", open, close);
          break;
        case '\n':
          g_string_append_printf (out, "%s\\n%s\n", open, close);
          break;
        case '\t':
          g_string_append_printf (out, "%s\\t%s", open, close);
          break;
        case '<':
          g_string_append (out, "&lt;");
          break;
        case '>':
          g_string_append (out, "&gt;");
          break;
        case '&':
          g_string_append (out, "&amp;");
          break;
        default:
          if (c < 0x20 || c >= 0x7f)
            g_string_append_printf (out, "%s\\x%02x%s", open, c, close);
          else
            g_string_append_c (out, (char) c);
        }
    }
  /* No empty line after the last line end. */
  if (out->len > 0 && out->str[out->len - 1] == '\n')
    g_string_truncate (out, out->len - 1);
  if (len > shown)
    g_string_append_printf (out, _("\n… and %" PRIu64 " more octets"), (uint64_t) (len - shown));
  return g_string_free (out, FALSE);
}

/* "RFC 1939 section 7" → https://www.rfc-editor.org/rfc/rfc1939#section-7 */
static char *
reference_uri (const char *reference)
{
  guint rfc = 0;
  char section[32] = "";

  if (reference == NULL || sscanf (reference, "RFC %u section %31s", &rfc, section) < 1 || rfc == 0)
    return NULL;
  if (section[0] != '\0')
    return g_strdup_printf ("https://www.rfc-editor.org/rfc/rfc%u#section-%s", rfc, section);
  return g_strdup_printf ("https://www.rfc-editor.org/rfc/rfc%u", rfc);
}

/* What a note means: notes are the simulator's and the tracer's remarks, not traffic. */
static void
explain_note (PlEvent     *event,
              const char **summary,
              const char **reference)
{
  const char *verb = event->verb != NULL ? event->verb : "";

  *reference = NULL;
  if (g_str_equal (verb, "MAILBOX"))
    *summary = _("What the mailbox holds now. The simulator says so whenever it changes; "
                 "nothing of this crosses the network.");
  else if (g_str_equal (verb, "QUEUE"))
    {
      *summary = _("What waits in the sending server’s queue: it keeps each message until the "
                   "next server has taken it, trying again later when that fails.");
      *reference = "RFC 5321 section 4.5.4.1";
    }
  else if (g_str_equal (verb, "DNS"))
    {
      *summary = _("Before relaying, the sending server asks the DNS which host takes mail for "
                   "the recipient’s domain (its MX record), then connects to that host.");
      *reference = "RFC 5321 section 5.1";
    }
  else if (g_str_equal (verb, "TCP"))
    {
      *summary = _("A TCP connection opens with the three-way handshake: SYN, SYN-ACK, ACK. Only "
                   "then can the first command or greeting be sent. Turn on “Show TCP Segments” "
                   "to see it.");
      *reference = "RFC 9293 section 3.5";
    }
  else
    *summary = _("A remark about the session, not something sent over the network.");
}

static void
show_reference (PlInspector *self,
                const char  *reference)
{
  g_autofree char *uri = reference_uri (reference);

  gtk_widget_set_visible (GTK_WIDGET (self->reference_button), uri != NULL);
  if (uri == NULL)
    return;
  gtk_link_button_set_uri (self->reference_button, uri);
  gtk_button_set_label (GTK_BUTTON (self->reference_button), reference);
}

/* One Received: header as "from → by, with, id, at": the hop it records. */
static char *
format_received (const char *value,
                 guint       hop)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GString) clean = g_string_new (NULL);
  const char *from = "?";
  const char *by = "?";
  const char *with = NULL;
  const char *id = NULL;
  const char *semicolon = strrchr (value, ';');
  g_autofree char *when = NULL;
  g_autofree char *from_e = NULL;
  g_autofree char *by_e = NULL;

  /* Folded lines unfold into single spaces (RFC 5322 2.2.3). */
  for (const char *p = value; *p != '\0' && p != semicolon; p++)
    {
      char c = (*p == '\r' || *p == '\n' || *p == '\t') ? ' ' : *p;

      if (c == ' ' && clean->len > 0 && clean->str[clean->len - 1] == ' ')
        continue;
      g_string_append_c (clean, c);
    }
  words = g_strsplit (clean->str, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i + 1] == NULL)
        break;
      if (g_ascii_strcasecmp (words[i], "from") == 0)
        from = words[i + 1];
      else if (g_ascii_strcasecmp (words[i], "by") == 0)
        by = words[i + 1];
      else if (g_ascii_strcasecmp (words[i], "with") == 0)
        with = words[i + 1];
      else if (g_ascii_strcasecmp (words[i], "id") == 0)
        id = words[i + 1];
    }
  if (semicolon != NULL)
    when = g_strstrip (g_strdup (semicolon + 1));

  from_e = g_markup_escape_text (from, -1);
  by_e = g_markup_escape_text (by, -1);
  {
    g_autofree char *with_e = g_markup_escape_text (with != NULL ? with : "?", -1);
    g_autofree char *id_e = g_markup_escape_text (id != NULL ? id : "?", -1);
    g_autofree char *when_e = g_markup_escape_text (when != NULL ? when : "?", -1);

    /* Translators: one hop of a message's path, from its Received: header (markup). */
    return g_strdup_printf (_("%u. <b>%s</b> → <b>%s</b>  (with %s, id %s, %s)"),
                            hop, from_e, by_e, with_e, id_e, when_e);
  }
}

static void
describe_part (GMimeObject *parent,
               GMimeObject *part,
               gpointer     user_data)
{
  GString *out = user_data;
  GMimeContentType *type = g_mime_object_get_content_type (part);
  g_autofree char *mime_type = type != NULL ? g_mime_content_type_get_mime_type (type) : g_strdup ("?");

  if (out->len > 0)
    g_string_append_c (out, '\n');
  g_string_append_printf (out, "• %s", mime_type);
  if (GMIME_IS_PART (part))
    {
      GMimePart *leaf = GMIME_PART (part);
      const char *charset = type != NULL ? g_mime_content_type_get_parameter (type, "charset") : NULL;
      const char *filename = g_mime_part_get_filename (leaf);
      GMimeContentEncoding encoding = g_mime_part_get_content_encoding (leaf);

      if (charset != NULL)
        g_string_append_printf (out, "; charset=%s", charset);
      if (encoding != GMIME_CONTENT_ENCODING_DEFAULT)
        g_string_append_printf (out, ", %s", g_mime_content_encoding_to_string (encoding));
      if (filename != NULL)
        /* Translators: an attachment's file name. */
        g_string_append_printf (out, _(", file “%s”"), filename);
    }
}

/* GMime 3.2 has no autoptr cleanups: its objects are released by hand here. */
static void
describe_parts (GBytes  *message,
                GString *parts)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer ((const char *) data, len);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *parsed = g_mime_parser_construct_message (parser, NULL);
  GMimeObject *top = parsed != NULL ? g_mime_message_get_mime_part (parsed) : NULL;

  if (top == NULL)
    g_string_append (parts, _("• text/plain (no Content-Type: header, so the default)"));
  else
    {
      describe_part (NULL, top, parts);
      /* foreach walks what a multipart holds; a single part was said above. */
      if (GMIME_IS_MULTIPART (top))
        g_mime_multipart_foreach (GMIME_MULTIPART (top), describe_part, parts);
    }

  g_clear_object (&parsed);
  g_object_unref (parser);
  g_object_unref (stream);
}

typedef struct {
  const char *name;
  const char *value;
} HeaderField;

static void
show_message (PlInspector *self,
              GBytes      *message)
{
  g_autoptr(PlMessageSummary) summary = NULL;
  g_autoptr(GString) headers = g_string_new (NULL);
  g_autoptr(GString) received = g_string_new (NULL);
  g_autoptr(GString) parts = g_string_new (NULL);
  HeaderField fields[5];
  guint n_fields = 0;

  gtk_widget_set_visible (self->message_box, message != NULL);
  if (message == NULL)
    return;

  /* Also makes sure GMime is set up (once, whatever thread asked first). */
  summary = pl_message_summary_parse (message);
  fields[n_fields++] = (HeaderField) { "From", summary->from };
  fields[n_fields++] = (HeaderField) { "To", summary->to };
  fields[n_fields++] = (HeaderField) { "Subject", summary->subject };
  fields[n_fields++] = (HeaderField) { "Date", summary->date };
  fields[n_fields++] = (HeaderField) { "Message-ID", summary->message_id };
  for (guint i = 0; i < n_fields; i++)
    {
      g_autofree char *value = NULL;

      if (fields[i].value == NULL)
        continue;
      value = g_markup_escape_text (fields[i].value, -1);
      if (headers->len > 0)
        g_string_append_c (headers, '\n');
      g_string_append_printf (headers, "<b>%s:</b> %s", fields[i].name, value);
    }
  gtk_label_set_markup (self->headers_label, headers->str);

  /* Each server puts its Received: on top: the oldest hop is the last one. */
  for (guint i = summary->received->len, hop = 1; i > 0; i--, hop++)
    {
      g_autofree char *line = format_received (g_ptr_array_index (summary->received, i - 1), hop);

      if (received->len > 0)
        g_string_append_c (received, '\n');
      g_string_append (received, line);
    }
  if (received->len == 0)
    g_string_append (received, _("No Received: header: this message has not passed a mail server yet."));
  gtk_label_set_markup (self->received_label, received->str);

  describe_parts (message, parts);
  gtk_label_set_text (self->parts_label, parts->str);
}

static void
update (PlInspector *self)
{
  PlEvent *event = self->cursor != NULL ? pl_cursor_get_event (self->cursor) : NULL;
  PlSession *session = NULL;
  PlTopology *topology = self->document != NULL ? pl_document_get_topology (self->document) : NULL;
  const char *summary = NULL;
  const char *reference = NULL;
  g_autofree char *title = NULL;
  g_autofree char *meta = NULL;
  g_autoptr(GBytes) message = NULL;
  PlProtocol protocol;
  guint client;
  guint server;

  if (event == NULL || self->document == NULL)
    {
      gtk_label_set_text (self->title_label, _("Nothing sent yet"));
      gtk_label_set_text (self->meta_label, "");
      gtk_label_set_text (self->explanation_label,
                          _("Step through the trace (→, or Space to play) and each command and reply "
                            "is explained here: what it means, the RFC that says so, and the exact "
                            "octets that crossed the wire."));
      show_reference (self, NULL);
      show_message (self, NULL);
      gtk_label_set_text (self->octets_heading, _("Exact octets"));
      gtk_label_set_text (self->octets_text_label, "");
      gtk_label_set_text (self->hex_label, "");
      return;
    }

  session = pl_trace_get_session (pl_document_get_trace (self->document), event->session);
  protocol = session != NULL ? session->protocol : PL_PROTOCOL_UNKNOWN;

  {
    /* The first line: the rest is in the octets and, for a message, parsed below. */
    g_autofree char *first_line = pl_transcript_row_summarize (event, 300);

    title = g_strdup_printf ("%s %s",
                             event->dir == PL_DIR_CLIENT ? "C:" : event->dir == PL_DIR_SERVER ? "S:" : "··",
                             first_line);
    gtk_label_set_text (self->title_label, title);
  }

  {
    const char *hop = session != NULL ? pl_palette_hop_name (session->hop) : NULL;
    g_autofree char *route = NULL;

    if (topology != NULL && pl_topology_get_session_hosts (topology, event->session, &client, &server, NULL))
      {
        const char *c = pl_topology_get_host (topology, client)->name;
        const char *s = pl_topology_get_host (topology, server)->name;

        route = event->dir == PL_DIR_SERVER ? g_strdup_printf ("%s → %s", s, c) : g_strdup_printf ("%s → %s", c, s);
      }
    if (hop != NULL)
      /* Translators: "POP3 · access · session 3 · bob-pc → mail.b.example · 0.502 s". */
      meta = g_strdup_printf (_("%s · %s · session %u · %s · %.3f s"),
                              pl_palette_protocol_name (protocol), hop, event->session,
                              route != NULL ? route : "",
                              event->time - pl_document_get_time_origin (self->document));
    else
      /* Translators: "SMTP · session 3 · alice → mail.a.example · 0.502 s". */
      meta = g_strdup_printf (_("%s · session %u · %s · %.3f s"),
                              pl_palette_protocol_name (protocol), event->session,
                              route != NULL ? route : "",
                              event->time - pl_document_get_time_origin (self->document));
    gtk_label_set_text (self->meta_label, meta);
  }

  if (event->kind == PL_EVENT_NOTE)
    explain_note (event, &summary, &reference);
  else if (event->kind == PL_EVENT_DATA)
    {
      summary = _("The message itself, sent after the server’s 354. Its lines go as they are, "
                  "except that a line starting with a dot gets one more; a line holding a single "
                  "dot ends it.");
      reference = "RFC 5321 section 4.5.2";
    }
  else
    {
      const PlExplanation *explanation = pl_explain_event (protocol, event);

      if (explanation != NULL)
        {
          summary = explanation->summary;
          reference = explanation->reference;
        }
      else
        summary = _("Postlab has no explanation for this one yet.");
    }
  /* The summaries of the core's table are sentences without a capital or a period. */
  {
    g_autofree char *sentence = g_strdup (summary);

    if (event->kind != PL_EVENT_NOTE && event->kind != PL_EVENT_DATA && sentence[0] != '\0')
      {
        g_autofree char *capital = g_utf8_strup (sentence, 1);
        g_autofree char *rest = g_strdup (g_utf8_next_char (sentence));
        g_free (sentence);
        sentence = g_strdup_printf ("%s%s%s", capital, rest, g_str_has_suffix (rest, ".") ? "" : ".");
      }
    gtk_label_set_text (self->explanation_label, sentence);
  }
  show_reference (self, reference);

  message = pl_event_dup_message (event, protocol);
  if (message != NULL && event->kind == PL_EVENT_REPLY)
    {
      g_autofree char *more = g_strdup_printf ("%s %s", gtk_label_get_text (self->explanation_label),
                                               _("This reply carries a whole message: its lines follow the "
                                                 "status line, a line starting with a dot gets one more, and a "
                                                 "line holding a single dot ends it."));

      gtk_label_set_text (self->explanation_label, more);
    }
  show_message (self, message);

  if (event->octets != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (event->octets, &len);
      g_autofree char *heading = g_strdup_printf (ngettext ("Exact octets: %" PRIu64 " octet on the wire",
                                                            "Exact octets: %" PRIu64 " octets on the wire",
                                                            len), (uint64_t) len);
      g_autofree char *text = pl_inspector_format_text (data, len, MAX_TEXT_OCTETS);
      g_autofree char *hex = pl_inspector_format_hex (data, len, MAX_HEX_OCTETS);

      gtk_label_set_text (self->octets_heading, heading);
      gtk_label_set_markup (self->octets_text_label, text);
      gtk_label_set_text (self->hex_label, hex);
    }
  else
    {
      gtk_label_set_text (self->octets_heading, _("No octets: a note is not sent over the network"));
      gtk_label_set_text (self->octets_text_label, "");
      gtk_label_set_text (self->hex_label, "");
    }
}

static void
on_position (PlCursor   *cursor,
             GParamSpec *pspec,
             gpointer    user_data)
{
  update (user_data);
}

static void
pl_inspector_dispose (GObject *object)
{
  GtkWidget *child;
  PlInspector *self = PL_INSPECTOR (object);

  pl_inspector_set_cursor (self, NULL);
  g_clear_object (&self->document);
  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_INSPECTOR);
  /* Children without an id in the template are not bound, so not released by the call above. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pl_inspector_parent_class)->dispose (object);
}

static void
pl_inspector_class_init (PlInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_inspector_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-inspector.ui");
  gtk_widget_class_bind_template_child (widget_class, PlInspector, title_label);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, meta_label);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, explanation_label);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, reference_button);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, message_box);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, headers_label);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, received_label);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, parts_label);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, octets_heading);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, octets_text_label);
  gtk_widget_class_bind_template_child (widget_class, PlInspector, hex_label);
  gtk_widget_class_set_css_name (widget_class, "plinspector");
}

static void
pl_inspector_init (PlInspector *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update (self);
}

void
pl_inspector_set_cursor (PlInspector *self,
                         PlCursor    *cursor)
{
  g_return_if_fail (PL_IS_INSPECTOR (self));
  g_return_if_fail (cursor == NULL || PL_IS_CURSOR (cursor));

  if (!pl_cursor_replace (&self->cursor, cursor, self))
    return;
  if (cursor != NULL)
    g_signal_connect (cursor, "notify::position", G_CALLBACK (on_position), self);
  update (self);
}

void
pl_inspector_set_document (PlInspector *self,
                           PlDocument  *document)
{
  g_return_if_fail (PL_IS_INSPECTOR (self));

  g_set_object (&self->document, document);
  update (self);
}
