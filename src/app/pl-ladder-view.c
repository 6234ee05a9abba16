/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlLadderView: the sequence (ladder) diagram: a lifeline per host, an arrow per command or reply. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "pl-ladder-export.h"
#include "pl-ladder-view.h"
#include "pl-palette.h"
#include "pl-transcript-row.h"

#define PRESENT_SCALE 1.3

/* The tallest PNG export: textures larger than this are more than many GPUs take. */
#define MAX_PNG_HEIGHT 8000

/* What the cached rows were drawn for: any change draws them again. */
typedef struct {
  double   value;
  int      width;
  int      height;
  guint    position;
  guint    n_rows;
  gboolean dark;
  gboolean presenting;
} RowsKey;

struct _PlLadderView
{
  GtkWidget            parent_instance;

  GtkAdjustment       *hadjustment;
  GtkAdjustment       *vadjustment;
  GtkScrollablePolicy  hscroll_policy;
  GtkScrollablePolicy  vscroll_policy;

  PlCursor            *cursor;
  PlDocument          *document;
  GArray              *lifelines;   /* of guint host indices, in the mail path's order */
  gulong               items_changed;
  gulong               topology_changed;
  gboolean             presenting;
  gboolean             follow_pending;  /* the step moved before the view had a size */
  GskRenderNode       *rows_node;       /* the rows in sight, as last drawn */
  RowsKey              rows_key;
};

static void pl_ladder_view_scrollable_init (GtkScrollableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PlLadderView, pl_ladder_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, pl_ladder_view_scrollable_init))

enum {
  PROP_0,
  PROP_HADJUSTMENT,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
  N_PROPS
};

static void
pl_ladder_view_scrollable_init (GtkScrollableInterface *iface)
{
}

static double
scale_of (PlLadderView *self)
{
  return self->presenting ? PRESENT_SCALE : 1.0;
}

static double
row_height (PlLadderView *self)
{
  return PL_LADDER_ROW_HEIGHT * scale_of (self);
}

static double
header_height (PlLadderView *self)
{
  return PL_LADDER_HEADER_HEIGHT * scale_of (self);
}

static guint
n_rows (PlLadderView *self)
{
  return self->document != NULL ? pl_trace_get_n_events (pl_document_get_trace (self->document)) : 0;
}

static double
lifeline_x (PlLadderView *self,
            guint         slot,
            double        width)
{
  double gutter = PL_LADDER_GUTTER_WIDTH * scale_of (self);
  double span = width - gutter - 10;

  return gutter + span * (slot + 0.5) / MAX (1u, self->lifelines->len);
}

static guint
slot_of (PlLadderView *self,
         guint         host)
{
  for (guint i = 0; i < self->lifelines->len; i++)
    if (g_array_index (self->lifelines, guint, i) == host)
      return i;
  return 0;
}

static void
update_lifelines (PlLadderView *self)
{
  g_array_set_size (self->lifelines, 0);
  if (self->document != NULL)
    {
      g_autoptr(GArray) lifelines = pl_ladder_lifelines (pl_document_get_topology (self->document));

      g_array_append_vals (self->lifelines, lifelines->data, lifelines->len);
    }
}

static void
configure_adjustments (PlLadderView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  double upper = header_height (self) + n_rows (self) * row_height (self) + 16;

  if (self->vadjustment != NULL)
    {
      double value = gtk_adjustment_get_value (self->vadjustment);

      gtk_adjustment_configure (self->vadjustment, CLAMP (value, 0, MAX (0, upper - height)),
                                0, MAX (upper, height), row_height (self), height * 0.9, height);
    }
  if (self->hadjustment != NULL)
    gtk_adjustment_configure (self->hadjustment, 0, 0, width, 10, width, width);
}

/* Drawing ------------------------------------------------------------------------------- */

static PangoLayout *
make_layout (PlLadderView *self,
             const char   *text,
             double        points,
             int           weight,
             gboolean      monospace,
             double        max_width)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  const PangoFontDescription *base = pango_context_get_font_description (gtk_widget_get_pango_context (GTK_WIDGET (self)));
  PangoFontDescription *font = base != NULL ? pango_font_description_copy (base) : pango_font_description_new ();

  if (monospace)
    pango_font_description_set_family (font, "monospace");
  pango_font_description_set_size (font, (int) (points * scale_of (self) * PANGO_SCALE));
  pango_font_description_set_weight (font, weight);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  return layout;
}

