/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTopologyView: the hosts, their links, and the current command or reply travelling along its link. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "pl-event-message.h"
#include "pl-palette.h"
#include "pl-sim-segment.h"
#include "pl-topology-view.h"
#include "pl-transcript-row.h"

/* Sizes at scale 1, in pixels and points; presentation mode scales them all. */
#define PAD             16.0
#define BANNER_HEIGHT   46.0
#define LEGEND_HEIGHT   58.0
#define BOX_WIDTH       200.0
#define BOX_HEIGHT      72.0
#define MAILBOX_HEIGHT  44.0
#define LINE_WIDTH      4.0
#define PRESENT_SCALE   1.3

/* Caption text is cut here so that a long line never covers the picture. */
#define CAPTION_CHARS   90

typedef struct {
  double x;
  double y;
} Point;

/* A cubic Bézier from p[0] to p[3]. */
typedef struct {
  Point p[4];
} Curve;

typedef struct {
  Curve    push;     /* the SMTP line */
  Curve    pull;     /* the POP3/IMAP/HTTP line: beside the SMTP line when the link carries both */
  gboolean visible;
} LinkGeometry;

typedef struct {
  guint            mailbox;
  graphene_rect_t  rect;
} MailboxGeometry;

struct _PlTopologyView
{
  GtkWidget      parent_instance;

  PlCursor      *cursor;
  PlDocument    *document;
  PlTopology    *topology;
  gulong         topology_changed;
  gboolean       show_tcp;
  gboolean       presenting;

  /* Geometry for the current size; rebuilt when the size or the topology changes. */
  gboolean       layout_valid;
  int            layout_width;
  int            layout_height;
  GArray        *boxes;       /* of graphene_rect_t, by host: the whole box, trays included */
  GArray        *headers;     /* of double, by host: the height of the box's header */
  GArray        *links;       /* of LinkGeometry, by link */
  GArray        *mailboxes;   /* of MailboxGeometry */
  graphene_rect_t legend;
  graphene_rect_t banner;

  /* What does not move during a step (hosts, links, mailboxes, legend), drawn once per step. */
  GskRenderNode *static_node;
};

G_DEFINE_FINAL_TYPE (PlTopologyView, pl_topology_view, GTK_TYPE_WIDGET)

static double
scale_of (PlTopologyView *self)
{
  return self->presenting ? PRESENT_SCALE : 1.0;
}

