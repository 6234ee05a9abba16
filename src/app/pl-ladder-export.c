/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sequence (ladder) diagram's geometry, and the diagram written as SVG. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-ladder-export.h"
#include "pl-palette.h"
#include "pl-transcript-row.h"

GArray *
pl_ladder_lifelines (PlTopology *topology)
{
  static const PlTopologyColumn order[] = {
    PL_TOPOLOGY_COLUMN_SENDERS, PL_TOPOLOGY_COLUMN_SENDING,
    PL_TOPOLOGY_COLUMN_RECEIVING, PL_TOPOLOGY_COLUMN_READERS,
  };
  GArray *lifelines = g_array_new (FALSE, FALSE, sizeof (guint));
  guint n;

  g_return_val_if_fail (PL_IS_TOPOLOGY (topology), lifelines);

  n = pl_topology_get_n_hosts (topology);
  for (guint c = 0; c < G_N_ELEMENTS (order); c++)
    for (guint r = 0; r < n; r++)
      for (guint i = 0; i < n; i++)
        {
          const PlTopologyHost *host = pl_topology_get_host (topology, i);

          if (host->column == order[c] && host->row == r)
            g_array_append_val (lifelines, i);
        }
  return lifelines;
}

static double
lifeline_x (guint  slot,
            guint  n,
            double width)
{
  double span = width - PL_LADDER_GUTTER_WIDTH - 10;

  return PL_LADDER_GUTTER_WIDTH + span * (slot + 0.5) / MAX (1, n);
}

static guint
slot_of (GArray *lifelines,
         guint   host)
{
  for (guint i = 0; i < lifelines->len; i++)
    if (g_array_index (lifelines, guint, i) == host)
      return i;
  return 0;
}

static void
append_text (GString    *out,
             double      x,
             double      y,
             const char *anchor,
             const char *attributes,
             const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  g_string_append_printf (out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" %s>%s</text>\n",
                          x, y, anchor, attributes, escaped);
}