static void
set_source (cairo_t       *cr,
            const GdkRGBA *color,
            double         alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * alpha);
}

static void
show_centered (cairo_t     *cr,
               PangoLayout *layout,
               double       x,
               double       y)
{
  int w;
  int h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - w / 2.0, y - h / 2.0);
  pango_cairo_show_layout (cr, layout);
}

/*
 * Draws rows [@first, @last) with row 0 at @origin (y of its top), the
 * header (host names) fixed at the top, in a @width × @height area.
 */
/* The unit on its way along the current arrow, as in the picture. */
static void
draw_dot (PlLadderView  *self,
          cairo_t       *cr,
          double         x,
          double         y,
          const GdkRGBA *color,
          const GdkRGBA *bg)
{
  double s = scale_of (self);

  cairo_arc (cr, x, y, 5.5 * s, 0, 2 * G_PI);
  set_source (cr, color, 1);
  cairo_fill_preserve (cr);
  set_source (cr, bg, 1);
  cairo_set_line_width (cr, 2);
  cairo_stroke (cr);
}

static void
draw_ladder (PlLadderView  *self,
             cairo_t       *cr,
             double         width,
             double         height,
             guint          first,
             guint          last,
             double         origin,
             const GdkRGBA *fg,
             const GdkRGBA *bg,
             gboolean       dark,
             gboolean       with_dot)
{
  double s = scale_of (self);
  double row = row_height (self);
  double header = header_height (self);
  PlTrace *trace = pl_document_get_trace (self->document);
  PlTopology *topology = pl_document_get_topology (self->document);
  guint current = self->cursor != NULL ? pl_cursor_get_position (self->cursor) : 0;
  double progress = self->cursor != NULL ? pl_cursor_get_progress (self->cursor) : 1;
  double gap = self->lifelines->len > 1 ? lifeline_x (self, 1, width) - lifeline_x (self, 0, width) : width;
  static const double dashes[] = { 5, 4 };
  GdkRGBA highlight;

  gdk_rgba_parse (&highlight, "#f6d32d");
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  /* Lifelines. */
  set_source (cr, fg, 0.35);
  cairo_set_line_width (cr, 1.5);
  cairo_set_dash (cr, dashes, 2, 0);
  for (guint i = 0; i < self->lifelines->len; i++)
    {
      double x = lifeline_x (self, i, width);

      cairo_move_to (cr, x, header);
      cairo_line_to (cr, x, height);
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  for (guint position = first; position < last; position++)
    {
      PlEvent *event = pl_trace_get_event (trace, position);
      PlSession *session = pl_trace_get_session (trace, event->session);
      PlProtocol protocol = session != NULL ? session->protocol : PL_PROTOCOL_UNKNOWN;
      double top = origin + position * row;
      double y = top + row * 0.62;
      gboolean is_current = position + 1 == current;
      g_autofree char *step = g_strdup_printf ("%u", position + 1);
      g_autoptr(PangoLayout) step_layout = NULL;
      guint client;
      guint server;
      GdkRGBA color;

      if (top + row < header || top > height)
        continue;
      pl_palette_protocol_color (protocol, dark, &color);

      if (is_current)
        {
          cairo_rectangle (cr, 0, top, width, row);
          set_source (cr, &highlight, dark ? 0.25 : 0.4);
          cairo_fill (cr);
        }

      step_layout = make_layout (self, step, 9, PANGO_WEIGHT_NORMAL, FALSE, 0);
      {
        int w;
        int h;

        pango_layout_get_pixel_size (step_layout, &w, &h);
        set_source (cr, fg, 0.65);
        cairo_move_to (cr, PL_LADDER_GUTTER_WIDTH * s - 8 - w, top + (row - h) / 2);
        pango_cairo_show_layout (cr, step_layout);
      }

      if (!pl_topology_get_session_hosts (topology, event->session, &client, &server, NULL))
        continue;

      if (event->kind == PL_EVENT_NOTE)
        {
          double x = lifeline_x (self, slot_of (self, client), width);
          g_autofree char *summary = pl_transcript_row_summarize (event, 80);
          g_autoptr(PangoLayout) layout = make_layout (self, summary, 9, PANGO_WEIGHT_NORMAL, FALSE,
                                                       MAX (40, width - x - 16));
          PangoFontDescription *font = pango_font_description_copy (pango_layout_get_font_description (layout));
          int h;

          pango_font_description_set_style (font, PANGO_STYLE_ITALIC);
          pango_layout_set_font_description (layout, font);
          pango_font_description_free (font);
          set_source (cr, fg, 0.7);
          cairo_arc (cr, x, top + row / 2, 3 * s, 0, 2 * G_PI);
          cairo_fill (cr);
          pango_layout_get_pixel_size (layout, NULL, &h);
          cairo_move_to (cr, x + 8 * s, top + (row - h) / 2);
          pango_cairo_show_layout (cr, layout);
        }
      else
        {
          double from = lifeline_x (self, slot_of (self, event->dir == PL_DIR_SERVER ? server : client), width);
          double to = lifeline_x (self, slot_of (self, event->dir == PL_DIR_SERVER ? client : server), width);
          double direction = to >= from ? 1 : -1;
          double length = fabs (to - from);
          g_autofree char *summary = pl_transcript_row_summarize (event, 60);
          g_autofree char *label = g_strdup_printf ("%s %s", event->dir == PL_DIR_CLIENT ? "C:" : "S:", summary);
          g_autoptr(PangoLayout) layout = make_layout (self, label, 8.5,
                                                       event->dir == PL_DIR_CLIENT ? PANGO_WEIGHT_BOLD
                                                                                   : PANGO_WEIGHT_NORMAL,
                                                       TRUE, MAX (30, MAX (length, gap) * 1.5 - 12));
          double head = 7 * s;

          set_source (cr, &color, 1);
          cairo_set_line_width (cr, (is_current ? 3.5 : 2) * s);
          cairo_move_to (cr, from, y);
          cairo_line_to (cr, to - direction * head, y);
          cairo_stroke (cr);
          cairo_move_to (cr, to, y);
          cairo_line_to (cr, to - direction * head * 1.6, y - head * 0.75);
          cairo_line_to (cr, to - direction * head * 1.6, y + head * 0.75);
          cairo_close_path (cr);
          cairo_fill (cr);

          if (is_current && with_dot)
            draw_dot (self, cr, from + (to - from) * progress, y, &color, bg);

          /* The text over the arrow; a self-loop has none, so it goes beside. */
          {
            int w;
            int h;
            double x = (from + to) / 2;

            pango_layout_get_pixel_size (layout, &w, &h);
            x = CLAMP (x, w / 2.0 + 4, width - w / 2.0 - 4);
            set_source (cr, bg, 0.85);
            cairo_rectangle (cr, x - w / 2.0 - 2, y - 3 * s - h, w + 4, h);
            cairo_fill (cr);
            set_source (cr, &color, 1);
            cairo_move_to (cr, x - w / 2.0, y - 3 * s - h);
            pango_cairo_show_layout (cr, layout);
          }
        }
    }

  /* The header stays on top while the rows scroll under it. */
  cairo_rectangle (cr, 0, 0, width, header);
  set_source (cr, bg, 1);
  cairo_fill (cr);
  set_source (cr, fg, 0.2);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, 0, header - 0.5);
  cairo_line_to (cr, width, header - 0.5);
  cairo_stroke (cr);
  for (guint i = 0; i < self->lifelines->len; i++)
    {
      const PlTopologyHost *host = pl_topology_get_host (topology, g_array_index (self->lifelines, guint, i));
      double x = lifeline_x (self, i, width);
      g_autoptr(PangoLayout) name = make_layout (self, host->name, 9.5, PANGO_WEIGHT_BOLD, FALSE, gap - 6);
      g_autoptr(PangoLayout) role = make_layout (self, host->subtitle, 8.5, PANGO_WEIGHT_NORMAL, FALSE, gap - 8);

      set_source (cr, fg, 1);
      show_centered (cr, name, x, header * 0.34);
      set_source (cr, fg, 0.7);
      show_centered (cr, role, x, header * 0.70);
    }
}