static void
invalidate_static (PlTopologyView *self)
{
  g_clear_pointer (&self->static_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
invalidate_layout (PlTopologyView *self)
{
  self->layout_valid = FALSE;
  invalidate_static (self);
}

/* Geometry -------------------------------------------------------------------- */

static Point
curve_at (const Curve *c,
          double       t)
{
  double u = 1 - t;
  Point p;

  p.x = u * u * u * c->p[0].x + 3 * u * u * t * c->p[1].x + 3 * u * t * t * c->p[2].x + t * t * t * c->p[3].x;
  p.y = u * u * u * c->p[0].y + 3 * u * u * t * c->p[1].y + 3 * u * t * t * c->p[2].y + t * t * t * c->p[3].y;
  return p;
}

/* Where a ray from @from (inside @box) towards @towards leaves it. */
static Point
box_exit_from (const graphene_rect_t *box,
               Point                  from,
               Point                  towards)
{
  double dx = towards.x - from.x;
  double dy = towards.y - from.y;
  double t = G_MAXDOUBLE;
  Point p;

  if (dx > 0)
    t = MIN (t, (box->origin.x + box->size.width - from.x) / dx);
  else if (dx < 0)
    t = MIN (t, (box->origin.x - from.x) / dx);
  if (dy > 0)
    t = MIN (t, (box->origin.y + box->size.height - from.y) / dy);
  else if (dy < 0)
    t = MIN (t, (box->origin.y - from.y) / dy);
  if (t == G_MAXDOUBLE)
    return from;
  p.x = from.x + dx * t;
  p.y = from.y + dy * t;
  return p;
}

static Point
box_center (const graphene_rect_t *box)
{
  Point c = { box->origin.x + box->size.width / 2, box->origin.y + box->size.height / 2 };

  return c;
}

/* Where a ray from the centre of @box towards @towards leaves it. */
static Point
box_exit (const graphene_rect_t *box,
          Point                  towards)
{
  return box_exit_from (box, box_center (box), towards);
}

/* Does the straight line from @a to @b cross @box? Sampled: boxes are large next to the steps. */
static gboolean
line_crosses (Point                  a,
              Point                  b,
              const graphene_rect_t *box)
{
  for (int i = 1; i < 20; i++)
    {
      graphene_point_t p = GRAPHENE_POINT_INIT (a.x + (b.x - a.x) * i / 20.0, a.y + (b.y - a.y) * i / 20.0);

      if (graphene_rect_contains_point (box, &p))
        return TRUE;
    }
  return FALSE;
}

/*
 * Where links meet a host: the middle of its header, so that two servers
 * side by side are joined level even when one holds more mailboxes.
 */
static Point
host_anchor (PlTopologyView *self,
             guint           host)
{
  const graphene_rect_t *box = &g_array_index (self->boxes, graphene_rect_t, host);
  Point p = { box->origin.x + box->size.width / 2,
              box->origin.y + g_array_index (self->headers, double, host) / 2 };

  return p;
}

/*
 * The line between two hosts: straight, or bowed over the hosts in
 * between (a reader pulling from a server two columns away), and moved
 * @offset to its side so that push and pull on one link are two lines.
 */
static Curve
make_curve (PlTopologyView        *self,
            guint                  a,
            guint                  b,
            double                 offset)
{
  const graphene_rect_t *box_a = &g_array_index (self->boxes, graphene_rect_t, a);
  const graphene_rect_t *box_b = &g_array_index (self->boxes, graphene_rect_t, b);
  Point ca = host_anchor (self, a);
  Point cb = host_anchor (self, b);
  double dx = cb.x - ca.x;
  double dy = cb.y - ca.y;
  double len = MAX (1.0, sqrt (dx * dx + dy * dy));
  double nx = -dy / len;
  double ny = dx / len;
  double bow = 0;
  Curve curve;

  for (guint i = 0; i < self->boxes->len; i++)
    if (i != a && i != b && line_crosses (ca, cb, &g_array_index (self->boxes, graphene_rect_t, i)))
      {
        /* Bow upwards, whichever way the link runs. */
        bow = (ny < 0 ? 1 : -1) * MIN (len * 0.35, 140 * scale_of (self));
        break;
      }

  curve.p[1].x = ca.x + dx / 3 + nx * bow * 1.33;
  curve.p[1].y = ca.y + dy / 3 + ny * bow * 1.33;
  curve.p[2].x = ca.x + 2 * dx / 3 + nx * bow * 1.33;
  curve.p[2].y = ca.y + 2 * dy / 3 + ny * bow * 1.33;
  curve.p[0] = box_exit_from (box_a, ca, curve.p[1]);
  curve.p[3] = box_exit_from (box_b, cb, curve.p[2]);
  if (bow == 0)
    {
      /* Straight: keep the control points on the clipped line. */
      curve.p[1].x = curve.p[0].x + (curve.p[3].x - curve.p[0].x) / 3;
      curve.p[1].y = curve.p[0].y + (curve.p[3].y - curve.p[0].y) / 3;
      curve.p[2].x = curve.p[0].x + 2 * (curve.p[3].x - curve.p[0].x) / 3;
      curve.p[2].y = curve.p[0].y + 2 * (curve.p[3].y - curve.p[0].y) / 3;
    }
  for (int i = 0; i < 4; i++)
    {
      curve.p[i].x += nx * offset;
      curve.p[i].y += ny * offset;
    }
  return curve;
}

static guint
count_trays (PlTopologyView *self,
             guint           host)
{
  guint n = 0;

  for (guint i = 0; i < pl_topology_get_n_mailboxes (self->topology); i++)
    if (pl_topology_get_mailbox (self->topology, i)->host == host && pl_topology_mailbox_is_used (self->topology, i))
      n++;
  return n;
}

/* A host's box: its header (icon, name, role, address), then a tray per mailbox it holds. */
static void
place_host (PlTopologyView *self,
            guint           host,
            double          x,
            double          y,
            double          width,
            double          squeeze)
{
  double s = scale_of (self);
  double header = BOX_HEIGHT * s * squeeze;
  double tray = (MAILBOX_HEIGHT + 6) * s * squeeze;
  double ty = y + header;

  for (guint m = 0; m < pl_topology_get_n_mailboxes (self->topology); m++)
    if (pl_topology_get_mailbox (self->topology, m)->host == host && pl_topology_mailbox_is_used (self->topology, m))
      {
        MailboxGeometry geometry = { m, GRAPHENE_RECT_INIT (x, ty, width, tray) };

        g_array_append_val (self->mailboxes, geometry);
        ty += tray;
      }
  g_array_index (self->boxes, graphene_rect_t, host) = GRAPHENE_RECT_INIT (x, y, width, ty - y + 4 * s * squeeze);
  g_array_index (self->headers, double, host) = header;
}

static double
host_height (PlTopologyView *self,
             guint           host)
{
  double s = scale_of (self);

  return BOX_HEIGHT * s + count_trays (self, host) * (MAILBOX_HEIGHT + 6) * s + 4 * s;
}

/*
 * Lays out @n hosts of one kind side by side in [@left, @right], centred,
 * at the top of the band from @top of @band height (or at its bottom).
 */
static void
place_row (PlTopologyView *self,
           const guint    *hosts,
           guint           n,
           double          left,
           double          right,
           double          top,
           double          band,
           gboolean        align_bottom)
{
  double s = scale_of (self);
  double gap = 36 * s;
  double width;
  double tallest = 0;
  double squeeze = 1;
  double total;
  double x;

  if (n == 0)
    return;
  width = MIN (BOX_WIDTH * s * 1.2, (right - left - gap * (n - 1)) / n);
  width = MAX (width, 60);
  for (guint i = 0; i < n; i++)
    tallest = MAX (tallest, host_height (self, hosts[i]));
  if (tallest > band)
    squeeze = band / tallest;
  total = n * width + (n - 1) * gap;
  x = left + (right - left - total) / 2;
  for (guint i = 0; i < n; i++)
    {
      double h = host_height (self, hosts[i]) * squeeze;

      /* Servers hang from the top of their band, user agents sit at its bottom: long links between. */
      place_host (self, hosts[i], x + i * (width + gap),
                  align_bottom ? top + band - h : top, width, squeeze);
    }
}

/*
 * Stacks @n hosts in [@left, @right] (at its left for @align 0, its right
 * for 1), centred in the band from @top of @band height.
 */
static void
place_stack (PlTopologyView *self,
             const guint    *hosts,
             guint           n,
             double          left,
             double          right,
             double          top,
             double          band,
             double          align)
{
  double s = scale_of (self);
  double gap = 26 * s;
  double width = MAX (60, MIN (BOX_WIDTH * s, (right - left) * 0.8));
  double total = 0;
  double squeeze = 1;
  double y;

  for (guint i = 0; i < n; i++)
    total += host_height (self, hosts[i]) + (i > 0 ? gap : 0);
  if (total > band)
    squeeze = band / total;
  y = top + (band - total * squeeze) / 2;
  for (guint i = 0; i < n; i++)
    {
      place_host (self, hosts[i], left + (right - left - width) * align, y, width, squeeze);
      y += (host_height (self, hosts[i]) + gap) * squeeze;
    }
}

/*
 * The textbook's picture, as a U: the sending servers on top at the left
 * and the receiving servers on top at the right, joined by SMTP; under
 * them the user agents that submit (left) and those that pull (right).
 * Mail goes up on the left, across, and down on the right. One side alone
 * (a POP3 capture) takes the whole width.
 */
static void
ensure_layout (PlTopologyView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  double s = scale_of (self);
  double pad = PAD * s;
  double area_top;
  double area_height;
  double top_band;
  double bottom_top;
  double bottom_band;
  double middle;
  double gap = 70 * s;
  GArray *kinds[PL_TOPOLOGY_N_COLUMNS];
  gboolean left_side;
  gboolean right_side;
  gboolean top_row;
  gboolean bottom_row;
  guint n_hosts;

  if (self->layout_valid && width == self->layout_width && height == self->layout_height)
    return;
  self->layout_valid = TRUE;
  self->layout_width = width;
  self->layout_height = height;
  g_array_set_size (self->boxes, 0);
  g_array_set_size (self->headers, 0);
  g_array_set_size (self->links, 0);
  g_array_set_size (self->mailboxes, 0);
  self->legend = GRAPHENE_RECT_INIT (pad, height - pad - LEGEND_HEIGHT * s, width - 2 * pad, LEGEND_HEIGHT * s);
  /* The banner on top says what is on the wire now; the legend below says how to read the picture. */
  self->banner = GRAPHENE_RECT_INIT (pad, pad * 0.6, width - 2 * pad, BANNER_HEIGHT * s);
  if (self->topology == NULL)
    return;

  n_hosts = pl_topology_get_n_hosts (self->topology);
  g_array_set_size (self->boxes, n_hosts);
  g_array_set_size (self->headers, n_hosts);
  area_top = pad * 0.6 + BANNER_HEIGHT * s + 10 * s;
  area_height = MAX (1.0, height - area_top - pad - LEGEND_HEIGHT * s - 8 * s);

  for (guint c = 0; c < PL_TOPOLOGY_N_COLUMNS; c++)
    kinds[c] = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint r = 0; r < n_hosts; r++)
    for (guint i = 0; i < n_hosts; i++)
      {
        const PlTopologyHost *host = pl_topology_get_host (self->topology, i);

        if (host->row == r)
          g_array_append_val (kinds[host->column], i);
      }

  left_side = kinds[PL_TOPOLOGY_COLUMN_SENDERS]->len + kinds[PL_TOPOLOGY_COLUMN_SENDING]->len > 0;
  right_side = kinds[PL_TOPOLOGY_COLUMN_RECEIVING]->len + kinds[PL_TOPOLOGY_COLUMN_READERS]->len > 0;
  top_row = kinds[PL_TOPOLOGY_COLUMN_SENDING]->len + kinds[PL_TOPOLOGY_COLUMN_RECEIVING]->len > 0;
  bottom_row = kinds[PL_TOPOLOGY_COLUMN_SENDERS]->len + kinds[PL_TOPOLOGY_COLUMN_READERS]->len > 0;

  /*
   * Half a mail path (the console, a capture of POP3 alone): the servers and
   * their user agents side by side, the user agents on the side the mail
   * goes to, so the one link between them is long and level.
   */
  if (left_side != right_side && top_row && bottom_row)
    {
      PlTopologyColumn servers = left_side ? PL_TOPOLOGY_COLUMN_SENDING : PL_TOPOLOGY_COLUMN_RECEIVING;
      PlTopologyColumn agents = left_side ? PL_TOPOLOGY_COLUMN_SENDERS : PL_TOPOLOGY_COLUMN_READERS;
      double half = width / 2.0;

      place_stack (self, (guint *) kinds[servers]->data, kinds[servers]->len,
                   left_side ? half + gap / 2 : pad, left_side ? width - pad : half - gap / 2,
                   area_top, area_height, left_side ? 1 : 0);
      place_stack (self, (guint *) kinds[agents]->data, kinds[agents]->len,
                   left_side ? pad : half + gap / 2, left_side ? half - gap / 2 : width - pad,
                   area_top, area_height, left_side ? 0 : 1);
      goto links;
    }

  /* Servers with their mailboxes need more height than user agents. */
  top_band = top_row && bottom_row ? area_height * 0.55 : area_height;
  bottom_top = top_row ? area_top + top_band + 26 * s : area_top;
  bottom_band = top_row ? area_height - top_band - 26 * s : area_height;
  middle = left_side && right_side ? width / 2.0 : (left_side ? width - pad + gap / 2 : pad - gap / 2);

  place_row (self, (guint *) kinds[PL_TOPOLOGY_COLUMN_SENDING]->data, kinds[PL_TOPOLOGY_COLUMN_SENDING]->len,
             pad, middle - gap / 2, area_top, top_band, !bottom_row);
  place_row (self, (guint *) kinds[PL_TOPOLOGY_COLUMN_RECEIVING]->data, kinds[PL_TOPOLOGY_COLUMN_RECEIVING]->len,
             middle + gap / 2, width - pad, area_top, top_band, FALSE);
  place_row (self, (guint *) kinds[PL_TOPOLOGY_COLUMN_SENDERS]->data, kinds[PL_TOPOLOGY_COLUMN_SENDERS]->len,
             pad, middle - gap / 2, bottom_top, bottom_band, top_row);
  place_row (self, (guint *) kinds[PL_TOPOLOGY_COLUMN_READERS]->data, kinds[PL_TOPOLOGY_COLUMN_READERS]->len,
             middle + gap / 2, width - pad, bottom_top, bottom_band, top_row);

links:
  for (guint c = 0; c < PL_TOPOLOGY_N_COLUMNS; c++)
    g_array_unref (kinds[c]);

  g_array_set_size (self->links, pl_topology_get_n_links (self->topology));
  for (guint i = 0; i < pl_topology_get_n_links (self->topology); i++)
    {
      const PlTopologyLink *link = pl_topology_get_link (self->topology, i);
      LinkGeometry *geometry = &g_array_index (self->links, LinkGeometry, i);
      double offset = link->push && link->pull ? 6 * s : 0;

      geometry->push = make_curve (self, link->a, link->b, -offset);
      geometry->pull = make_curve (self, link->a, link->b, offset);
      geometry->visible = TRUE;
    }
}

/* Drawing helpers ---------------------------------------------------------------- */

static void
set_source (cairo_t       *cr,
            const GdkRGBA *color,
            double         alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * alpha);
}

