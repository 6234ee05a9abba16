/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Rendering widgets and windows to PNG files without grabbing the screen. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/*
 * Renders @widget as it is laid out and drawn right now (it must be
 * realized, i.e. inside a shown window) with its window's own GskRenderer,
 * and writes the result to @file as PNG. Returns FALSE with @error set when
 * nothing could be rendered or the file could not be written; @file is then
 * left as it was.
 */
gboolean pl_screenshot_save_widget    (GtkWidget            *widget,
                                       GFile                *file,
                                       GError              **error);

/*
 * Waits until @window is mapped and has drawn a frame, then saves it to
 * @file as pl_screenshot_save_widget() does. The caller presents the window.
 * Fails with G_IO_ERROR_TIMED_OUT when no frame is drawn within
 * @timeout_seconds, G_IO_ERROR_CANCELLED when cancelled.
 */
void     pl_screenshot_window_async   (GtkWindow            *window,
                                       GFile                *file,
                                       guint                 timeout_seconds,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
gboolean pl_screenshot_window_finish  (GtkWindow            *window,
                                       GAsyncResult         *result,
                                       GError              **error);

G_END_DECLS