static void
pl_ladder_view_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  PlLadderView *self = PL_LADDER_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  gboolean dark = pl_palette_widget_is_dark (widget);
  double value = self->vadjustment != NULL ? gtk_adjustment_get_value (self->vadjustment) : 0;
  double row = row_height (self);
  double header = header_height (self);
  guint position = self->cursor != NULL ? pl_cursor_get_position (self->cursor) : 0;
  RowsKey key = { value, width, height, position, n_rows (self), dark, self->presenting };
  GdkRGBA fg;
  GdkRGBA bg;
  cairo_t *cr;

  if (width <= 0 || height <= 0)
    return;
  pl_palette_widget_color (widget, &fg);
  gdk_rgba_parse (&bg, dark ? "#242424" : "#ffffff");
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (self->document == NULL)
    return;

  /*
   * The rows change with the step and the scrolling, not with each frame:
   * they are drawn once and kept; a frame of the animation draws only the
   * travelling dot.
   */
  if (self->rows_node == NULL || memcmp (&key, &self->rows_key, sizeof key) != 0)
    {
      GtkSnapshot *layer = gtk_snapshot_new ();
      guint first = (guint) MAX (0, floor ((value - row) / row));
      guint last = MIN (n_rows (self), (guint) ceil ((value + height) / row) + 1);

      cr = gtk_snapshot_append_cairo (layer, &GRAPHENE_RECT_INIT (0, 0, width, height));
      draw_ladder (self, cr, width, height, first, last, header - value, &fg, &bg, dark, FALSE);
      cairo_destroy (cr);
      g_clear_pointer (&self->rows_node, gsk_render_node_unref);
      self->rows_node = gtk_snapshot_free_to_node (layer);
      self->rows_key = key;
    }
  if (self->rows_node != NULL)
    gtk_snapshot_append_node (snapshot, self->rows_node);

  if (position > 0)
    {
      PlEvent *event = pl_trace_get_event (pl_document_get_trace (self->document), position - 1);
      PlSession *session = pl_trace_get_session (pl_document_get_trace (self->document), event->session);
      double y = header - value + (position - 1) * row + row * 0.62;
      guint client;
      guint server;

      if (event->kind != PL_EVENT_NOTE && y > header && y < height
          && pl_topology_get_session_hosts (pl_document_get_topology (self->document), event->session,
                                            &client, &server, NULL))
        {
          double from = lifeline_x (self, slot_of (self, event->dir == PL_DIR_SERVER ? server : client), width);
          double to = lifeline_x (self, slot_of (self, event->dir == PL_DIR_SERVER ? client : server), width);
          double x = from + (to - from) * pl_cursor_get_progress (self->cursor);
          double r = 8 * scale_of (self);
          GdkRGBA color;

          pl_palette_protocol_color (session != NULL ? session->protocol : PL_PROTOCOL_UNKNOWN, dark, &color);
          cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (x - r, y - r, 2 * r, 2 * r));
          draw_dot (self, cr, x, y, &color, &bg);
          cairo_destroy (cr);
        }
    }
}

