/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sequence (ladder) diagram's geometry, and the diagram written as SVG. */
#pragma once

#include <gio/gio.h>

#include "pl-document.h"

G_BEGIN_DECLS

/* Sizes of the diagram at scale 1, in pixels (SVG user units). */
#define PL_LADDER_HEADER_HEIGHT 52
#define PL_LADDER_ROW_HEIGHT    28
#define PL_LADDER_GUTTER_WIDTH  46

/* The most rows an SVG file gets: a million arrows is no picture anyone opens. */
#define PL_LADDER_SVG_MAX_ROWS  20000

/*
 * The hosts of @topology in the order the mail path goes (senders,
 * sending servers, receiving servers, readers): a GArray of guint host
 * indices, one lifeline each.
 */
GArray   *pl_ladder_lifelines        (PlTopology  *topology);

/*
 * Writes the diagram of the events [@first, @last) of @document as an SVG
 * document @width pixels wide: a lifeline per host, an arrow per command
 * or reply from sender to receiver with its text, coloured by protocol,
 * notes beside their host, and @current (an event index, or G_MAXUINT)
 * marked.
 */
void      pl_ladder_append_svg       (PlDocument  *document,
                                      guint        first,
                                      guint        last,
                                      guint        current,
                                      double       width,
                                      GString     *out);
/* The whole diagram (up to PL_LADDER_SVG_MAX_ROWS rows around @current) to @file. */
gboolean  pl_ladder_save_svg         (PlDocument  *document,
                                      guint        current,
                                      GFile       *file,
                                      GError     **error);

G_END_DECLS
