/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The colours and words every view uses for protocols, so push and pull look the same everywhere. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-palette.h"

typedef struct {
  const char *light;
  const char *dark;
  const char *css;
  const char *name;
} ProtocolStyle;

/* GNOME's palette: blue 5, green 5 darkened, purple 4, orange 5; their light shades for dark backgrounds. */
static const ProtocolStyle styles[] = {
  [PL_PROTOCOL_UNKNOWN] = { "#5e5c64", "#c0bfbc", "pl-proto-unknown", "TCP" },
  [PL_PROTOCOL_SMTP]    = { "#1a5fb4", "#78aeed", "pl-proto-smtp",    "SMTP" },
  [PL_PROTOCOL_POP3]    = { "#1e7a3c", "#57e389", "pl-proto-pop3",    "POP3" },
  [PL_PROTOCOL_IMAP]    = { "#813d9c", "#dc8add", "pl-proto-imap",    "IMAP" },
  [PL_PROTOCOL_HTTP]    = { "#a33b00", "#ffa348", "pl-proto-http",    "HTTP" },
};

static const ProtocolStyle *
style_of (PlProtocol protocol)
{
  if ((guint) protocol >= G_N_ELEMENTS (styles))
    protocol = PL_PROTOCOL_UNKNOWN;
  return &styles[protocol];
}

void
pl_palette_protocol_color (PlProtocol  protocol,
                           gboolean    dark,
                           GdkRGBA    *color)
{
  const ProtocolStyle *style = style_of (protocol);

  gdk_rgba_parse (color, dark ? style->dark : style->light);
}

const char *
pl_palette_protocol_hex (PlProtocol protocol)
{
  return style_of (protocol)->light;
}

const char *
pl_palette_protocol_css (PlProtocol protocol)
{
  return style_of (protocol)->css;
}

gboolean
pl_palette_protocol_pushes (PlProtocol protocol)
{
  return protocol == PL_PROTOCOL_SMTP;
}

const char *
pl_palette_protocol_name (PlProtocol protocol)
{
  return style_of (protocol)->name;
}

const char *
pl_palette_hop_name (PlHop hop)
{
  switch (hop)
    {
    case PL_HOP_SUBMISSION:
      return C_("hop", "submission");
    case PL_HOP_RELAY:
      return C_("hop", "relay");
    case PL_HOP_ACCESS:
      return C_("hop", "access");
    case PL_HOP_UNKNOWN:
    default:
      return NULL;
    }
}

void
pl_palette_widget_color (GtkWidget *widget,
                         GdkRGBA   *color)
{
  /* gtk_widget_get_color() is GTK 4.10; this is its 4.8 spelling. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), color);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

gboolean
pl_palette_widget_is_dark (GtkWidget *widget)
{
  GdkRGBA fg;

  /* Light text means a dark background, whatever made it so (theme, style, high contrast). */
  pl_palette_widget_color (widget, &fg);
  return 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue > 0.5;
}