static void follow_cursor (PlLadderView *self);

static void
pl_ladder_view_css_changed (GtkWidget         *widget,
                            GtkCssStyleChange *change)
{
  PlLadderView *self = PL_LADDER_VIEW (widget);

  GTK_WIDGET_CLASS (pl_ladder_view_parent_class)->css_changed (widget, change);
  /* Light or dark, a font change: the rows are drawn again. */
  g_clear_pointer (&self->rows_node, gsk_render_node_unref);
  gtk_widget_queue_draw (widget);
}

static void
pl_ladder_view_size_allocate (GtkWidget *widget,
                              int        width,
                              int        height,
                              int        baseline)
{
  PlLadderView *self = PL_LADDER_VIEW (widget);

  configure_adjustments (self);
  if (self->follow_pending)
    follow_cursor (self);
}

static void
pl_ladder_view_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 120;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 320;
}

/* Keeps the current step in sight: a third of the way down when it had left the view. */
static void
follow_cursor (PlLadderView *self)
{
  guint position = self->cursor != NULL ? pl_cursor_get_position (self->cursor) : 0;
  double row = row_height (self);
  double header = header_height (self);
  double page;
  double value;
  double top;

  if (self->vadjustment == NULL || position == 0)
    return;
  page = gtk_adjustment_get_page_size (self->vadjustment);
  self->follow_pending = page <= header;
  if (self->follow_pending)
    return;
  value = gtk_adjustment_get_value (self->vadjustment);
  top = (position - 1) * row;
  if (top < value || top + row > value + page - header)
    gtk_adjustment_set_value (self->vadjustment, MAX (0, top - (page - header) / 3));
}

