/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTranscriptView: the trace as a list of C:/S: lines, coloured by protocol, following the cursor. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-transcript-row.h"
#include "pl-transcript-view.h"

struct _PlTranscriptView
{
  GtkWidget           parent_instance;

  /* Template children. */
  PlTranscriptRow    *header_row;
  GtkScrolledWindow  *scrolled_window;
  GtkListView        *list_view;

  GtkSingleSelection *selection;
  PlCursor           *cursor;
  PlDocument         *document;
  gboolean            syncing;   /* the cursor is moving the selection: do not move it back */
  guint               scroll_to;
  guint               scroll_tick;
  guint               scroll_frames;
  gboolean            scroll_forward;
  gboolean            compact;
};

G_DEFINE_FINAL_TYPE (PlTranscriptView, pl_transcript_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CURSOR,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
on_setup (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  gtk_list_item_set_child (item, pl_transcript_row_new ());
}

static void
on_bind (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         gpointer                  user_data)
{
  PlTranscriptView *self = user_data;
  PlEventItem *event_item = gtk_list_item_get_item (item);

  pl_transcript_row_set_compact (PL_TRANSCRIPT_ROW (gtk_list_item_get_child (item)), self->compact);
  pl_transcript_row_set_event (PL_TRANSCRIPT_ROW (gtk_list_item_get_child (item)),
                               pl_event_item_get_event (event_item),
                               pl_event_item_get_session (event_item),
                               gtk_list_item_get_position (item),
                               /* Asked each time: a live capture learns its origin with its first packet. */
                               self->document != NULL ? pl_document_get_time_origin (self->document) : 0);
}

static void
on_unbind (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  pl_transcript_row_set_event (PL_TRANSCRIPT_ROW (gtk_list_item_get_child (item)), NULL, NULL, 0, 0);
}

/*
 * Scrolling waits for the next frame's update phase, before its layout:
 * the list is allocated by then even if it was not shown yet, and playing
 * fast scrolls once a frame, not once a step.
 */
static gboolean
scroll_on_tick (GtkWidget     *list_view,
                GdkFrameClock *frame_clock,
                gpointer       user_data)
{
  PlTranscriptView *self = user_data;

  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));

  if (self->scroll_to < n)
    {
      GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scrolled_window);
      double row = gtk_adjustment_get_upper (adjustment) / MAX (1u, n);
      guint half = row > 0 ? (guint) (gtk_adjustment_get_page_size (adjustment) / row / 2) : 0;
      guint target = self->scroll_to;

      /*
       * The list scrolls as little as it can to show a row: asking for the
       * row half a page ahead (or behind, going back) keeps the current
       * one in the middle, where the eye finds it.
       */
      if (half > 1 && self->scroll_forward)
        target = MIN (n - 1, target + half - 1);
      else if (half > 1)
        target = target > half - 1 ? target - (half - 1) : 0;
      /* GTK 4.8 has no gtk_list_view_scroll_to(); the list's own action does it. */
      gtk_widget_activate_action (list_view, "list.scroll-to-item", "u", target);
    }
  /*
   * A list given its model in this same frame has not measured its rows
   * yet and scrolls nowhere: it is asked again once it has.
   */
  if (self->scroll_frames++ < 2)
    return G_SOURCE_CONTINUE;
  self->scroll_tick = 0;
  return G_SOURCE_REMOVE;
}

static void
schedule_scroll (PlTranscriptView *self,
                 guint             row)
{
  self->scroll_forward = self->scroll_to == G_MAXUINT || row >= self->scroll_to;
  self->scroll_to = row;
  self->scroll_frames = 0;
  if (self->scroll_tick == 0)
    self->scroll_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->list_view), scroll_on_tick, self, NULL);
}

/* The cursor moved: select its event and bring it into sight. */
static void
sync_from_cursor (PlTranscriptView *self)
{
  guint position = self->cursor != NULL ? pl_cursor_get_position (self->cursor) : 0;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));
  guint row = position > 0 && position <= n ? position - 1 : GTK_INVALID_LIST_POSITION;

  if (gtk_single_selection_get_selected (self->selection) == row)
    return;

  self->syncing = TRUE;
  gtk_single_selection_set_selected (self->selection, row);
  self->syncing = FALSE;
  if (row != GTK_INVALID_LIST_POSITION)
    schedule_scroll (self, row);
}

static void
on_cursor_position (PlCursor   *cursor,
                    GParamSpec *pspec,
                    gpointer    user_data)
{
  sync_from_cursor (user_data);
}

/* The student picked a row: that step becomes the current one. */
static void
on_selected (GtkSingleSelection *selection,
             GParamSpec         *pspec,
             gpointer            user_data)
{
  PlTranscriptView *self = user_data;
  guint row = gtk_single_selection_get_selected (selection);

  if (self->syncing || self->cursor == NULL || row == GTK_INVALID_LIST_POSITION)
    return;
  if (pl_cursor_get_position (self->cursor) != row + 1)
    pl_cursor_set_position (self->cursor, row + 1);
}