void
pl_ladder_append_svg (PlDocument *document,
                      guint       first,
                      guint       last,
                      guint       current,
                      double      width,
                      GString    *out)
{
  static const PlProtocol protocols[] = {
    PL_PROTOCOL_UNKNOWN, PL_PROTOCOL_SMTP, PL_PROTOCOL_POP3, PL_PROTOCOL_IMAP, PL_PROTOCOL_HTTP,
  };
  PlTrace *trace;
  PlTopology *topology;
  g_autoptr(GArray) lifelines = NULL;
  double height;
  double time_origin;

  g_return_if_fail (PL_IS_DOCUMENT (document));
  g_return_if_fail (out != NULL);

  trace = pl_document_get_trace (document);
  topology = pl_document_get_topology (document);
  lifelines = pl_ladder_lifelines (topology);
  last = MIN (last, pl_trace_get_n_events (trace));
  first = MIN (first, last);
  height = PL_LADDER_HEADER_HEIGHT + (last - first) * PL_LADDER_ROW_HEIGHT + 16;
  time_origin = pl_document_get_time_origin (document);

  g_string_append_printf (out,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                          "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
                          "font-size=\"12\">\n",
                          width, height, width, height);
  {
    g_autofree char *title = g_markup_escape_text (pl_document_get_title (document), -1);

    g_string_append_printf (out, "<title>%s</title>\n", title);
  }
  g_string_append (out, "<defs>\n");
  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    g_string_append_printf (out,
                            "<marker id=\"arrow-%s\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" "
                            "orient=\"auto\" markerUnits=\"userSpaceOnUse\"><path d=\"M0,0 L10,4 L0,8 z\" "
                            "fill=\"%s\"/></marker>\n",
                            pl_palette_protocol_css (protocols[i]), pl_palette_protocol_hex (protocols[i]));
  g_string_append (out, "</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");

  /* Lifelines and their hosts. */
  for (guint i = 0; i < lifelines->len; i++)
    {
      const PlTopologyHost *host = pl_topology_get_host (topology, g_array_index (lifelines, guint, i));
      double x = lifeline_x (i, lifelines->len, width);

      append_text (out, x, 20, "middle", "font-weight=\"bold\" font-size=\"13\" fill=\"#241f31\"", host->name);
      append_text (out, x, 37, "middle", "font-size=\"11\" fill=\"#5e5c64\"", host->subtitle);
      g_string_append_printf (out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#9a9996\" "
                              "stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n",
                              x, PL_LADDER_HEADER_HEIGHT - 6, x, height - 8);
    }

  for (guint position = first; position < last; position++)
    {
      PlEvent *event = pl_trace_get_event (trace, position);
      PlSession *session = pl_trace_get_session (trace, event->session);
      PlProtocol protocol = session != NULL ? session->protocol : PL_PROTOCOL_UNKNOWN;
      const char *color = pl_palette_protocol_hex (protocol);
      double y = PL_LADDER_HEADER_HEIGHT + (position - first + 0.5) * PL_LADDER_ROW_HEIGHT + 6;
      g_autofree char *summary = pl_transcript_row_summarize (event, 60);
      g_autofree char *step = g_strdup_printf ("%u", position + 1);
      g_autofree char *tooltip = g_strdup_printf ("%.3f s", event->time - time_origin);
      guint client;
      guint server;

      if (position == current)
        g_string_append_printf (out, "<rect x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%d\" fill=\"#f6d32d\" "
                                "fill-opacity=\"0.35\"/>\n",
                                y - PL_LADDER_ROW_HEIGHT / 2.0 - 6, width, PL_LADDER_ROW_HEIGHT);
      append_text (out, PL_LADDER_GUTTER_WIDTH - 8, y, "end", "font-size=\"11\" fill=\"#5e5c64\"", step);
      if (!pl_topology_get_session_hosts (topology, event->session, &client, &server, NULL))
        continue;

      if (event->kind == PL_EVENT_NOTE)
        {
          double x = lifeline_x (slot_of (lifelines, client), lifelines->len, width);

          g_string_append_printf (out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#5e5c64\"/>\n", x, y - 4);
          append_text (out, x + 8, y, "start", "font-style=\"italic\" font-size=\"11\" fill=\"#5e5c64\"", summary);
        }
      else
        {
          double from = lifeline_x (slot_of (lifelines, event->dir == PL_DIR_SERVER ? server : client),
                                    lifelines->len, width);
          double to = lifeline_x (slot_of (lifelines, event->dir == PL_DIR_SERVER ? client : server),
                                  lifelines->len, width);
          g_autofree char *label = g_strdup_printf ("%s %s", event->dir == PL_DIR_CLIENT ? "C:" : "S:", summary);
          g_autofree char *attributes = g_strdup_printf ("font-family=\"DejaVu Sans Mono, monospace\" "
                                                         "font-size=\"11\" fill=\"%s\"%s",
                                                         color, event->dir == PL_DIR_CLIENT
                                                                ? " font-weight=\"bold\"" : "");

          g_string_append_printf (out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                                  "stroke-width=\"%s\" marker-end=\"url(#arrow-%s)\"><title>%s</title></line>\n",
                                  from, y, to + (to > from ? -2 : 2), y, color,
                                  position == current ? "3.5" : "2",
                                  pl_palette_protocol_css (protocol), tooltip);
          append_text (out, (from + to) / 2, y - 5, "middle", attributes, label);
        }
    }
  g_string_append (out, "</svg>\n");
}

gboolean
pl_ladder_save_svg (PlDocument  *document,
                    guint        current,
                    GFile       *file,
                    GError     **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GArray) lifelines = NULL;
  guint n;
  guint first = 0;
  guint last;
  double width;

  g_return_val_if_fail (PL_IS_DOCUMENT (document), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  n = pl_trace_get_n_events (pl_document_get_trace (document));
  last = n;
  if (n > PL_LADDER_SVG_MAX_ROWS)
    {
      /* The rows around the current step. */
      guint middle = current < n ? current : 0;

      first = middle > PL_LADDER_SVG_MAX_ROWS / 2 ? middle - PL_LADDER_SVG_MAX_ROWS / 2 : 0;
      last = MIN (n, first + PL_LADDER_SVG_MAX_ROWS);
    }
  lifelines = pl_ladder_lifelines (pl_document_get_topology (document));
  /* Room for an arrow's text between each two lifelines. */
  width = PL_LADDER_GUTTER_WIDTH + 10 + MAX (2u, lifelines->len) * 260.0;
  pl_ladder_append_svg (document, first, last, current, width, out);
  return g_file_replace_contents (file, out->str, out->len, NULL, FALSE,
                                  G_FILE_CREATE_REPLACE_DESTINATION, NULL, NULL, error);
}
