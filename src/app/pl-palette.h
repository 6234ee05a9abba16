/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The colours and words every view uses for protocols, so push and pull look the same everywhere. */
#pragma once

#include <gtk/gtk.h>

#include "pl-types.h"

G_BEGIN_DECLS

/*
 * SMTP pushes (blue); POP3, IMAP and HTTP pull (green, purple, orange).
 * @dark picks the shade for a dark background. White text on the light
 * shades, and black text on the dark ones, keeps a contrast above 4.5:1.
 */
void         pl_palette_protocol_color   (PlProtocol  protocol,
                                          gboolean    dark,
                                          GdkRGBA    *color);
/* "#1a5fb4": the light shade, for SVG. */
const char  *pl_palette_protocol_hex     (PlProtocol  protocol);
/* "pl-proto-smtp", for style classes. */
const char  *pl_palette_protocol_css     (PlProtocol  protocol);
/* TRUE for SMTP, the protocol that pushes; the others pull. */
gboolean     pl_palette_protocol_pushes  (PlProtocol  protocol);
/* "SMTP", "POP3", ... */
const char  *pl_palette_protocol_name    (PlProtocol  protocol);
/* The hop in words: "submission", "relay", "access" (translated), or NULL. */
const char  *pl_palette_hop_name         (PlHop       hop);

/* TRUE when @widget is drawn on a dark background (dark theme, dark style). */
gboolean     pl_palette_widget_is_dark   (GtkWidget  *widget);
/* The widget's foreground colour. */
void         pl_palette_widget_color     (GtkWidget  *widget,
                                          GdkRGBA    *color);

G_END_DECLS