static void
on_position (PlCursor   *cursor,
             GParamSpec *pspec,
             gpointer    user_data)
{
  follow_cursor (user_data);
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
on_progress (PlCursor   *cursor,
             GParamSpec *pspec,
             gpointer    user_data)
{
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  configure_adjustments (user_data);
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
on_topology_changed (PlTopology *topology,
                     gpointer    user_data)
{
  PlLadderView *self = user_data;

  g_clear_pointer (&self->rows_node, gsk_render_node_unref);
  update_lifelines (user_data);
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
on_pressed (GtkGestureClick *gesture,
            int              n_press,
            double           x,
            double           y,
            gpointer         user_data)
{
  PlLadderView *self = user_data;
  double value = self->vadjustment != NULL ? gtk_adjustment_get_value (self->vadjustment) : 0;
  double offset = y + value - header_height (self);
  guint row;

  if (self->cursor == NULL || y < header_height (self) || offset < 0)
    return;
  row = (guint) (offset / row_height (self));
  if (row < n_rows (self))
    pl_cursor_set_position (self->cursor, row + 1);
}

static void
on_adjustment_changed (GtkAdjustment *adjustment,
                       gpointer       user_data)
{
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
set_adjustment (PlLadderView   *self,
                GtkAdjustment **slot,
                GtkAdjustment  *adjustment)
{
  if (*slot == adjustment && adjustment != NULL)
    return;
  if (*slot != NULL)
    {
      g_signal_handlers_disconnect_by_data (*slot, self);
      g_clear_object (slot);
    }
  if (adjustment == NULL)
    adjustment = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  *slot = g_object_ref_sink (adjustment);
  g_signal_connect (adjustment, "value-changed", G_CALLBACK (on_adjustment_changed), self);
  configure_adjustments (self);
}

static void
pl_ladder_view_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PlLadderView *self = PL_LADDER_VIEW (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT:
      g_value_set_object (value, self->hadjustment);
      break;
    case PROP_VADJUSTMENT:
      g_value_set_object (value, self->vadjustment);
      break;
    case PROP_HSCROLL_POLICY:
      g_value_set_enum (value, self->hscroll_policy);
      break;
    case PROP_VSCROLL_POLICY:
      g_value_set_enum (value, self->vscroll_policy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_ladder_view_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PlLadderView *self = PL_LADDER_VIEW (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT:
      set_adjustment (self, &self->hadjustment, g_value_get_object (value));
      break;
    case PROP_VADJUSTMENT:
      set_adjustment (self, &self->vadjustment, g_value_get_object (value));
      break;
    case PROP_HSCROLL_POLICY:
      self->hscroll_policy = g_value_get_enum (value);
      break;
    case PROP_VSCROLL_POLICY:
      self->vscroll_policy = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_ladder_view_dispose (GObject *object)
{
  PlLadderView *self = PL_LADDER_VIEW (object);

  pl_ladder_view_set_cursor (self, NULL);
  pl_ladder_view_set_document (self, NULL);
  if (self->hadjustment != NULL)
    g_signal_handlers_disconnect_by_data (self->hadjustment, self);
  if (self->vadjustment != NULL)
    g_signal_handlers_disconnect_by_data (self->vadjustment, self);
  g_clear_object (&self->hadjustment);
  g_clear_object (&self->vadjustment);
  g_clear_pointer (&self->rows_node, gsk_render_node_unref);

  G_OBJECT_CLASS (pl_ladder_view_parent_class)->dispose (object);
}

static void
pl_ladder_view_finalize (GObject *object)
{
  g_array_unref (PL_LADDER_VIEW (object)->lifelines);

  G_OBJECT_CLASS (pl_ladder_view_parent_class)->finalize (object);
}

static void
pl_ladder_view_class_init (PlLadderViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_ladder_view_dispose;
  object_class->finalize = pl_ladder_view_finalize;
  object_class->get_property = pl_ladder_view_get_property;
  object_class->set_property = pl_ladder_view_set_property;

  widget_class->snapshot = pl_ladder_view_snapshot;
  widget_class->size_allocate = pl_ladder_view_size_allocate;
  widget_class->measure = pl_ladder_view_measure;
  widget_class->css_changed = pl_ladder_view_css_changed;

  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

  gtk_widget_class_set_css_name (widget_class, "plladderview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pl_ladder_view_init (PlLadderView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->lifelines = g_array_new (FALSE, FALSE, sizeof (guint));
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self),
                               _("The sequence diagram: time runs down, each arrow is a command or a "
                                 "reply. Click a row to go to that step."));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Sequence diagram"),
                                  -1);
}

GtkWidget *
pl_ladder_view_new (void)
{
  return g_object_new (PL_TYPE_LADDER_VIEW, NULL);
}

void
pl_ladder_view_set_cursor (PlLadderView *self,
                           PlCursor     *cursor)
{
  g_return_if_fail (PL_IS_LADDER_VIEW (self));
  g_return_if_fail (cursor == NULL || PL_IS_CURSOR (cursor));

  if (!pl_cursor_replace (&self->cursor, cursor, self))
    return;
  if (cursor != NULL)
    {
      g_signal_connect (cursor, "notify::position", G_CALLBACK (on_position), self);
      g_signal_connect (cursor, "notify::progress", G_CALLBACK (on_progress), self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pl_ladder_view_set_document (PlLadderView *self,
                             PlDocument   *document)
{
  g_return_if_fail (PL_IS_LADDER_VIEW (self));
  g_return_if_fail (document == NULL || PL_IS_DOCUMENT (document));

  if (self->document == document)
    return;
  if (self->document != NULL)
    {
      g_clear_signal_handler (&self->items_changed, pl_document_get_trace (self->document));
      g_clear_signal_handler (&self->topology_changed, pl_document_get_topology (self->document));
    }
  g_set_object (&self->document, document);
  if (document != NULL)
    {
      self->items_changed = g_signal_connect (pl_document_get_trace (document), "items-changed",
                                              G_CALLBACK (on_items_changed), self);
      self->topology_changed = g_signal_connect (pl_document_get_topology (document), "changed",
                                                 G_CALLBACK (on_topology_changed), self);
    }
  update_lifelines (self);
  g_clear_pointer (&self->rows_node, gsk_render_node_unref);
  if (self->vadjustment != NULL)
    gtk_adjustment_set_value (self->vadjustment, 0);
  configure_adjustments (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pl_ladder_view_set_presenting (PlLadderView *self,
                               gboolean      presenting)
{
  g_return_if_fail (PL_IS_LADDER_VIEW (self));

  self->presenting = !!presenting;
  configure_adjustments (self);
  follow_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
pl_ladder_view_save_png (PlLadderView  *self,
                         GFile         *file,
                         GError       **error)
{
  GtkNative *native;
  GskRenderer *renderer;
  GtkSnapshot *snapshot;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) png = NULL;
  gboolean dark = FALSE;
  double width;
  double height;
  double row;
  guint n;
  guint fit;
  guint first = 0;
  guint last;
  GdkRGBA fg;
  GdkRGBA bg;
  cairo_t *cr;

  g_return_val_if_fail (PL_IS_LADDER_VIEW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  native = gtk_widget_get_native (GTK_WIDGET (self));
  renderer = native != NULL ? gtk_native_get_renderer (native) : NULL;
  if (renderer == NULL || self->document == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("The sequence diagram is not shown, so it cannot be rendered"));
      return FALSE;
    }

  /* The diagram on white, whatever the style, as a picture for slides and handouts. */
  gdk_rgba_parse (&fg, "#241f31");
  gdk_rgba_parse (&bg, "#ffffff");
  width = MAX (640, gtk_widget_get_width (GTK_WIDGET (self)));
  row = row_height (self);
  n = n_rows (self);
  fit = (guint) ((MAX_PNG_HEIGHT - header_height (self) - 16) / row);
  last = n;
  if (n > fit)
    {
      guint current = self->cursor != NULL ? pl_cursor_get_position (self->cursor) : 0;

      first = current > fit / 2 ? current - fit / 2 : 0;
      last = MIN (n, first + fit);
      first = last - fit;
    }
  height = header_height (self) + (last - first) * row + 16;

  snapshot = gtk_snapshot_new ();
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, width, height));
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw_ladder (self, cr, width, height, first, last, header_height (self) - first * row, &fg, &bg, dark, FALSE);
  cairo_destroy (cr);
  node = gtk_snapshot_free_to_node (snapshot);

  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (texture == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The renderer could not draw the diagram"));
      return FALSE;
    }
  png = gdk_texture_save_to_png_bytes (texture);
  return g_file_replace_contents (file, g_bytes_get_data (png, NULL), g_bytes_get_size (png),
                                  NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL, NULL, error);
}
