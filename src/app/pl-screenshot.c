/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Rendering widgets and windows to PNG files without grabbing the screen. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-screenshot.h"

/*
 * We never read pixels back from the display server: the widget is
 * snapshotted into a render node and rendered offscreen by the window's own
 * GskRenderer. That gives the exact pixels GTK would draw, works under Xvfb
 * (Mesa's GL, or the Cairo fallback) and is unaffected by windows on top.
 */
gboolean
pl_screenshot_save_widget (GtkWidget  *widget,
                           GFile      *file,
                           GError    **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) png = NULL;
  GtkSnapshot *snapshot;
  GtkNative *native;
  GskRenderer *renderer;
  int width;
  int height;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  native = gtk_widget_get_native (widget);
  renderer = native != NULL ? gtk_native_get_renderer (native) : NULL;
  if (renderer == NULL || !gtk_widget_get_realized (widget))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("The window is not shown yet, so it cannot be rendered"));
      return FALSE;
    }

  paintable = gtk_widget_paintable_new (widget);
  width = gdk_paintable_get_intrinsic_width (paintable);
  height = gdk_paintable_get_intrinsic_height (paintable);
  if (width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The window has no size to render (%d × %d)"), width, height);
      return FALSE;
    }

  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           _("The window drew nothing"));
      return FALSE;
    }

  /* The viewport is the widget's own box: CSD shadows drawn outside it
   * belong to the desktop, not to the picture. */
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (texture == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           _("The renderer could not draw the window"));
      return FALSE;
    }

  png = gdk_texture_save_to_png_bytes (texture);

  /* Replace through a temporary file, so a failed run never leaves a
   * half-written PNG for a test or a README build to pick up. */
  return g_file_replace_contents (file,
                                  g_bytes_get_data (png, NULL),
                                  g_bytes_get_size (png),
                                  NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                  NULL, NULL, error);
}

typedef struct {
  GFile         *file;
  GdkFrameClock *frame_clock;
  gulong         map_handler;
  gulong         unrealize_handler;
  gulong         after_paint_handler;
  gulong         cancelled_handler;
  guint          timeout_source;
  guint          idle_source;
} ScreenshotData;

static void
screenshot_data_free (ScreenshotData *data)
{
  /* Every handler and source is gone by now (screenshot_complete). */
  g_clear_object (&data->file);
  g_free (data);
}

/* Detaches everything the wait installed, then returns exactly once. */
static void
screenshot_complete (GTask  *task,
                     GError *error)
{
  ScreenshotData *data = g_task_get_task_data (task);
  GtkWindow *window = g_task_get_source_object (task);

  g_clear_signal_handler (&data->map_handler, window);
  g_clear_signal_handler (&data->unrealize_handler, window);
  if (data->frame_clock != NULL)
    g_clear_signal_handler (&data->after_paint_handler, data->frame_clock);
  g_clear_object (&data->frame_clock);
  g_clear_handle_id (&data->timeout_source, g_source_remove);
  g_clear_handle_id (&data->idle_source, g_source_remove);
  if (data->cancelled_handler != 0)
    {
      /* We are never inside the cancelled callback here (it defers to an
       * idle), so disconnecting cannot deadlock. */
      g_cancellable_disconnect (g_task_get_cancellable (task), data->cancelled_handler);
      data->cancelled_handler = 0;
    }

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);

  /* Drop the reference held by the pending wait. */
  g_object_unref (task);
}

static gboolean
screenshot_on_idle (gpointer user_data)
{
  GTask *task = user_data;
  ScreenshotData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->idle_source = 0;
  if (pl_screenshot_save_widget (g_task_get_source_object (task), data->file, &error))
    screenshot_complete (task, NULL);
  else
    screenshot_complete (task, error);

  return G_SOURCE_REMOVE;
}