static void
pl_transcript_view_dispose (GObject *object)
{
  GtkWidget *child;
  PlTranscriptView *self = PL_TRANSCRIPT_VIEW (object);

  pl_transcript_view_set_cursor (self, NULL);
  g_clear_object (&self->document);
  if (self->scroll_tick != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self->list_view), self->scroll_tick);
      self->scroll_tick = 0;
    }
  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_TRANSCRIPT_VIEW);
  /* Children without an id in the template are not bound, so not released by the call above. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);

  G_OBJECT_CLASS (pl_transcript_view_parent_class)->dispose (object);
}

static void
pl_transcript_view_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  PlTranscriptView *self = PL_TRANSCRIPT_VIEW (object);

  switch (prop_id)
    {
    case PROP_CURSOR:
      g_value_set_object (value, self->cursor);
      break;
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_transcript_view_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  PlTranscriptView *self = PL_TRANSCRIPT_VIEW (object);

  switch (prop_id)
    {
    case PROP_CURSOR:
      pl_transcript_view_set_cursor (self, g_value_get_object (value));
      break;
    case PROP_DOCUMENT:
      pl_transcript_view_set_document (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_transcript_view_class_init (PlTranscriptViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_transcript_view_dispose;
  object_class->get_property = pl_transcript_view_get_property;
  object_class->set_property = pl_transcript_view_set_property;

  properties[PROP_CURSOR] =
    g_param_spec_object ("cursor", NULL, NULL, PL_TYPE_CURSOR,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, PL_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (PL_TYPE_TRANSCRIPT_ROW);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-transcript-view.ui");
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptView, header_row);
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptView, scrolled_window);
  gtk_widget_class_bind_template_child (widget_class, PlTranscriptView, list_view);
  gtk_widget_class_set_css_name (widget_class, "pltranscriptview");
}

static void
pl_transcript_view_init (PlTranscriptView *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  pl_transcript_row_set_header (self->header_row);

  self->scroll_to = G_MAXUINT;
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect (self->selection, "notify::selected", G_CALLBACK (on_selected), self);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
}

PlCursor *
pl_transcript_view_get_cursor (PlTranscriptView *self)
{
  g_return_val_if_fail (PL_IS_TRANSCRIPT_VIEW (self), NULL);

  return self->cursor;
}

void
pl_transcript_view_set_cursor (PlTranscriptView *self,
                               PlCursor         *cursor)
{
  g_return_if_fail (PL_IS_TRANSCRIPT_VIEW (self));
  g_return_if_fail (cursor == NULL || PL_IS_CURSOR (cursor));

  if (!pl_cursor_replace (&self->cursor, cursor, self))
    return;
  if (cursor != NULL)
    {
      g_signal_connect (cursor, "notify::position", G_CALLBACK (on_cursor_position), self);
      /* A trace that grows shows its new rows before the cursor reaches them. */
      g_signal_connect_swapped (cursor, "notify::n-steps", G_CALLBACK (sync_from_cursor), self);
      sync_from_cursor (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURSOR]);
}

PlDocument *
pl_transcript_view_get_document (PlTranscriptView *self)
{
  g_return_val_if_fail (PL_IS_TRANSCRIPT_VIEW (self), NULL);

  return self->document;
}

void
pl_transcript_view_set_document (PlTranscriptView *self,
                                 PlDocument       *document)
{
  g_return_if_fail (PL_IS_TRANSCRIPT_VIEW (self));
  g_return_if_fail (document == NULL || PL_IS_DOCUMENT (document));

  if (!g_set_object (&self->document, document))
    return;

  self->syncing = TRUE;
  gtk_single_selection_set_model (self->selection,
                                  document != NULL ? G_LIST_MODEL (pl_document_get_trace (document)) : NULL);
  self->syncing = FALSE;
  sync_from_cursor (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

void
pl_transcript_view_set_compact (PlTranscriptView *self,
                                gboolean          compact)
{
  GtkSelectionModel *model;
  guint n;

  g_return_if_fail (PL_IS_TRANSCRIPT_VIEW (self));

  if (self->compact == !!compact)
    return;
  self->compact = !!compact;
  pl_transcript_row_set_compact (self->header_row, self->compact);
  /* Rebinding every row in sight: the list has no other way to redo them. */
  model = gtk_list_view_get_model (self->list_view);
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_object_ref (model);
  gtk_list_view_set_model (self->list_view, NULL);
  gtk_list_view_set_model (self->list_view, model);
  g_object_unref (model);
  if (gtk_single_selection_get_selected (self->selection) < n)
    schedule_scroll (self, gtk_single_selection_get_selected (self->selection));
}

guint
pl_transcript_view_get_selected (PlTranscriptView *self)
{
  g_return_val_if_fail (PL_IS_TRANSCRIPT_VIEW (self), GTK_INVALID_LIST_POSITION);

  return gtk_single_selection_get_selected (self->selection);
}
