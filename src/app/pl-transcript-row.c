/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTranscriptRow: one line of the transcript: step, time, session and hop, C:/S:, and the text. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pl-palette.h"
#include "pl-transcript-row.h"

struct _PlTranscriptRow
{
  GtkWidget   parent_instance;

  GtkLabel   *step_label;
  GtkLabel   *time_label;
  GtkLabel   *session_label;
  GtkLabel   *dir_label;
  GtkLabel   *text_label;

  const char *protocol_class;  /* static string: the style class now set */
  const char *kind_class;
};

G_DEFINE_FINAL_TYPE (PlTranscriptRow, pl_transcript_row, GTK_TYPE_WIDGET)

static void
pl_transcript_row_dispose (GObject *object)
{
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_TRANSCRIPT_ROW);
  /* Children without an id in the template are not bound, so not released by the call above. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pl_transcript_row_parent_class)->dispose (object);
}

static void
pl_transcript_row_class_init (PlTranscriptRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_transcript_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-transcript-row.ui");
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptRow, step_label);
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptRow, session_label);
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptRow, dir_label);
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptRow, text_label);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_ROW);
}

static void
pl_transcript_row_init (PlTranscriptRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
pl_transcript_row_new (void)
{
  return g_object_new (PL_TYPE_TRANSCRIPT_ROW, NULL);
}

static void
set_classes (PlTranscriptRow *self,
             const char      *protocol_class,
             const char      *kind_class)
{
  GtkWidget *widget = GTK_WIDGET (self);

  if (self->protocol_class != protocol_class)
    {
      if (self->protocol_class != NULL)
        gtk_widget_remove_css_class (widget, self->protocol_class);
      if (protocol_class != NULL)
        gtk_widget_add_css_class (widget, protocol_class);
      self->protocol_class = protocol_class;
    }
  if (self->kind_class != kind_class)
    {
      if (self->kind_class != NULL)
        gtk_widget_remove_css_class (widget, self->kind_class);
      if (kind_class != NULL)
        gtk_widget_add_css_class (widget, kind_class);
      self->kind_class = kind_class;
    }
}

void
pl_transcript_row_set_compact (PlTranscriptRow *self,
                               gboolean         compact)
{
  g_return_if_fail (PL_IS_TRANSCRIPT_ROW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->time_label), !compact);
  gtk_widget_set_visible (GTK_WIDGET (self->session_label), !compact);
}

void
pl_transcript_row_set_header (PlTranscriptRow *self)
{
  g_return_if_fail (PL_IS_TRANSCRIPT_ROW (self));

  gtk_label_set_text (self->step_label, C_("transcript column", "Step"));
  gtk_label_set_text (self->time_label, C_("transcript column", "Time (s)"));
  gtk_label_set_text (self->session_label, C_("transcript column", "Session"));
  gtk_label_set_text (self->dir_label, "");
  gtk_label_set_text (self->text_label, C_("transcript column", "Command or reply"));
  set_classes (self, NULL, "pl-transcript-header");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Transcript columns"), -1);
}

char *
pl_transcript_row_summarize (PlEvent *event,
                             gsize    max_chars)
{
  const char *text;
  const char *newline;
  GString *line;
  guint more = 0;

  g_return_val_if_fail (event != NULL, NULL);

  text = event->text != NULL ? event->text : "";
  newline = strchr (text, '\n');
  line = g_string_new_len (text, newline != NULL ? newline - text : (gssize) strlen (text));
  /* SMTP's message text reads like commands otherwise ("Received: from ..."). */
  if (event->kind == PL_EVENT_DATA)
    /* Translators: before the first line of a message sent after DATA. */
    g_string_prepend (line, _("[message] "));
  for (const char *p = newline; p != NULL; p = strchr (p + 1, '\n'))
    more++;

  if (max_chars > 0 && g_utf8_strlen (line->str, -1) > (glong) max_chars)
    {
      const char *cut = g_utf8_offset_to_pointer (line->str, (glong) max_chars - 1);

      g_string_truncate (line, cut - line->str);
      g_string_append (line, "…");
    }
  if (more > 0)
    /* Translators: after the first line of a command or reply that has more. */
    g_string_append_printf (line, ngettext ("  (+%u line)", "  (+%u lines)", more), more);
  return g_string_free (line, FALSE);
}

void
pl_transcript_row_set_event (PlTranscriptRow *self,
                             PlEvent         *event,
                             PlSession       *session,
                             guint            position,
                             double           time_origin)
{
  char step[16];
  char time[32];
  g_autofree char *session_text = NULL;
  g_autofree char *summary = NULL;
  const char *hop;
  const char *dir;

  g_return_if_fail (PL_IS_TRANSCRIPT_ROW (self));

  if (event == NULL)
    {
      gtk_label_set_text (self->step_label, "");
      gtk_label_set_text (self->time_label, "");
      gtk_label_set_text (self->session_label, "");
      gtk_label_set_text (self->dir_label, "");
      gtk_label_set_text (self->text_label, "");
      set_classes (self, NULL, NULL);
      return;
    }

  g_snprintf (step, sizeof step, "%u", position + 1);
  g_snprintf (time, sizeof time, "%.3f", event->time - time_origin);
  hop = session != NULL ? pl_palette_hop_name (session->hop) : NULL;
  if (hop != NULL)
    session_text = g_strdup_printf ("#%u %s", event->session, hop);
  else if (session != NULL)
    session_text = g_strdup_printf ("#%u %s", event->session, pl_palette_protocol_name (session->protocol));
  else
    session_text = g_strdup_printf ("#%u", event->session);

  switch (event->dir)
    {
    case PL_DIR_CLIENT:
      dir = "C:";
      break;
    case PL_DIR_SERVER:
      dir = "S:";
      break;
    case PL_DIR_NONE:
    default:
      dir = "··";
      break;
    }

  summary = pl_transcript_row_summarize (event, 200);
  gtk_label_set_text (self->step_label, step);
  gtk_label_set_text (self->time_label, time);
  gtk_label_set_text (self->session_label, session_text);
  gtk_label_set_text (self->dir_label, dir);
  gtk_label_set_text (self->text_label, summary);
  set_classes (self,
               pl_palette_protocol_css (session != NULL ? session->protocol : PL_PROTOCOL_UNKNOWN),
               event->kind == PL_EVENT_NOTE ? "pl-transcript-note"
               : event->dir == PL_DIR_CLIENT ? "pl-transcript-client" : "pl-transcript-server");
}