static void
screenshot_on_after_paint (GdkFrameClock *frame_clock,
                           gpointer       user_data)
{
  GTask *task = user_data;
  ScreenshotData *data = g_task_get_task_data (task);

  /* The first frame is on screen: layout is done, fonts and icons are
   * loaded. Render from an idle rather than from inside the paint cycle. */
  g_clear_signal_handler (&data->after_paint_handler, frame_clock);
  if (data->idle_source == 0)
    data->idle_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE,
                                         screenshot_on_idle, task, NULL);
}

static void
screenshot_wait_for_frame (GTask *task)
{
  ScreenshotData *data = g_task_get_task_data (task);
  GtkWidget *window = g_task_get_source_object (task);

  if (data->frame_clock != NULL)
    return;

  data->frame_clock = g_object_ref (gtk_widget_get_frame_clock (window));
  data->after_paint_handler = g_signal_connect (data->frame_clock, "after-paint",
                                                G_CALLBACK (screenshot_on_after_paint), task);
  /* Make sure a frame is coming even if the window has nothing new to draw. */
  gtk_widget_queue_draw (window);
}

static void
screenshot_on_map (GtkWidget *window,
                   gpointer   user_data)
{
  screenshot_wait_for_frame (user_data);
}

static void
screenshot_on_unrealize (GtkWidget *window,
                         gpointer   user_data)
{
  screenshot_complete (user_data,
                       g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                            _("The window was closed before it was drawn")));
}

static gboolean
screenshot_on_timeout (gpointer user_data)
{
  GTask *task = user_data;
  ScreenshotData *data = g_task_get_task_data (task);

  data->timeout_source = 0;
  screenshot_complete (task,
                       g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                            _("The window was never drawn")));
  return G_SOURCE_REMOVE;
}

static gboolean
screenshot_on_cancelled_idle (gpointer user_data)
{
  GTask *task = user_data;
  ScreenshotData *data = g_task_get_task_data (task);

  data->idle_source = 0;
  screenshot_complete (task,
                       g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            _("The screenshot was cancelled")));
  return G_SOURCE_REMOVE;
}

static void
screenshot_on_cancelled (GCancellable *cancellable,
                         gpointer      user_data)
{
  GTask *task = user_data;
  ScreenshotData *data = g_task_get_task_data (task);

  /* This may run inside g_cancellable_cancel() from any place, and
   * g_cancellable_disconnect() must not be called from here: finish from
   * the main loop instead, replacing a pending render if there is one. */
  g_clear_handle_id (&data->idle_source, g_source_remove);
  data->idle_source = g_idle_add (screenshot_on_cancelled_idle, task);
}

void
pl_screenshot_window_async (GtkWindow           *window,
                            GFile               *file,
                            guint                timeout_seconds,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  ScreenshotData *data;

  g_return_if_fail (GTK_IS_WINDOW (window));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (timeout_seconds > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* The reference of `task` is owned by the wait until screenshot_complete(). */
  task = g_task_new (window, cancellable, callback, user_data);
  g_task_set_source_tag (task, pl_screenshot_window_async);

  data = g_new0 (ScreenshotData, 1);
  data->file = g_object_ref (file);
  g_task_set_task_data (task, data, (GDestroyNotify) screenshot_data_free);

  data->timeout_source = g_timeout_add_seconds (timeout_seconds, screenshot_on_timeout, task);
  data->unrealize_handler = g_signal_connect (window, "unrealize",
                                              G_CALLBACK (screenshot_on_unrealize), task);
  if (gtk_widget_get_mapped (GTK_WIDGET (window)))
    screenshot_wait_for_frame (task);
  else
    data->map_handler = g_signal_connect (window, "map",
                                          G_CALLBACK (screenshot_on_map), task);

  if (cancellable != NULL)
    data->cancelled_handler = g_cancellable_connect (cancellable,
                                                     G_CALLBACK (screenshot_on_cancelled),
                                                     task, NULL);
}

gboolean
pl_screenshot_window_finish (GtkWindow     *window,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (GTK_IS_WINDOW (window), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, window), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pl_screenshot_window_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