static void
rounded_rect (cairo_t *cr,
              double   x,
              double   y,
              double   w,
              double   h,
              double   r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static void
curve_path (cairo_t     *cr,
            const Curve *c)
{
  cairo_move_to (cr, c->p[0].x, c->p[0].y);
  cairo_curve_to (cr, c->p[1].x, c->p[1].y, c->p[2].x, c->p[2].y, c->p[3].x, c->p[3].y);
}

/* A filled arrowhead at @tip pointing from @from. */
static void
arrowhead (cairo_t *cr,
           Point    from,
           Point    tip,
           double   size)
{
  double dx = tip.x - from.x;
  double dy = tip.y - from.y;
  double len = MAX (1e-6, sqrt (dx * dx + dy * dy));
  double ux = dx / len;
  double uy = dy / len;

  cairo_move_to (cr, tip.x, tip.y);
  cairo_line_to (cr, tip.x - ux * size * 1.6 - uy * size, tip.y - uy * size * 1.6 + ux * size);
  cairo_line_to (cr, tip.x - ux * size * 1.6 + uy * size, tip.y - uy * size * 1.6 - ux * size);
  cairo_close_path (cr);
  cairo_fill (cr);
}

static PangoLayout *
make_layout (PlTopologyView *self,
             const char     *text,
             double          points,
             int             weight,
             gboolean        monospace)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  PangoFontDescription *font;
  const PangoFontDescription *base;

  base = pango_context_get_font_description (gtk_widget_get_pango_context (GTK_WIDGET (self)));
  font = base != NULL ? pango_font_description_copy (base) : pango_font_description_new ();
  if (monospace)
    pango_font_description_set_family (font, "monospace");
  pango_font_description_set_size (font, (int) (points * scale_of (self) * PANGO_SCALE));
  pango_font_description_set_weight (font, weight);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  return layout;
}

/* The largest size, from @points down to 9, at which @text fits in @width (a name is better small than cut). */
static double
fitting_size (PlTopologyView *self,
              const char     *text,
              double          width,
              double          points)
{
  for (; points > 9; points -= 1)
    {
      g_autoptr(PangoLayout) layout = make_layout (self, text, points, PANGO_WEIGHT_BOLD, FALSE);
      int w;

      pango_layout_get_pixel_size (layout, &w, NULL);
      if (w <= width)
        break;
    }
  return points;
}

/* Draws @text centred on @x at @y (top), at most @max_width wide; returns its height. */
static double
draw_text (PlTopologyView *self,
           cairo_t        *cr,
           const char     *text,
           double          x,
           double          y,
           double          max_width,
           double          points,
           int             weight,
           gboolean        monospace)
{
  g_autoptr(PangoLayout) layout = make_layout (self, text, points, weight, monospace);
  int w;
  int h;

  pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - max_width / 2, y);
  pango_cairo_show_layout (cr, layout);
  return h;
}

