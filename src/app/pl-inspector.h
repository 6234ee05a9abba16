/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlInspector: the current step explained: what it means and its RFC, its exact octets, and the message it carries. */
#pragma once

#include <gtk/gtk.h>

#include "pl-cursor.h"
#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_INSPECTOR (pl_inspector_get_type ())
G_DECLARE_FINAL_TYPE (PlInspector, pl_inspector, PL, INSPECTOR, GtkWidget)

void  pl_inspector_set_cursor   (PlInspector *self,
                                 PlCursor    *cursor);
void  pl_inspector_set_document (PlInspector *self,
                                 PlDocument  *document);

/* A hex dump of @data, 16 octets a line with their offset and their printable characters. */
char *pl_inspector_format_hex   (const guint8 *data,
                                 gsize         len,
                                 gsize         max);
/* @data as Pango markup: the text with its line ends and other control octets written as \r \n \t \xNN. */
char *pl_inspector_format_text  (const guint8 *data,
                                 gsize         len,
                                 gsize         max);

G_END_DECLS
