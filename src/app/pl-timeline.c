/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTimeline: play, pause, step, a scrubber and the speed, over the window's cursor. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "pl-timeline.h"

/* In the order of the speed list in pl-timeline.ui. */
const double pl_timeline_speeds[] = { 0.25, 0.5, 1, 2, 4, 8 };
const guint pl_timeline_n_speeds = G_N_ELEMENTS (pl_timeline_speeds);

struct _PlTimeline
{
  GtkWidget        parent_instance;

  /* Template children. */
  GtkToggleButton *play_button;
  GtkScale        *scrubber;
  GtkAdjustment   *adjustment;
  GtkLabel        *step_label;
  GtkDropDown     *speed_dropdown;

  PlCursor        *cursor;
  PlDocument      *document;
  gboolean         syncing;
};

G_DEFINE_FINAL_TYPE (PlTimeline, pl_timeline, GTK_TYPE_WIDGET)

static void
update_position (PlTimeline *self)
{
  guint position = self->cursor != NULL ? pl_cursor_get_position (self->cursor) : 0;
  guint n = self->cursor != NULL ? pl_cursor_get_n_steps (self->cursor) : 0;
  PlEvent *event = self->cursor != NULL ? pl_cursor_get_event (self->cursor) : NULL;
  g_autofree char *text = NULL;

  self->syncing = TRUE;
  gtk_adjustment_configure (self->adjustment, position, 0, n, 1, MAX (1, n / 20), 0);
  self->syncing = FALSE;

  if (n == 0)
    text = g_strdup (_("No steps"));
  else if (event != NULL)
    /* Translators: "Step 12 of 96 · 0.153 s", the time the current command or reply was sent. */
    text = g_strdup_printf (_("Step %u of %u · %.3f s"), position, n,
                            event->time - (self->document != NULL ? pl_document_get_time_origin (self->document) : 0));
  else
    /* Translators: before the first step. */
    text = g_strdup_printf (_("Start · %u steps"), n);
  gtk_label_set_text (self->step_label, text);
}

static void
update_playing (PlTimeline *self)
{
  gboolean playing = self->cursor != NULL && pl_cursor_get_playing (self->cursor);

  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, playing ? _("Pause") : _("Play"),
                                  -1);
}

static void
update_speed (PlTimeline *self)
{
  double speed = self->cursor != NULL ? pl_cursor_get_speed (self->cursor) : 1;
  guint best = 0;

  for (guint i = 1; i < pl_timeline_n_speeds; i++)
    if (fabs (pl_timeline_speeds[i] - speed) < fabs (pl_timeline_speeds[best] - speed))
      best = i;
  self->syncing = TRUE;
  gtk_drop_down_set_selected (self->speed_dropdown, best);
  self->syncing = FALSE;
}

static void
on_value_changed (GtkAdjustment *adjustment,
                  gpointer       user_data)
{
  PlTimeline *self = user_data;
  guint position = (guint) lround (gtk_adjustment_get_value (adjustment));

  if (self->syncing || self->cursor == NULL || position == pl_cursor_get_position (self->cursor))
    return;
  pl_cursor_set_position (self->cursor, position);
}

static void
on_speed_selected (GtkDropDown *dropdown,
                   GParamSpec  *pspec,
                   gpointer     user_data)
{
  PlTimeline *self = user_data;
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (self->syncing || self->cursor == NULL || selected >= pl_timeline_n_speeds)
    return;
  pl_cursor_set_speed (self->cursor, pl_timeline_speeds[selected]);
}

static void
pl_timeline_dispose (GObject *object)
{
  GtkWidget *child;
  PlTimeline *self = PL_TIMELINE (object);

  pl_timeline_set_cursor (self, NULL);
  g_clear_object (&self->document);
  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_TIMELINE);
  /* Children without an id in the template are not bound, so not released by the call above. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pl_timeline_parent_class)->dispose (object);
}

static void
pl_timeline_class_init (PlTimelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_timeline_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-timeline.ui");
  gtk_widget_class_bind_template_child (widget_class, PlTimeline, play_button);
  gtk_widget_class_bind_template_child (widget_class, PlTimeline, scrubber);
  gtk_widget_class_bind_template_child (widget_class, PlTimeline, adjustment);
  gtk_widget_class_bind_template_child (widget_class, PlTimeline, step_label);
  gtk_widget_class_bind_template_child (widget_class, PlTimeline, speed_dropdown);
  gtk_widget_class_set_css_name (widget_class, "pltimeline");
}

static void
pl_timeline_init (PlTimeline *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect (self->adjustment, "value-changed", G_CALLBACK (on_value_changed), self);
  g_signal_connect (self->speed_dropdown, "notify::selected", G_CALLBACK (on_speed_selected), self);
  update_position (self);
}

PlCursor *
pl_timeline_get_cursor (PlTimeline *self)
{
  g_return_val_if_fail (PL_IS_TIMELINE (self), NULL);

  return self->cursor;
}

void
pl_timeline_set_cursor (PlTimeline *self,
                        PlCursor   *cursor)
{
  g_return_if_fail (PL_IS_TIMELINE (self));
  g_return_if_fail (cursor == NULL || PL_IS_CURSOR (cursor));

  if (!pl_cursor_replace (&self->cursor, cursor, self))
    return;
  if (cursor != NULL)
    {
      g_signal_connect_swapped (cursor, "notify::position", G_CALLBACK (update_position), self);
      g_signal_connect_swapped (cursor, "notify::n-steps", G_CALLBACK (update_position), self);
      g_signal_connect_swapped (cursor, "notify::playing", G_CALLBACK (update_playing), self);
      g_signal_connect_swapped (cursor, "notify::speed", G_CALLBACK (update_speed), self);
    }
  update_position (self);
  update_playing (self);
  update_speed (self);
}

void
pl_timeline_set_document (PlTimeline *self,
                          PlDocument *document)
{
  g_return_if_fail (PL_IS_TIMELINE (self));

  g_set_object (&self->document, document);
  update_position (self);
}