/* The little pictures inside host boxes: a server rack, a laptop, a phone, a browser window. */
static void
draw_icon (cairo_t        *cr,
           PlTopologyIcon  icon,
           double          x,
           double          y,
           double          size)
{
  double u = size / 10;

  cairo_set_line_width (cr, MAX (1.5, u * 0.9));
  switch (icon)
    {
    case PL_TOPOLOGY_ICON_SERVER:
      for (int i = 0; i < 3; i++)
        {
          rounded_rect (cr, x + u, y + u * (0.5 + i * 3.1), u * 8, u * 2.6, u * 0.6);
          cairo_stroke (cr);
          cairo_arc (cr, x + u * 7.3, y + u * (1.8 + i * 3.1), u * 0.45, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      break;
    case PL_TOPOLOGY_ICON_PHONE:
      rounded_rect (cr, x + u * 3, y + u * 0.5, u * 4.2, u * 9, u * 0.9);
      cairo_stroke (cr);
      cairo_move_to (cr, x + u * 4.4, y + u * 8.3);
      cairo_line_to (cr, x + u * 5.8, y + u * 8.3);
      cairo_stroke (cr);
      break;
    case PL_TOPOLOGY_ICON_BROWSER:
      rounded_rect (cr, x + u * 0.5, y + u * 1.5, u * 9, u * 7, u * 0.8);
      cairo_stroke (cr);
      cairo_move_to (cr, x + u * 0.5, y + u * 3.5);
      cairo_line_to (cr, x + u * 9.5, y + u * 3.5);
      cairo_stroke (cr);
      cairo_arc (cr, x + u * 5, y + u * 6, u * 1.5, 0, 2 * G_PI);
      cairo_stroke (cr);
      break;
    case PL_TOPOLOGY_ICON_LAPTOP:
    default:
      rounded_rect (cr, x + u * 1.5, y + u * 1.5, u * 7, u * 5, u * 0.6);
      cairo_stroke (cr);
      cairo_move_to (cr, x + u * 0.2, y + u * 8);
      cairo_line_to (cr, x + u * 9.8, y + u * 8);
      cairo_stroke (cr);
      break;
    }
}

static void
draw_envelope (cairo_t       *cr,
               double         cx,
               double         cy,
               double         w,
               double         h,
               const GdkRGBA *fill,
               const GdkRGBA *ink)
{
  rounded_rect (cr, cx - w / 2, cy - h / 2, w, h, h * 0.12);
  set_source (cr, fill, 1);
  cairo_fill_preserve (cr);
  set_source (cr, ink, 1);
  cairo_set_line_width (cr, MAX (1.5, h / 12));
  cairo_stroke (cr);
  cairo_move_to (cr, cx - w / 2 + 2, cy - h / 2 + 2);
  cairo_line_to (cr, cx, cy + h * 0.08);
  cairo_line_to (cr, cx + w / 2 - 2, cy - h / 2 + 2);
  cairo_stroke (cr);
}

/* What the current step is about --------------------------------------------------- */

typedef struct {
  PlEvent   *event;     /* borrowed; NULL at the start */
  PlSession *session;   /* borrowed; may be NULL */
  guint      client;
  guint      server;
  guint      link;
  gboolean   placed;    /* the session's hosts are known */
} Current;

static gboolean
get_current (PlTopologyView *self,
             Current        *current)
{
  memset (current, 0, sizeof *current);
  if (self->cursor == NULL || self->topology == NULL || self->document == NULL)
    return FALSE;
  current->event = pl_cursor_get_event (self->cursor);
  if (current->event == NULL)
    return FALSE;
  current->session = pl_trace_get_session (pl_document_get_trace (self->document), current->event->session);
  current->placed = pl_topology_get_session_hosts (self->topology, current->event->session,
                                                   &current->client, &current->server, &current->link);
  return TRUE;
}

static PlProtocol
current_protocol (const Current *current)
{
  return current->session != NULL ? current->session->protocol : PL_PROTOCOL_UNKNOWN;
}

static const Curve *
current_curve (PlTopologyView *self,
               const Current  *current,
               gboolean       *reversed)
{
  const PlTopologyLink *link;
  LinkGeometry *geometry;
  guint from;

  if (!current->placed || current->event->kind == PL_EVENT_NOTE || current->link >= self->links->len)
    return NULL;
  link = pl_topology_get_link (self->topology, current->link);
  geometry = &g_array_index (self->links, LinkGeometry, current->link);
  from = current->event->dir == PL_DIR_SERVER ? current->server : current->client;
  *reversed = from != link->a;
  return pl_palette_protocol_pushes (current_protocol (current)) ? &geometry->push : &geometry->pull;
}

/* Eased, so a unit visibly leaves and arrives rather than sliding at one speed. */
static double
ease (double t)
{
  return t < 0.5 ? 2 * t * t : 1 - pow (-2 * t + 2, 2) / 2;
}

static char *
caption_for (PlEvent *event)
{
  g_autofree char *summary = pl_transcript_row_summarize (event, CAPTION_CHARS);

  if (event->dir == PL_DIR_CLIENT)
    return g_strconcat ("C: ", summary, NULL);
  if (event->dir == PL_DIR_SERVER)
    return g_strconcat ("S: ", summary, NULL);
  return g_steal_pointer (&summary);
}

/*
 * The banner over the picture: what is on the wire at this step, in one
 * line big enough for the back row, after a chip naming the protocol.
 */
static void
draw_banner (PlTopologyView *self,
             cairo_t        *cr,
             const char     *chip,
             const char     *text,
             const GdkRGBA  *color,
             const GdkRGBA  *ink,
             const GdkRGBA  *fg,
             const GdkRGBA  *bg,
             gboolean        note)
{
  double s = scale_of (self);
  const graphene_rect_t *r = &self->banner;
  double x = r->origin.x;
  double chip_width = 0;
  g_autoptr(PangoLayout) layout = NULL;
  int w;
  int h;

  rounded_rect (cr, r->origin.x, r->origin.y, r->size.width, r->size.height, 10 * s);
  set_source (cr, fg, 0.06);
  cairo_fill_preserve (cr);
  set_source (cr, color != NULL ? color : fg, color != NULL ? 1 : 0.3);
  cairo_set_line_width (cr, 2 * s);
  cairo_stroke (cr);

  if (chip != NULL && color != NULL)
    {
      g_autoptr(PangoLayout) chip_layout = make_layout (self, chip, 12, PANGO_WEIGHT_HEAVY, FALSE);

      pango_layout_get_pixel_size (chip_layout, &w, &h);
      chip_width = w + 20 * s;
      rounded_rect (cr, x + 6 * s, r->origin.y + 6 * s, chip_width, r->size.height - 12 * s, 7 * s);
      set_source (cr, color, 1);
      cairo_fill (cr);
      set_source (cr, ink, 1);
      cairo_move_to (cr, x + 6 * s + 10 * s, r->origin.y + (r->size.height - h) / 2);
      pango_cairo_show_layout (cr, chip_layout);
      chip_width += 10 * s;
    }

  layout = make_layout (self, text, note ? 13 : 15, note ? PANGO_WEIGHT_NORMAL : PANGO_WEIGHT_BOLD, !note);
  if (note)
    {
      PangoFontDescription *font = pango_font_description_copy (pango_layout_get_font_description (layout));

      pango_font_description_set_style (font, PANGO_STYLE_ITALIC);
      pango_layout_set_font_description (layout, font);
      pango_font_description_free (font);
    }
  pango_layout_set_width (layout, (int) ((r->size.width - chip_width - 24 * s) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_get_pixel_size (layout, &w, &h);
  set_source (cr, fg, 1);
  cairo_move_to (cr, x + chip_width + 12 * s, r->origin.y + (r->size.height - h) / 2);
  pango_cairo_show_layout (cr, layout);
  (void) bg;
}

/* The static layer --------------------------------------------------------------------- */

static void
draw_links (PlTopologyView *self,
            cairo_t        *cr,
            const Current  *current,
            const GdkRGBA  *fg,
            gboolean        dark)
{
  double s = scale_of (self);
  static const double dashes[] = { 12, 7 };

  for (guint i = 0; i < pl_topology_get_n_links (self->topology); i++)
    {
      const PlTopologyLink *link = pl_topology_get_link (self->topology, i);
      LinkGeometry *geometry = &g_array_index (self->links, LinkGeometry, i);
      gboolean active = current->event != NULL && current->placed && current->link == i;

      /* A capture's link whose only session turned out to be a relay's (its EHLO said so) is no link. */
      if (!link->push && !link->pull && !link->wired)
        continue;
      if (!link->push && !link->pull)
        {
          /* A link no session used: the wire is there, nothing crossed it. */
          set_source (cr, fg, 0.25);
          cairo_set_line_width (cr, 2 * s);
          cairo_set_dash (cr, dashes, 2, 0);
          curve_path (cr, &geometry->push);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
          continue;
        }

      if (link->push)
        {
          GdkRGBA color;
          const Curve *c = &geometry->push;
          gboolean to_b = link->push_server == link->b;

          pl_palette_protocol_color (PL_PROTOCOL_SMTP, dark, &color);
          set_source (cr, &color, active || current->event == NULL ? 1 : 0.6);
          cairo_set_line_width (cr, (active ? LINE_WIDTH * 1.8 : LINE_WIDTH) * s);
          curve_path (cr, c);
          cairo_stroke (cr);
          /* The arrow points where SMTP pushes the mail: into the server. */
          if (to_b)
            arrowhead (cr, c->p[2], c->p[3], 6 * s);
          else
            arrowhead (cr, c->p[1], c->p[0], 6 * s);
        }
      if (link->pull)
        {
          GdkRGBA color;
          const Curve *c = &geometry->pull;
          gboolean to_b = link->pull_server != link->b;

          pl_palette_protocol_color (link->pull_protocol, dark, &color);
          set_source (cr, &color, active || current->event == NULL ? 1 : 0.6);
          cairo_set_line_width (cr, (active ? LINE_WIDTH * 1.8 : LINE_WIDTH) * s);
          cairo_set_dash (cr, dashes, 2, 0);
          curve_path (cr, c);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
          /* The arrow points where pulled mail goes: to the user agent that asked for it. */
          if (to_b)
            arrowhead (cr, c->p[2], c->p[3], 6 * s);
          else
            arrowhead (cr, c->p[1], c->p[0], 6 * s);
        }
    }
}

static void
draw_link_labels (PlTopologyView *self,
                  cairo_t        *cr,
                  const Current  *current,
                  const GdkRGBA  *fg,
                  const GdkRGBA  *bg,
                  gboolean        dark)
{
  double s = scale_of (self);

  for (guint i = 0; i < pl_topology_get_n_links (self->topology); i++)
    {
      const PlTopologyLink *link = pl_topology_get_link (self->topology, i);
      LinkGeometry *geometry = &g_array_index (self->links, LinkGeometry, i);

      /* The link in use is labelled by the banner and its travelling tag: its label would be in the way. */
      if (current->event != NULL && current->placed && current->link == i && current->event->kind != PL_EVENT_NOTE)
        continue;

      for (int which = 0; which < 2; which++)
        {
          gboolean push = which == 0;
          PlProtocol protocol = push ? PL_PROTOCOL_SMTP : link->pull_protocol;
          g_autofree char *text = NULL;
          g_autoptr(PangoLayout) layout = NULL;
          GdkRGBA color;
          Point mid;
          int w;
          int h;

          if ((push && !link->push) || (!push && !link->pull))
            continue;
          /* Translators: on a link of the picture: "SMTP push", "POP3 pull". */
          text = g_strdup_printf (push ? _("%s push") : _("%s pull"), pl_palette_protocol_name (protocol));
          layout = make_layout (self, text, 10.5, PANGO_WEIGHT_BOLD, FALSE);
          pango_layout_get_pixel_size (layout, &w, &h);
          /* Pull links fan out to the readers: nearer them, their labels stand apart. */
          mid = curve_at (push ? &geometry->push : &geometry->pull,
                          push || link->pull_server == link->a ? (push ? 0.5 : 0.62) : 0.38);
          {
            /*
             * Beside the line, not on it: above a level line, right of an
             * upright one; push and pull of one link on either side.
             */
            Point a = geometry->push.p[0];
            Point b = geometry->push.p[3];
            double dx = b.x - a.x;
            double dy = b.y - a.y;
            double len = MAX (1.0, sqrt (dx * dx + dy * dy));
            double nx = -dy / len;
            double ny = dx / len;
            double reach;

            if (fabs (dx) >= fabs (dy) ? ny > 0 : nx < 0)
              {
                nx = -nx;
                ny = -ny;
              }
            if (link->push && link->pull && !push)
              {
                nx = -nx;
                ny = -ny;
              }
            /* Far enough that the travelling tag passes beside the label, not under it. */
            reach = fabs (nx) * (w / 2.0 + 6 * s) + fabs (ny) * (h / 2.0 + 2 * s) + 22 * s;
            mid.x += nx * reach;
            mid.y += ny * reach;
          }

          pl_palette_protocol_color (protocol, dark, &color);
          rounded_rect (cr, mid.x - w / 2.0 - 6 * s, mid.y - h / 2.0 - 2 * s, w + 12 * s, h + 4 * s, 8 * s);
          set_source (cr, bg, 0.92);
          cairo_fill_preserve (cr);
          set_source (cr, &color, 1);
          cairo_set_line_width (cr, 1.5 * s);
          cairo_stroke (cr);
          cairo_move_to (cr, mid.x - w / 2.0, mid.y - h / 2.0);
          pango_cairo_show_layout (cr, layout);
        }
    }
}

static void
draw_hosts (PlTopologyView *self,
            cairo_t        *cr,
            const Current  *current,
            const GdkRGBA  *fg,
            const GdkRGBA  *bg,
            gboolean        dark)
{
  double s = scale_of (self);

  for (guint i = 0; i < pl_topology_get_n_hosts (self->topology); i++)
    {
      const PlTopologyHost *host = pl_topology_get_host (self->topology, i);
      const graphene_rect_t *box = &g_array_index (self->boxes, graphene_rect_t, i);
      gboolean active = current->event != NULL && current->placed
                        && (current->client == i || current->server == i);
      double x = box->origin.x;
      double y = box->origin.y;
      double w = box->size.width;
      double h = box->size.height;
      double header = g_array_index (self->headers, double, i);
      /* A narrow box (many readers side by side) gives its icon's room to the name. */
      double icon = w < 170 * s ? 0 : MIN (header * 0.55, 40 * s);
      double text_x = icon > 0 ? x + icon + 14 * s : x + 6 * s;
      double text_w = icon > 0 ? w - icon - 20 * s : w - 12 * s;
      double ty;

      rounded_rect (cr, x, y, w, h, 12 * s);
      set_source (cr, bg, 1);
      cairo_fill_preserve (cr);
      set_source (cr, fg, active ? 0.10 : 0.05);
      cairo_fill_preserve (cr);
      if (active)
        {
          GdkRGBA color;

          pl_palette_protocol_color (current_protocol (current), dark, &color);
          set_source (cr, &color, 1);
          cairo_set_line_width (cr, 3.5 * s);
        }
      else
        {
          set_source (cr, fg, 0.5);
          cairo_set_line_width (cr, 2 * s);
        }
      cairo_stroke (cr);

      set_source (cr, fg, 0.85);
      if (icon > 0)
        draw_icon (cr, host->icon, x + 8 * s, y + (header - icon) / 2, icon);

      set_source (cr, fg, 1);
      ty = y + 8 * s;
      ty += draw_text (self, cr, host->name, text_x + text_w / 2, ty, text_w,
                       fitting_size (self, host->name, text_w, icon > 0 ? 13 : 11), PANGO_WEIGHT_BOLD, FALSE);
      set_source (cr, fg, 0.8);
      ty += draw_text (self, cr, host->subtitle, text_x + text_w / 2, ty, text_w, 10.5, PANGO_WEIGHT_NORMAL, FALSE);
      /* A host known only by its address is not told twice. */
      if (host->address != NULL && g_strcmp0 (host->address, host->name) != 0 && ty + 12 * s < y + header)
        {
          set_source (cr, fg, 0.65);
          draw_text (self, cr, host->address, text_x + text_w / 2, ty, text_w, 9.5, PANGO_WEIGHT_NORMAL, TRUE);
        }
    }
}

static void
draw_mailboxes (PlTopologyView *self,
                cairo_t        *cr,
                const GdkRGBA  *fg,
                const GdkRGBA  *bg)
{
  double s = scale_of (self);
  guint position = self->cursor != NULL ? pl_cursor_get_position (self->cursor) : 0;
  GdkRGBA highlight;

  gdk_rgba_parse (&highlight, "#e5a50a");
  for (guint i = 0; i < self->mailboxes->len; i++)
    {
      const MailboxGeometry *geometry = &g_array_index (self->mailboxes, MailboxGeometry, i);
      const PlTopologyMailbox *mailbox = pl_topology_get_mailbox (self->topology, geometry->mailbox);
      const graphene_rect_t *r = &geometry->rect;
      gboolean changed = position > 0
                         && pl_topology_get_mailbox_changed_at (self->topology, geometry->mailbox, position) == position;
      g_autofree char *title = NULL;
      g_autofree char *count_text = NULL;
      guint count = 0;
      guint before = 0;
      double ty;

      if (!pl_topology_get_mailbox_at (self->topology, geometry->mailbox, position, &count, NULL))
        continue;
      if (changed)
        pl_topology_get_mailbox_at (self->topology, geometry->mailbox, position - 1, &before, NULL);

      if (mailbox->user != NULL)
        /* Translators: over the message count of a mailbox on a server. */
        title = g_strdup_printf (_("Mailbox of %s"), mailbox->user);
      else
        title = g_strdup (_("Queue (waiting to be relayed)"));
      if (count == 0)
        count_text = g_strdup (mailbox->user != NULL ? _("empty") : _("nothing waiting"));
      else
        count_text = g_strdup_printf (ngettext ("%u message", "%u messages", count), count);
      if (changed)
        {
          g_autofree char *with_change = g_strdup_printf (_("%s (was %u)"), count_text, before);

          g_free (count_text);
          count_text = g_steal_pointer (&with_change);
        }

      rounded_rect (cr, r->origin.x + 8 * s, r->origin.y, r->size.width - 16 * s, r->size.height - 6 * s, 8 * s);
      set_source (cr, bg, 1);
      cairo_fill_preserve (cr);
      if (changed)
        {
          set_source (cr, &highlight, 0.25);
          cairo_fill_preserve (cr);
          set_source (cr, &highlight, 1);
          cairo_set_line_width (cr, 3 * s);
        }
      else
        {
          set_source (cr, fg, 0.06);
          cairo_fill_preserve (cr);
          set_source (cr, fg, 0.4);
          cairo_set_line_width (cr, 1.5 * s);
        }
      cairo_stroke (cr);

      ty = r->origin.y + 3 * s;
      set_source (cr, fg, 0.75);
      ty += draw_text (self, cr, title, r->origin.x + r->size.width / 2, ty, r->size.width - 28 * s,
                       9.5, PANGO_WEIGHT_NORMAL, FALSE);
      set_source (cr, fg, 1);
      draw_text (self, cr, count_text, r->origin.x + r->size.width / 2, ty, r->size.width - 28 * s,
                 13, PANGO_WEIGHT_HEAVY, FALSE);
    }
}

/* One line of the legend: a sample drawn by @sample, then @text, in [@x, @x + @width]. */
static void
legend_text (PlTopologyView *self,
             cairo_t        *cr,
             const char     *text,
             double          x,
             double          y,
             double          width)
{
  g_autoptr(PangoLayout) layout = make_layout (self, text, 10, PANGO_WEIGHT_NORMAL, FALSE);
  int h;

  pango_layout_set_width (layout, (int) (MAX (10, width) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_get_pixel_size (layout, NULL, &h);
  cairo_move_to (cr, x, y - h / 2.0);
  pango_cairo_show_layout (cr, layout);
}

static void
draw_legend (PlTopologyView *self,
             cairo_t        *cr,
             const GdkRGBA  *fg,
             gboolean        dark)
{
  double s = scale_of (self);
  const graphene_rect_t *r = &self->legend;
  double x = r->origin.x;
  double y = r->origin.y;
  double row = r->size.height / 2;
  double split = r->size.width * 0.7;
  static const double dashes[] = { 12, 7 };
  GdkRGBA smtp;
  GdkRGBA pop3;
  GdkRGBA paper;

  pl_palette_protocol_color (PL_PROTOCOL_SMTP, dark, &smtp);
  pl_palette_protocol_color (PL_PROTOCOL_POP3, dark, &pop3);
  gdk_rgba_parse (&paper, "#fdf6e3");

  set_source (cr, fg, 0.2);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, x, y - 4 * s);
  cairo_line_to (cr, x + r->size.width, y - 4 * s);
  cairo_stroke (cr);

  /* Push: a solid line with the arrow at the server it pushes to. */
  set_source (cr, &smtp, 1);
  cairo_set_line_width (cr, LINE_WIDTH * s);
  cairo_move_to (cr, x, y + row / 2);
  cairo_line_to (cr, x + 46 * s, y + row / 2);
  cairo_stroke (cr);
  arrowhead (cr, (Point) { x, y + row / 2 }, (Point) { x + 52 * s, y + row / 2 }, 6 * s);
  set_source (cr, fg, 1);
  legend_text (self, cr, _("SMTP push — the sender connects and hands the mail over"),
               x + 62 * s, y + row / 2, split - 72 * s);

  /* Pull: a dashed line with the arrow at the user agent the mail goes to. */
  set_source (cr, &pop3, 1);
  cairo_set_dash (cr, dashes, 2, 0);
  cairo_move_to (cr, x + 52 * s, y + row * 1.5);
  cairo_line_to (cr, x + 6 * s, y + row * 1.5);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  arrowhead (cr, (Point) { x + 52 * s, y + row * 1.5 }, (Point) { x, y + row * 1.5 }, 6 * s);
  set_source (cr, fg, 1);
  legend_text (self, cr, _("POP3 · IMAP · HTTP pull — the reader connects and fetches it"),
               x + 62 * s, y + row * 1.5, split - 72 * s);

  /* What travels. */
  x = r->origin.x + split;
  draw_envelope (cr, x + 16 * s, y + row / 2, 28 * s, 18 * s, &paper, fg);
  rounded_rect (cr, x + 4 * s, y + row * 1.5 - 8 * s, 26 * s, 16 * s, 8 * s);
  set_source (cr, &smtp, 1);
  cairo_fill (cr);
  set_source (cr, fg, 1);
  legend_text (self, cr, _("a message"), x + 40 * s, y + row / 2, r->size.width - split - 40 * s);
  legend_text (self, cr, _("a command or reply"), x + 40 * s, y + row * 1.5, r->size.width - split - 40 * s);
}

/* The banner says what this step is: it changes with the step, not with each frame. */
static void
draw_current_banner (PlTopologyView *self,
                     cairo_t        *cr,
                     const Current  *current,
                     const GdkRGBA  *fg,
                     const GdkRGBA  *bg,
                     gboolean        dark)
{
  g_autofree char *caption = NULL;
  GdkRGBA color;
  GdkRGBA ink;

  if (current->event == NULL)
    {
      if (self->cursor != NULL && pl_cursor_get_n_steps (self->cursor) > 0)
        draw_banner (self, cr, NULL, _("Press Space to play, or → to take one step"), NULL, fg, fg, bg, TRUE);
      return;
    }
  pl_palette_protocol_color (current_protocol (current), dark, &color);
  gdk_rgba_parse (&ink, dark ? "black" : "white");
  caption = caption_for (current->event);
  if (current->event->kind == PL_EVENT_NOTE)
    draw_banner (self, cr, _("note"), caption, &color, &ink, fg, bg, TRUE);
  else
    draw_banner (self, cr, pl_palette_protocol_name (current_protocol (current)), caption,
                 &color, &ink, fg, bg, FALSE);
}

static void
draw_static (PlTopologyView *self,
             cairo_t        *cr,
             const GdkRGBA  *fg,
             const GdkRGBA  *bg,
             gboolean        dark)
{
  Current current;

  get_current (self, &current);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  draw_links (self, cr, &current, fg, dark);
  draw_link_labels (self, cr, &current, fg, bg, dark);
  draw_hosts (self, cr, &current, fg, bg, dark);
  draw_mailboxes (self, cr, fg, bg);
  draw_legend (self, cr, fg, dark);
  draw_current_banner (self, cr, &current, fg, bg, dark);
}

/* The moving layer -------------------------------------------------------------------------- */

/* What the travelling tag says: the verb (with a short argument) or the status. */
static char *
token_label (PlEvent *event)
{
  if (event->kind == PL_EVENT_DATA)
    return g_strdup (_("message"));
  if (event->kind == PL_EVENT_COMMAND && event->verb != NULL)
    {
      if (event->args != NULL && event->args[0] != '\0' && strlen (event->verb) + strlen (event->args) <= 11)
        return g_strdup_printf ("%s %s", event->verb, event->args);
      return g_strdup (event->verb);
    }
  if (event->status != NULL)
    return g_strdup (event->status);
  return pl_transcript_row_summarize (event, 10);
}

/* Where the current unit is now, and the curve it follows. FALSE when nothing travels. */
static gboolean
token_position (PlTopologyView *self,
                const Current  *current,
                Point          *where,
                const Curve   **curve_out,
                gboolean       *reversed_out,
                double         *t_out)
{
  const Curve *curve;
  gboolean reversed = FALSE;
  double t;

  if (current->event == NULL)
    return FALSE;
  curve = current_curve (self, current, &reversed);
  if (curve == NULL)
    return FALSE;
  t = ease (pl_cursor_get_progress (self->cursor));
  *where = curve_at (curve, reversed ? 1 - t : t);
  if (curve_out != NULL)
    *curve_out = curve;
  if (reversed_out != NULL)
    *reversed_out = reversed;
  if (t_out != NULL)
    *t_out = t;
  return TRUE;
}

static void
draw_segments (PlTopologyView *self,
               cairo_t        *cr,
               const Current  *current,
               const GdkRGBA  *fg,
               const GdkRGBA  *bg)
{
  double s = scale_of (self);
  PlTrace *trace = pl_document_get_trace (self->document);
  guint position = pl_cursor_get_position (self->cursor);
  PlEvent *next = pl_trace_get_event (trace, position);
  double t0 = current->event->time;
  double t1 = next != NULL ? next->time : t0 + 1.0;
  double end = t1;
  double now;
  guint first;
  guint last;

  /*
   * Virtual time runs from this step's unit to the next one's; the
   * segments that leave meanwhile also arrive within the step.
   */
  first = pl_document_find_segment (self->document, t0 - 2.0);
  last = pl_document_find_segment (self->document, t1);
  for (guint i = pl_document_find_segment (self->document, t0); i < last; i++)
    end = MAX (end, pl_document_get_segment (self->document, i)->arrive);
  now = t0 + pl_cursor_get_progress (self->cursor) * (end - t0);

  for (guint i = first; i < last; i++)
    {
      const PlDocumentSegment *segment = pl_document_get_segment (self->document, i);
      const graphene_rect_t *a;
      const graphene_rect_t *b;
      g_autofree char *flags = NULL;
      g_autofree char *label = NULL;
      g_autoptr(PangoLayout) layout = NULL;
      Point pa;
      Point pb;
      double f;
      double dx;
      double dy;
      double len;
      double x;
      double y;
      int w;
      int h;

      if (segment->depart > now || segment->arrive < now || segment->arrive <= segment->depart)
        continue;
      if (segment->src >= self->boxes->len || segment->dst >= self->boxes->len)
        continue;
      a = &g_array_index (self->boxes, graphene_rect_t, segment->src);
      b = &g_array_index (self->boxes, graphene_rect_t, segment->dst);
      pa = box_exit (a, box_center (b));
      pb = box_exit (b, box_center (a));
      f = (now - segment->depart) / (segment->arrive - segment->depart);
      dx = pb.x - pa.x;
      dy = pb.y - pa.y;
      len = MAX (1.0, sqrt (dx * dx + dy * dy));
      /* Each direction on its own side of the line, below the unit's caption. */
      x = pa.x + dx * f + (-dy / len) * 16 * s;
      y = pa.y + dy * f + (dx / len) * 16 * s;

      rounded_rect (cr, x - 6 * s, y - 6 * s, 12 * s, 12 * s, 3 * s);
      set_source (cr, fg, 0.8);
      cairo_fill (cr);

      flags = pl_sim_tcp_flags_to_string (segment->flags);
      if (segment->len > 0)
        /* Translators: a TCP segment: its flags and how many octets of data it carries. */
        label = g_strdup_printf (_("%s, %u octets"), flags, segment->len);
      else
        label = g_strdup (flags);
      layout = make_layout (self, label, 9, PANGO_WEIGHT_BOLD, TRUE);
      pango_layout_get_pixel_size (layout, &w, &h);
      rounded_rect (cr, x + 9 * s, y - h / 2.0 - 1, w + 8 * s, h + 2, 4 * s);
      set_source (cr, bg, 0.9);
      cairo_fill (cr);
      set_source (cr, fg, 1);
      cairo_move_to (cr, x + 13 * s, y - h / 2.0);
      pango_cairo_show_layout (cr, layout);
    }
}

static void
draw_moving (PlTopologyView *self,
             cairo_t        *cr,
             const GdkRGBA  *fg,
             const GdkRGBA  *bg,
             gboolean        dark)
{
  double s = scale_of (self);
  Current current;
  const Curve *curve = NULL;
  gboolean reversed = FALSE;
  g_autofree char *label = NULL;
  GdkRGBA color;
  GdkRGBA ink;
  Point at;
  double t = 0;

  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  if (!get_current (self, &current))
    return;

  pl_palette_protocol_color (current_protocol (&current), dark, &color);
  /* White on the light shades, black on the dark-style ones: both above 4.5:1. */
  gdk_rgba_parse (&ink, dark ? "black" : "white");

  if (self->show_tcp && pl_document_get_n_segments (self->document) > 0)
    draw_segments (self, cr, &current, fg, bg);

  if (!token_position (self, &current, &at, &curve, &reversed, &t))
    return;

  /* The trail: the part of the link the unit has crossed, in its colour. */
  {
    Point from = curve_at (curve, reversed ? 1 : 0);

    set_source (cr, &color, 0.35);
    cairo_set_line_width (cr, 12 * s);
    cairo_move_to (cr, from.x, from.y);
    for (int i = 1; i <= 24; i++)
      {
        double u = t * i / 24.0;
        Point p = curve_at (curve, reversed ? 1 - u : u);

        cairo_line_to (cr, p.x, p.y);
      }
    cairo_stroke (cr);
  }

  label = token_label (current.event);
  if (pl_event_carries_message (current.event, current_protocol (&current)))
    {
      GdkRGBA paper;

      gdk_rgba_parse (&paper, "#fdf6e3");
      draw_envelope (cr, at.x, at.y, 44 * s, 30 * s, &paper, &color);
    }
  else
    {
      /* A tag saying the verb or status, with a point showing which way it travels. */
      g_autoptr(PangoLayout) layout = make_layout (self, label, 11, PANGO_WEIGHT_HEAVY, TRUE);
      Point ahead = curve_at (curve, reversed ? MAX (0, 1 - t - 0.02) : MIN (1, t + 0.02));
      Point behind = curve_at (curve, reversed ? MIN (1, 1 - t + 0.02) : MAX (0, t - 0.02));
      double dx = ahead.x - behind.x;
      double dy = ahead.y - behind.y;
      gboolean upright = fabs (dy) > fabs (dx);
      double half;
      int w;
      int h;

      pango_layout_get_pixel_size (layout, &w, &h);
      half = w / 2.0 + 10 * s;
      rounded_rect (cr, at.x - half, at.y - h / 2.0 - 4 * s, 2 * half, h + 8 * s, (h + 8 * s) / 2);
      set_source (cr, &color, 1);
      cairo_fill_preserve (cr);
      set_source (cr, bg, 1);
      cairo_set_line_width (cr, 2 * s);
      cairo_stroke (cr);
      /* The point, ahead of the tag: right or left along a level link, down or up along an upright one. */
      set_source (cr, &color, 1);
      if (upright)
        {
          double edge = h / 2.0 + 4 * s;
          double sign = dy > 0 ? 1 : -1;

          cairo_move_to (cr, at.x, at.y + sign * (edge + 9 * s));
          cairo_line_to (cr, at.x - 8 * s, at.y + sign * (edge - 1));
          cairo_line_to (cr, at.x + 8 * s, at.y + sign * (edge - 1));
        }
      else
        {
          double sign = dx >= 0 ? 1 : -1;

          cairo_move_to (cr, at.x + sign * (half + 9 * s), at.y);
          cairo_line_to (cr, at.x + sign * (half - 1), at.y - 7 * s);
          cairo_line_to (cr, at.x + sign * (half - 1), at.y + 7 * s);
        }
      cairo_close_path (cr);
      cairo_fill (cr);
      set_source (cr, &ink, 1);
      cairo_move_to (cr, at.x - w / 2.0, at.y - h / 2.0);
      pango_cairo_show_layout (cr, layout);
    }
}

/* GtkWidget ------------------------------------------------------------------------------- */

/*
 * What the moving layer may touch: the current link's curve with room for
 * the trail, the tag and its point. The TCP layer's segments may be on any
 * link: then everything.
 */
static void
moving_bounds (PlTopologyView  *self,
               graphene_rect_t *bounds)
{
  double s = scale_of (self);
  Current current;
  const Curve *curve;
  gboolean reversed;
  double x0 = G_MAXDOUBLE;
  double y0 = G_MAXDOUBLE;
  double x1 = -G_MAXDOUBLE;
  double y1 = -G_MAXDOUBLE;
  double margin = 70 * s;

  if (self->show_tcp && self->document != NULL && pl_document_get_n_segments (self->document) > 0)
    return;
  if (!get_current (self, &current) || (curve = current_curve (self, &current, &reversed)) == NULL)
    {
      *bounds = GRAPHENE_RECT_INIT (0, 0, 0, 0);
      return;
    }
  for (int i = 0; i <= 16; i++)
    {
      Point p = curve_at (curve, i / 16.0);

      x0 = MIN (x0, p.x);
      y0 = MIN (y0, p.y);
      x1 = MAX (x1, p.x);
      y1 = MAX (y1, p.y);
    }
  graphene_rect_intersection (&GRAPHENE_RECT_INIT (x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin),
                              bounds, bounds);
}

static void
pl_topology_view_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  PlTopologyView *self = PL_TOPOLOGY_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, width, height);
  gboolean dark = pl_palette_widget_is_dark (widget);
  GdkRGBA fg;
  GdkRGBA bg;
  cairo_t *cr;

  if (width <= 0 || height <= 0)
    return;
  pl_palette_widget_color (widget, &fg);
  gdk_rgba_parse (&bg, dark ? "#242424" : "#ffffff");
  gtk_snapshot_append_color (snapshot, &bg, &bounds);
  if (self->topology == NULL)
    return;

  ensure_layout (self);
  if (self->static_node == NULL)
    {
      GtkSnapshot *layer = gtk_snapshot_new ();

      cr = gtk_snapshot_append_cairo (layer, &bounds);
      draw_static (self, cr, &fg, &bg, dark);
      cairo_destroy (cr);
      self->static_node = gtk_snapshot_free_to_node (layer);
    }
  if (self->static_node != NULL)
    gtk_snapshot_append_node (snapshot, self->static_node);

  /* The moving layer is drawn every frame: only as large as the link the unit is on. */
  moving_bounds (self, &bounds);
  if (bounds.size.width > 0 && bounds.size.height > 0)
    {
      cr = gtk_snapshot_append_cairo (snapshot, &bounds);
      draw_moving (self, cr, &fg, &bg, dark);
      cairo_destroy (cr);
    }
}

static void
pl_topology_view_size_allocate (GtkWidget *widget,
                                int        width,
                                int        height,
                                int        baseline)
{
  PlTopologyView *self = PL_TOPOLOGY_VIEW (widget);

  if (width != self->layout_width || height != self->layout_height)
    invalidate_layout (self);
}

static void
pl_topology_view_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 360 : 240;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 720 : 460;
}

static void
pl_topology_view_css_changed (GtkWidget         *widget,
                              GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (pl_topology_view_parent_class)->css_changed (widget, change);
  /* Light or dark, a font change: the picture is drawn again. */
  invalidate_layout (PL_TOPOLOGY_VIEW (widget));
}

static gboolean
pl_topology_view_query_tooltip (GtkWidget  *widget,
                                int         x,
                                int         y,
                                gboolean    keyboard,
                                GtkTooltip *tooltip)
{
  PlTopologyView *self = PL_TOPOLOGY_VIEW (widget);
  graphene_point_t point = GRAPHENE_POINT_INIT (x, y);

  if (self->topology == NULL || keyboard)
    return FALSE;
  ensure_layout (self);
  for (guint i = 0; i < self->boxes->len; i++)
    if (graphene_rect_contains_point (&g_array_index (self->boxes, graphene_rect_t, i), &point))
      {
        const PlTopologyHost *host = pl_topology_get_host (self->topology, i);
        g_autofree char *text = NULL;

        /* Translators: a host's tooltip: name, role, address, how many sessions it took part in. */
        text = g_strdup_printf (ngettext ("%s — %s\n%s, %u session", "%s — %s\n%s, %u sessions",
                                          host->n_sessions),
                                host->name, host->subtitle, host->address != NULL ? host->address : "",
                                host->n_sessions);
        gtk_tooltip_set_text (tooltip, text);
        return TRUE;
      }
  return FALSE;
}

/* For screen readers: what the picture shows at this step, in words. */
static void
update_description (PlTopologyView *self)
{
  Current current;
  g_autofree char *text = NULL;

  if (!get_current (self, &current))
    text = g_strdup (_("The mail path at the start: nothing sent yet"));
  else if (current.placed && current.event->kind != PL_EVENT_NOTE)
    {
      const PlTopologyHost *client = pl_topology_get_host (self->topology, current.client);
      const PlTopologyHost *server = pl_topology_get_host (self->topology, current.server);
      gboolean from_client = current.event->dir == PL_DIR_CLIENT;
      g_autofree char *caption = caption_for (current.event);

      /* Translators: "bob-pc sends to mail.b.example (POP3): C: RETR 1". */
      text = g_strdup_printf (_("%s sends to %s (%s): %s"),
                              from_client ? client->name : server->name,
                              from_client ? server->name : client->name,
                              pl_palette_protocol_name (current_protocol (&current)), caption);
    }
  else
    text = caption_for (current.event);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

static void
on_position (PlCursor   *cursor,
             GParamSpec *pspec,
             gpointer    user_data)
{
  PlTopologyView *self = user_data;

  invalidate_static (self);
  update_description (self);
}

static void
on_progress (PlCursor   *cursor,
             GParamSpec *pspec,
             gpointer    user_data)
{
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
on_topology_changed (PlTopology *topology,
                     gpointer    user_data)
{
  invalidate_layout (user_data);
}

static void
pl_topology_view_dispose (GObject *object)
{
  PlTopologyView *self = PL_TOPOLOGY_VIEW (object);

  pl_topology_view_set_cursor (self, NULL);
  pl_topology_view_set_document (self, NULL);
  g_clear_pointer (&self->static_node, gsk_render_node_unref);

  G_OBJECT_CLASS (pl_topology_view_parent_class)->dispose (object);
}

static void
pl_topology_view_finalize (GObject *object)
{
  PlTopologyView *self = PL_TOPOLOGY_VIEW (object);

  g_array_unref (self->boxes);
  g_array_unref (self->headers);
  g_array_unref (self->links);
  g_array_unref (self->mailboxes);

  G_OBJECT_CLASS (pl_topology_view_parent_class)->finalize (object);
}

static void
pl_topology_view_class_init (PlTopologyViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_topology_view_dispose;
  object_class->finalize = pl_topology_view_finalize;

  widget_class->snapshot = pl_topology_view_snapshot;
  widget_class->size_allocate = pl_topology_view_size_allocate;
  widget_class->measure = pl_topology_view_measure;
  widget_class->css_changed = pl_topology_view_css_changed;
  widget_class->query_tooltip = pl_topology_view_query_tooltip;

  gtk_widget_class_set_css_name (widget_class, "pltopologyview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pl_topology_view_init (PlTopologyView *self)
{
  self->boxes = g_array_new (FALSE, TRUE, sizeof (graphene_rect_t));
  self->headers = g_array_new (FALSE, TRUE, sizeof (double));
  self->links = g_array_new (FALSE, TRUE, sizeof (LinkGeometry));
  self->mailboxes = g_array_new (FALSE, TRUE, sizeof (MailboxGeometry));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The mail path"), -1);
  update_description (self);
}

GtkWidget *
pl_topology_view_new (void)
{
  return g_object_new (PL_TYPE_TOPOLOGY_VIEW, NULL);
}

void
pl_topology_view_set_cursor (PlTopologyView *self,
                             PlCursor       *cursor)
{
  g_return_if_fail (PL_IS_TOPOLOGY_VIEW (self));
  g_return_if_fail (cursor == NULL || PL_IS_CURSOR (cursor));

  if (!pl_cursor_replace (&self->cursor, cursor, self))
    return;
  if (cursor != NULL)
    {
      g_signal_connect (cursor, "notify::position", G_CALLBACK (on_position), self);
      g_signal_connect (cursor, "notify::progress", G_CALLBACK (on_progress), self);
    }
  invalidate_static (self);
}

void
pl_topology_view_set_document (PlTopologyView *self,
                               PlDocument     *document)
{
  g_return_if_fail (PL_IS_TOPOLOGY_VIEW (self));
  g_return_if_fail (document == NULL || PL_IS_DOCUMENT (document));

  if (self->topology != NULL)
    g_clear_signal_handler (&self->topology_changed, self->topology);
  g_clear_object (&self->topology);
  g_set_object (&self->document, document);
  if (document != NULL)
    {
      self->topology = g_object_ref (pl_document_get_topology (document));
      self->topology_changed = g_signal_connect (self->topology, "changed",
                                                 G_CALLBACK (on_topology_changed), self);
    }
  invalidate_layout (self);
  update_description (self);
}

gboolean
pl_topology_view_get_show_tcp (PlTopologyView *self)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY_VIEW (self), FALSE);

  return self->show_tcp;
}

void
pl_topology_view_set_show_tcp (PlTopologyView *self,
                               gboolean        show)
{
  g_return_if_fail (PL_IS_TOPOLOGY_VIEW (self));

  self->show_tcp = !!show;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pl_topology_view_set_presenting (PlTopologyView *self,
                                 gboolean        presenting)
{
  g_return_if_fail (PL_IS_TOPOLOGY_VIEW (self));

  self->presenting = !!presenting;
  invalidate_layout (self);
}

gboolean
pl_topology_view_get_token (PlTopologyView  *self,
                            double          *x,
                            double          *y,
                            char           **caption)
{
  Current current;
  Point at;

  g_return_val_if_fail (PL_IS_TOPOLOGY_VIEW (self), FALSE);

  ensure_layout (self);
  if (!get_current (self, &current) || !token_position (self, &current, &at, NULL, NULL, NULL))
    return FALSE;
  if (x != NULL)
    *x = at.x;
  if (y != NULL)
    *y = at.y;
  if (caption != NULL)
    *caption = caption_for (current.event);
  return TRUE;
}

gboolean
pl_topology_view_get_host_box (PlTopologyView  *self,
                               guint            index,
                               graphene_rect_t *box)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY_VIEW (self), FALSE);

  ensure_layout (self);
  if (index >= self->boxes->len)
    return FALSE;
  if (box != NULL)
    *box = g_array_index (self->boxes, graphene_rect_t, index);
  return TRUE;
}
