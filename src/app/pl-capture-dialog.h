/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlCaptureDialog: asks which interface to capture on, and with which filter. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PL_TYPE_CAPTURE_DIALOG (pl_capture_dialog_get_type ())
G_DECLARE_FINAL_TYPE (PlCaptureDialog, pl_capture_dialog, PL, CAPTURE_DIALOG, GtkWindow)

/*
 * A modal dialog over @parent listing the interfaces libpcap can capture
 * on (loopback first: that is where `postlab-cli serve` runs) and a BPF
 * filter. Emits "start" (interface, filter) when the user starts, and is
 * destroyed; closing it starts nothing.
 */
PlCaptureDialog *pl_capture_dialog_new (GtkWindow *parent);

/* The filter offered first: the mail protocols' ports, and those of `postlab-cli serve`. */
#define PL_CAPTURE_DEFAULT_FILTER \
  "tcp port 25 or tcp port 587 or tcp port 110 or tcp port 143 or tcp port 80 " \
  "or tcp portrange 2525-2526 or tcp portrange 1110-1111"

G_END_DECLS
