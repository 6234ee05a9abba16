/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlLiveCapture: packets read from an interface in a thread, traced on the main thread into a growing document. */
#pragma once

#include <gio/gio.h>

#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_LIVE_CAPTURE (pl_live_capture_get_type ())
G_DECLARE_FINAL_TYPE (PlLiveCapture, pl_live_capture, PL, LIVE_CAPTURE, GObject)

/*
 * Opens @interface ("lo", "any", ...) with the BPF @filter (NULL or "" for
 * everything). Fails as pl_pcap_source_open_live() does: without the right
 * to capture with PL_TRACE_ERROR_PERMISSION, which the window explains.
 * Nothing is read until pl_live_capture_start().
 */
PlLiveCapture *pl_live_capture_new          (const char     *interface,
                                             const char     *filter,
                                             GError        **error);
/* The growing document: a trace that retains its events, hosts laid out as sessions appear. */
PlDocument    *pl_live_capture_get_document (PlLiveCapture  *self);
const char    *pl_live_capture_get_interface (PlLiveCapture *self);
/*
 * Starts reading in a thread. Packets are handed to the main context in
 * batches (a few times a second, a bounded number each time, so that a busy
 * link cannot freeze the window) and traced there, so the trace grows on
 * the main thread as GTK wants. "n-packets" tells how many came so far.
 */
void           pl_live_capture_start        (PlLiveCapture  *self);
/* Stops reading, traces what came, finishes open sessions. Called by dispose too. */
void           pl_live_capture_stop         (PlLiveCapture  *self);
gboolean       pl_live_capture_get_running  (PlLiveCapture  *self);
guint64        pl_live_capture_get_n_packets (PlLiveCapture *self);

G_END_DECLS
