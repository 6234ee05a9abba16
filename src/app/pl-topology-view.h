/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTopologyView: the hosts, their links, and the current command or reply travelling along its link. */
#pragma once

#include <gtk/gtk.h>

#include "pl-cursor.h"
#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_TOPOLOGY_VIEW (pl_topology_view_get_type ())
G_DECLARE_FINAL_TYPE (PlTopologyView, pl_topology_view, PL, TOPOLOGY_VIEW, GtkWidget)

/*
 * Draws the document's topology as the textbook does (senders left,
 * readers right), SMTP push and POP3/IMAP/HTTP pull in different colours
 * and arrow directions with a legend, each server's mailboxes as they
 * are at the cursor's step, and the current unit on its way (an envelope
 * for a message, a tag for a command or reply) with its text as a
 * caption. It draws what the cursor says and moves nothing by itself.
 */
GtkWidget *pl_topology_view_new          (void);
void       pl_topology_view_set_cursor   (PlTopologyView *self,
                                          PlCursor       *cursor);
void       pl_topology_view_set_document (PlTopologyView *self,
                                          PlDocument     *document);
gboolean   pl_topology_view_get_show_tcp (PlTopologyView *self);
/* Also shows the simulated TCP segments (handshake, data, ACKs, FIN) as they cross the links. */
void       pl_topology_view_set_show_tcp (PlTopologyView *self,
                                          gboolean        show);
/* Large text and thick lines, for a projector. */
void       pl_topology_view_set_presenting (PlTopologyView *self,
                                            gboolean        presenting);

/*
 * Where the current unit is drawn now (its centre, in widget coordinates),
 * and the text of its caption: FALSE when nothing travels (the start, a
 * note). For tests and accessibility.
 */
gboolean   pl_topology_view_get_token    (PlTopologyView *self,
                                          double         *x,
                                          double         *y,
                                          char          **caption);
/* Where host @index is drawn (its box), FALSE when it is not. */
gboolean   pl_topology_view_get_host_box (PlTopologyView *self,
                                          guint           index,
                                          graphene_rect_t *box);

G_END_DECLS
