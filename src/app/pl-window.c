/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlWindow: the main window of `postlab`, built from pl-window.ui. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "pl-document-loader.h"
#include "pl-capture-dialog.h"
#include "pl-console.h"
#include "pl-inspector.h"
#include "pl-ladder-export.h"
#include "pl-ladder-view.h"
#include "pl-live-capture.h"
#include "pl-trace-error.h"
#include "pl-timeline.h"
#include "pl-topology-view.h"
#include "pl-transcript-view.h"
#include "pl-window.h"

struct _PlWindow
{
  GtkApplicationWindow  parent_instance;

  /* Template children. */
  GtkMenuButton        *primary_menu_button;
  GtkLabel             *title_label;
  GtkLabel             *subtitle_label;
  GtkRevealer          *loading_revealer;
  GtkLabel             *loading_label;
  GtkProgressBar       *loading_progress;
  GtkRevealer          *live_revealer;
  GtkLabel             *live_label;
  PlTopologyView       *topology_view;
  GtkNotebook          *bottom_notebook;
  PlInspector          *inspector;
  PlConsole            *console;
  PlTranscriptView     *transcript_view;
  PlLadderView         *ladder_view;
  GtkWidget            *ladder_scroller;
  GtkPaned             *top_paned;
  GtkPaned             *main_paned;
  GtkPaned             *right_paned;
  /* Where each divider sits, as a share of its pane: kept as the window is resized. */
  double                top_share;
  double                main_share;
  double                right_share;
  PlTimeline           *timeline;

  PlCursor             *cursor;
  PlDocument           *document;
  PlLiveCapture        *live;          /* while capturing, and after: its document stays shown */

  /* The load under way, cancelled by Cancel, by the next load and in dispose. */
  GCancellable         *load_cancellable;

  guint                 tick_id;
  gint64                last_frame_time;
  gboolean              animations;
  gboolean              interactive;
  gboolean              presenting;
  gboolean              show_tcp;
};

G_DEFINE_FINAL_TYPE (PlWindow, pl_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_LOADING,
  PROP_PLAYING,
  PROP_SHOW_TCP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_LOAD_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Animation ------------------------------------------------------------------ */

/* Driven by the frame clock: the cursor moves as frames are drawn, and not at all when nothing moves. */
static gboolean
pl_window_tick (GtkWidget     *widget,
                GdkFrameClock *frame_clock,
                gpointer       user_data)
{
  PlWindow *self = PL_WINDOW (widget);
  gint64 now = gdk_frame_clock_get_frame_time (frame_clock);
  double seconds = self->last_frame_time > 0 ? (now - self->last_frame_time) / (double) G_USEC_PER_SEC : 0;
  gboolean enable_animations = TRUE;

  self->last_frame_time = now;
  g_object_get (gtk_widget_get_settings (widget), "gtk-enable-animations", &enable_animations, NULL);

  /* A frame after a long pause (a dragged window) must not skip steps. */
  pl_cursor_advance (self->cursor, MIN (seconds, 0.25));
  /* Reduced motion: each step is shown arrived; playing still moves on step by step. */
  if (!enable_animations && pl_cursor_get_progress (self->cursor) < 1.0)
    pl_cursor_finish_step (self->cursor);

  if (!pl_cursor_get_animating (self->cursor))
    {
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
update_ticking (PlWindow *self)
{
  gboolean wanted = self->animations && pl_cursor_get_animating (self->cursor);

  if (wanted && self->tick_id == 0)
    {
      self->last_frame_time = 0;
      self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), pl_window_tick, NULL, NULL);
    }
  else if (!wanted && self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

static void
update_actions (PlWindow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  guint position = pl_cursor_get_position (self->cursor);
  guint n = pl_cursor_get_n_steps (self->cursor);
  gboolean loading = self->load_cancellable != NULL;

  gtk_widget_action_set_enabled (widget, "win.step-forward", position < n);
  gtk_widget_action_set_enabled (widget, "win.last", position < n);
  gtk_widget_action_set_enabled (widget, "win.step-back", position > 0);
  gtk_widget_action_set_enabled (widget, "win.first", position > 0);
  gtk_widget_action_set_enabled (widget, "win.play", n > 0);
  gtk_widget_action_set_enabled (widget, "win.cancel-loading", loading);
  gtk_widget_action_set_enabled (widget, "win.export-svg", n > 0);
  gtk_widget_action_set_enabled (widget, "win.export-png", n > 0);
}

static void
on_cursor_notify (PlCursor   *cursor,
                  GParamSpec *pspec,
                  PlWindow   *self)
{
  if (pspec->name == g_intern_static_string ("animating"))
    update_ticking (self);
  else if (pspec->name == g_intern_static_string ("playing"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
  else
    update_actions (self);
}

/* Documents ------------------------------------------------------------------ */

static void update_title (PlWindow *self);

static void
update_live_banner (PlWindow *self)
{
  g_autofree char *text = NULL;
  guint64 packets;
  guint sessions;

  if (self->live == NULL)
    return;
  packets = pl_live_capture_get_n_packets (self->live);
  sessions = pl_trace_get_n_sessions (pl_document_get_trace (pl_live_capture_get_document (self->live)));
  /* Translators: "Capturing on lo: 120 packets, 3 mail sessions". */
  text = g_strdup_printf (_("Capturing on %s: %" PRIu64 " packets, %u mail sessions"),
                          pl_live_capture_get_interface (self->live), (uint64_t) packets, sessions);
  gtk_label_set_text (self->live_label, text);
  update_title (self);
}

static void
stop_capture (PlWindow *self,
              gboolean  forget)
{
  if (self->live == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->live, self);
  pl_live_capture_stop (self->live);
  gtk_revealer_set_reveal_child (self->live_revealer, FALSE);
  if (forget)
    g_clear_object (&self->live);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop-capture", FALSE);
}

static void
update_title (PlWindow *self)
{
  const char *title = self->document != NULL ? pl_document_get_title (self->document) : _("Postlab");
  g_autofree char *subtitle = NULL;

  if (self->document != NULL)
    {
      guint n = pl_trace_get_n_events (pl_document_get_trace (self->document));
      guint sessions = pl_trace_get_n_sessions (pl_document_get_trace (self->document));
      g_autofree char *sessions_text = g_strdup_printf (ngettext ("%u session", "%u sessions", sessions), sessions);
      g_autofree char *steps_text = g_strdup_printf (ngettext ("%u step", "%u steps", n), n);
      const char *kind;

      switch (pl_document_get_kind (self->document))
        {
        case PL_DOCUMENT_CAPTURE:
          kind = _("Capture");
          break;
        case PL_DOCUMENT_LIVE:
          kind = _("Live capture");
          break;
        case PL_DOCUMENT_CONSOLE:
          kind = _("Try it yourself");
          break;
        case PL_DOCUMENT_SCENARIO:
        default:
          kind = _("Simulation");
          break;
        }
      /* "Simulation · 3 sessions · 96 steps". */
      subtitle = g_strdup_printf ("%s · %s · %s", kind, sessions_text, steps_text);
    }
  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->subtitle_label, subtitle != NULL ? subtitle : "");
  gtk_window_set_title (GTK_WINDOW (self), title);
}

void
pl_window_set_document (PlWindow   *self,
                        PlDocument *document)
{
  g_return_if_fail (PL_IS_WINDOW (self));
  g_return_if_fail (document == NULL || PL_IS_DOCUMENT (document));

  if (!g_set_object (&self->document, document))
    return;

  /* Another document: a capture under way stops (what it caught is dropped with its document). */
  if (self->live != NULL && pl_live_capture_get_document (self->live) != document)
    stop_capture (self, TRUE);

  pl_cursor_set_trace (self->cursor, document != NULL ? pl_document_get_trace (document) : NULL);
  pl_topology_view_set_document (self->topology_view, document);
  pl_inspector_set_document (self->inspector, document);
  pl_transcript_view_set_document (self->transcript_view, document);
  pl_ladder_view_set_document (self->ladder_view, document);
  pl_timeline_set_document (self->timeline, document);
  update_title (self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

PlDocument *
pl_window_get_document (PlWindow *self)
{
  g_return_val_if_fail (PL_IS_WINDOW (self), NULL);

  return self->document;
}

gboolean
pl_window_get_loading (PlWindow *self)
{
  g_return_val_if_fail (PL_IS_WINDOW (self), FALSE);

  return self->load_cancellable != NULL;
}

PlCursor *
pl_window_get_cursor (PlWindow *self)
{
  g_return_val_if_fail (PL_IS_WINDOW (self), NULL);

  return self->cursor;
}

static void
show_error (PlWindow   *self,
            const char *primary,
            const char *secondary)
{
  GtkWidget *dialog;

  /* GtkAlertDialog is GTK 4.10; GtkMessageDialog is the 4.8 way. */
  dialog = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", primary);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", secondary);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
set_loading (PlWindow   *self,
             const char *what)
{
  gboolean was_loading = self->load_cancellable != NULL;

  if (self->load_cancellable != NULL)
    {
      g_cancellable_cancel (self->load_cancellable);
      g_clear_object (&self->load_cancellable);
    }
  if (what != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Loading %s…"), what);

      self->load_cancellable = g_cancellable_new ();
      gtk_label_set_text (self->loading_label, text);
      gtk_progress_bar_set_fraction (self->loading_progress, 0);
    }
  gtk_revealer_set_reveal_child (self->loading_revealer, what != NULL);
  update_actions (self);
  if (was_loading != (what != NULL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
on_load_progress (double   fraction,
                  gpointer user_data)
{
  PlWindow *self = user_data;

  gtk_progress_bar_set_fraction (self->loading_progress, fraction);
}

typedef struct {
  PlWindow     *window;
  GCancellable *cancellable;
  char         *what;
} LoadRequest;

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  LoadRequest *request = user_data;
  PlWindow *self = request->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDocument) document = pl_document_load_finish (result, &error);

  /* Only the latest load may change the window; an older or cancelled one is dropped. */
  if (self->load_cancellable == request->cancellable && !g_cancellable_is_cancelled (request->cancellable))
    {
      set_loading (self, NULL);
      if (document != NULL)
        pl_window_set_document (self, document);
      else if (self->interactive)
        {
          g_autofree char *primary = g_strdup_printf (_("Could not open %s"), request->what);

          show_error (self, primary, error->message);
        }
      g_signal_emit (self, signals[SIGNAL_LOAD_FINISHED], 0, document != NULL,
                     error != NULL ? error->message : NULL);
    }

  g_object_unref (request->window);
  g_object_unref (request->cancellable);
  g_free (request->what);
  g_free (request);
}

static void
start_load (PlWindow   *self,
            GFile      *file,
            const char *builtin)
{
  LoadRequest *request = g_new0 (LoadRequest, 1);

  request->what = file != NULL ? g_file_get_basename (file) : g_strdup (pl_document_builtin_title (builtin));
  set_loading (self, request->what);
  request->window = g_object_ref (self);
  request->cancellable = g_object_ref (self->load_cancellable);
  pl_document_load_async (file, builtin, self->load_cancellable, on_load_progress, self, on_loaded, request);
}

void
pl_window_open_file (PlWindow *self,
                     GFile    *file)
{
  g_return_if_fail (PL_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  start_load (self, file, NULL);
}

void
pl_window_open_builtin (PlWindow   *self,
                        const char *name)
{
  g_return_if_fail (PL_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  start_load (self, NULL, name);
}

/* Panes ------------------------------------------------------------------------ */

static double *
share_of (PlWindow *self,
          GtkPaned *paned)
{
  if (paned == self->top_paned)
    return &self->top_share;
  if (paned == self->main_paned)
    return &self->main_share;
  return &self->right_share;
}

static void
place_divider (PlWindow *self,
               GtkPaned *paned)
{
  int max = 0;

  int size = gtk_orientable_get_orientation (GTK_ORIENTABLE (paned)) == GTK_ORIENTATION_HORIZONTAL
             ? gtk_widget_get_width (GTK_WIDGET (paned)) : gtk_widget_get_height (GTK_WIDGET (paned));

  g_object_get (paned, "max-position", &max, NULL);
  /* Not allocated yet: its maximum is G_MAXINT. The paned keeps each side above its minimum. */
  if (max <= 0 || max == G_MAXINT || size <= 0)
    return;
  gtk_paned_set_position (paned, MIN (max, (int) (*share_of (self, paned) * size)));
}

static void
place_dividers (PlWindow *self)
{
  place_divider (self, self->top_paned);
  place_divider (self, self->main_paned);
  place_divider (self, self->right_paned);
}

/*
 * The window was resized (full screen on a projector): the dividers keep
 * their shares. A divider the user dragged moves back then; the shares
 * are what the lecture-hall layout needs, so that is the better loss.
 */
static void
on_max_position (GtkPaned   *paned,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  place_divider (user_data, paned);
}

/* Actions ---------------------------------------------------------------------- */

static void
step_forward_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  /* Stepping by hand takes over from playing. */
  pl_cursor_set_playing (self->cursor, FALSE);
  pl_cursor_step_forward (self->cursor);
}

static void
step_back_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  pl_cursor_set_playing (self->cursor, FALSE);
  pl_cursor_step_back (self->cursor);
}

static void
first_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  pl_cursor_set_playing (self->cursor, FALSE);
  pl_cursor_first (self->cursor);
}

static void
last_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  pl_cursor_set_playing (self->cursor, FALSE);
  pl_cursor_last (self->cursor);
}

static void
change_speed (PlWindow *self,
              int       direction)
{
  double speed = pl_cursor_get_speed (self->cursor);

  pl_cursor_set_speed (self->cursor, direction > 0 ? speed * 2 : speed / 2);
}

static void
speed_up_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  change_speed (PL_WINDOW (widget), +1);
}

static void
slow_down_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  change_speed (PL_WINDOW (widget), -1);
}

static void
open_lesson_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  pl_window_open_builtin (PL_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
cancel_loading_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  if (self->load_cancellable == NULL)
    return;
  set_loading (self, NULL);
  g_signal_emit (self, signals[SIGNAL_LOAD_FINISHED], 0, FALSE, _("Cancelled"));
}

/* Escape stops what can be stopped: a load, else presentation mode. */
static void
escape_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  if (self->load_cancellable != NULL)
    cancel_loading_activated (widget, action_name, parameter);
  else if (self->presenting)
    gtk_widget_activate_action (widget, "app.present", "b", FALSE);
}

static void
on_open_response (GtkNativeDialog *dialog,
                  int              response,
                  gpointer         user_data)
{
  PlWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        pl_window_open_file (self, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
open_capture_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) captures = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) scenarios = gtk_file_filter_new ();

  /* GtkFileDialog is GTK 4.10: GtkFileChooserNative is the 4.8 way, and uses the portal when there is one. */
  chooser = gtk_file_chooser_native_new (_("Open a Capture or a Scenario"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);

  gtk_file_filter_set_name (all, _("Captures and scenarios"));
  gtk_file_filter_add_suffix (all, "pcap");
  gtk_file_filter_add_suffix (all, "pcapng");
  gtk_file_filter_add_suffix (all, "cap");
  gtk_file_filter_add_suffix (all, "scenario");
  gtk_file_filter_add_mime_type (all, "application/vnd.tcpdump.pcap");
  gtk_file_filter_set_name (captures, _("Captures (pcap, pcapng)"));
  gtk_file_filter_add_suffix (captures, "pcap");
  gtk_file_filter_add_suffix (captures, "pcapng");
  gtk_file_filter_add_suffix (captures, "cap");
  gtk_file_filter_add_mime_type (captures, "application/vnd.tcpdump.pcap");
  gtk_file_filter_set_name (scenarios, _("Scenarios"));
  gtk_file_filter_add_suffix (scenarios, "scenario");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), captures);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), scenarios);

  g_signal_connect (chooser, "response", G_CALLBACK (on_open_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* The right to capture is the system's to give: say how, with this program's own path. */
static void
show_permission_help (PlWindow     *self,
                      const GError *error)
{
  g_autofree char *program = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *secondary = NULL;
  GtkWidget *dialog;

  if (program == NULL)
    program = g_strdup ("postlab");
  secondary = g_strdup_printf (_("Reading packets from a network interface needs a right that programs "
                                 "do not have by default (%s).\n\n"
                                 "Either run Postlab as root:\n"
                                 "    sudo %s\n\n"
                                 "or give this program the right to capture, once, as root, then start it again:\n"
                                 "    sudo setcap cap_net_raw,cap_net_admin=eip %s\n\n"
                                 "You can also capture with tcpdump (sudo tcpdump -i lo -w mail.pcap) "
                                 "and open the file."),
                               error->message, program, program);
  dialog = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_INFO, GTK_BUTTONS_CLOSE, "%s",
                                   _("Postlab is not allowed to capture"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", secondary);
  /* The commands are there to be copied. */
  gtk_label_set_selectable (GTK_LABEL (gtk_widget_get_last_child (gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog)))),
                            TRUE);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_live_packets (PlLiveCapture *live,
                 GParamSpec    *pspec,
                 gpointer       user_data)
{
  update_live_banner (user_data);
}

static void
on_capture_start (PlCaptureDialog *dialog,
                  const char      *interface,
                  const char      *filter,
                  gpointer         user_data)
{
  PlWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlLiveCapture) live = pl_live_capture_new (interface, filter, &error);

  if (live == NULL)
    {
      if (g_error_matches (error, PL_TRACE_ERROR, PL_TRACE_ERROR_PERMISSION))
        show_permission_help (self, error);
      else
        show_error (self, _("Could not start capturing"), error->message);
      return;
    }

  set_loading (self, NULL);
  stop_capture (self, TRUE);
  pl_window_set_document (self, pl_live_capture_get_document (live));
  self->live = g_steal_pointer (&live);
  g_signal_connect (self->live, "notify::n-packets", G_CALLBACK (on_live_packets), self);
  pl_live_capture_start (self->live);
  gtk_revealer_set_reveal_child (self->live_revealer, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop-capture", TRUE);
  update_live_banner (self);
}

static void
capture_live_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);
  PlCaptureDialog *dialog = pl_capture_dialog_new (GTK_WINDOW (self));

  g_signal_connect_object (dialog, "start", G_CALLBACK (on_capture_start), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
stop_capture_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  stop_capture (self, FALSE);
  update_title (self);
}

/* The console's lines go to its own document, which the window shows while the student types. */
static void
on_console_connected (PlConsole *console,
                      gpointer   user_data)
{
  PlWindow *self = user_data;

  set_loading (self, NULL);
  pl_window_set_document (self, pl_console_get_document (console));
  pl_cursor_last (self->cursor);
}

static void
console_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  gtk_notebook_set_current_page (self->bottom_notebook,
                                 gtk_notebook_page_num (self->bottom_notebook, GTK_WIDGET (self->console)));
  pl_console_focus (self->console);
}

static void
inspector_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  gtk_notebook_set_current_page (self->bottom_notebook,
                                 gtk_notebook_page_num (self->bottom_notebook, GTK_WIDGET (self->inspector)));
}

typedef struct {
  PlWindow *window;
  gboolean  svg;
} ExportRequest;

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    gpointer         user_data)
{
  ExportRequest *request = user_data;
  PlWindow *self = request->window;

  if (response == GTK_RESPONSE_ACCEPT && self->document != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autoptr(GError) error = NULL;
      gboolean saved;

      if (request->svg)
        {
          guint position = pl_cursor_get_position (self->cursor);

          saved = pl_ladder_save_svg (self->document, position > 0 ? position - 1 : G_MAXUINT, file, &error);
        }
      else
        saved = pl_ladder_view_save_png (self->ladder_view, file, &error);
      if (!saved)
        show_error (self, _("Could not export the sequence diagram"), error->message);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (request->window);
  g_free (request);
}

static void
export_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);
  gboolean svg = g_str_equal (action_name, "win.export-svg");
  g_autofree char *name = NULL;
  ExportRequest *request;
  GtkFileChooserNative *chooser;

  if (self->document == NULL)
    return;
  chooser = gtk_file_chooser_native_new (svg ? _("Export the Sequence Diagram as SVG")
                                             : _("Export the Sequence Diagram as PNG"),
                                         GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  /* Translators: the suggested file name of an exported diagram; keep the extension. */
  name = g_strdup_printf (svg ? _("sequence-diagram.svg") : _("sequence-diagram.png"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);

  request = g_new0 (ExportRequest, 1);
  request->window = g_object_ref (self);
  request->svg = svg;
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), request);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         gpointer       user_data)
{
  PlWindow *self = user_data;
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  if (files == NULL)
    return FALSE;
  /* One document at a time: the first file dropped. */
  pl_window_open_file (self, files->data);
  return TRUE;
}

/* GObject ---------------------------------------------------------------------- */

static void
pl_window_dispose (GObject *object)
{
  PlWindow *self = PL_WINDOW (object);

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  stop_capture (self, TRUE);
  /* An entry destroyed while it has the focus would never hear it lost it (GTK warns). */
  gtk_window_set_focus (GTK_WINDOW (self), NULL);
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  if (self->cursor != NULL)
    g_signal_handlers_disconnect_by_data (self->cursor, self);

  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_WINDOW);
  g_clear_object (&self->document);
  g_clear_object (&self->cursor);

  G_OBJECT_CLASS (pl_window_parent_class)->dispose (object);
}

static void
pl_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PlWindow *self = PL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->load_cancellable != NULL);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, pl_cursor_get_playing (self->cursor));
      break;
    case PROP_SHOW_TCP:
      g_value_set_boolean (value, self->show_tcp);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PlWindow *self = PL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      pl_window_set_document (self, g_value_get_object (value));
      break;
    case PROP_PLAYING:
      pl_cursor_set_playing (self->cursor, g_value_get_boolean (value));
      break;
    case PROP_SHOW_TCP:
      self->show_tcp = g_value_get_boolean (value);
      if (self->topology_view != NULL)
        pl_topology_view_set_show_tcp (self->topology_view, self->show_tcp);
      g_object_notify_by_pspec (object, pspec);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_window_class_init (PlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_window_dispose;
  object_class->get_property = pl_window_get_property;
  object_class->set_property = pl_window_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, PL_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* Backs the stateful win.play action, so its toggle button shows the state. */
  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Backs win.show-tcp: the TCP segments under the protocol units, in the picture. */
  properties[PROP_SHOW_TCP] =
    g_param_spec_boolean ("show-tcp", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /*
   * PlWindow::load-finished:
   * @success: whether a document is now shown
   * @message: (nullable): why not
   */
  signals[SIGNAL_LOAD_FINISHED] =
    g_signal_new ("load-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_STRING);

  g_type_ensure (PL_TYPE_TIMELINE);
  g_type_ensure (PL_TYPE_TOPOLOGY_VIEW);
  g_type_ensure (PL_TYPE_INSPECTOR);
  g_type_ensure (PL_TYPE_CONSOLE);
  g_type_ensure (PL_TYPE_LADDER_VIEW);
  g_type_ensure (PL_TYPE_TRANSCRIPT_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PlWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, loading_revealer);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, loading_progress);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, live_revealer);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, live_label);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, topology_view);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, bottom_notebook);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, inspector);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, console);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, transcript_view);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, ladder_view);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, ladder_scroller);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, top_paned);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, main_paned);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, right_paned);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, timeline);

  /* Actions: buttons, menus and keys all go through these. */
  gtk_widget_class_install_action (widget_class, "win.step-forward", NULL, step_forward_activated);
  gtk_widget_class_install_action (widget_class, "win.step-back", NULL, step_back_activated);
  gtk_widget_class_install_action (widget_class, "win.first", NULL, first_activated);
  gtk_widget_class_install_action (widget_class, "win.last", NULL, last_activated);
  gtk_widget_class_install_property_action (widget_class, "win.play", "playing");
  gtk_widget_class_install_action (widget_class, "win.speed-up", NULL, speed_up_activated);
  gtk_widget_class_install_action (widget_class, "win.slow-down", NULL, slow_down_activated);
  gtk_widget_class_install_action (widget_class, "win.open-lesson", "s", open_lesson_activated);
  gtk_widget_class_install_action (widget_class, "win.open-capture", NULL, open_capture_activated);
  gtk_widget_class_install_action (widget_class, "win.cancel-loading", NULL, cancel_loading_activated);
  gtk_widget_class_install_action (widget_class, "win.escape", NULL, escape_activated);
  gtk_widget_class_install_property_action (widget_class, "win.show-tcp", "show-tcp");
  gtk_widget_class_install_action (widget_class, "win.capture-live", NULL, capture_live_activated);
  gtk_widget_class_install_action (widget_class, "win.console", NULL, console_activated);
  gtk_widget_class_install_action (widget_class, "win.inspector", NULL, inspector_activated);
  gtk_widget_class_install_action (widget_class, "win.stop-capture", NULL, stop_capture_activated);
  gtk_widget_class_install_action (widget_class, "win.export-svg", NULL, export_activated);
  gtk_widget_class_install_action (widget_class, "win.export-png", NULL, export_activated);

  /*
   * The stepping keys are bindings of the window, handled after the focused
   * widget had its turn: Space still types a space in the console, and
   * activates a focused button.
   */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, 0, "win.play", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "win.step-forward", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "win.step-back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Home, 0, "win.first", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_End, 0, "win.last", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketright, 0, "win.speed-up", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketleft, 0, "win.slow-down", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open-capture", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.escape", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_t, GDK_CONTROL_MASK, "win.show-tcp", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "win.capture-live", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK, "win.console", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_i, GDK_CONTROL_MASK, "win.inspector", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.export-svg", NULL);
}

static void
pl_window_init (PlWindow *self)
{
  GtkDropTarget *drop;

  self->animations = TRUE;
  self->interactive = TRUE;
  self->cursor = pl_cursor_new ();
  g_signal_connect (self->cursor, "notify", G_CALLBACK (on_cursor_notify), self);

  gtk_widget_init_template (GTK_WIDGET (self));

  pl_topology_view_set_cursor (self->topology_view, self->cursor);
  pl_inspector_set_cursor (self->inspector, self->cursor);
  g_signal_connect (self->console, "connected", G_CALLBACK (on_console_connected), self);
  pl_transcript_view_set_cursor (self->transcript_view, self->cursor);
  pl_ladder_view_set_cursor (self->ladder_view, self->cursor);
  pl_timeline_set_cursor (self->timeline, self->cursor);

  self->top_share = 0.58;
  self->main_share = 0.6;
  self->right_share = 0.5;
  for (guint i = 0; i < 3; i++)
    {
      GtkPaned *paned = i == 0 ? self->top_paned : i == 1 ? self->main_paned : self->right_paned;

      g_signal_connect (paned, "notify::max-position", G_CALLBACK (on_max_position), self);
    }

  /* Captures and scenarios can be dropped anywhere on the window. */
  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  update_title (self);
  update_actions (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop-capture", FALSE);
}

PlWindow *
pl_window_new (PlApplication *application)
{
  g_return_val_if_fail (PL_IS_APPLICATION (application), NULL);

  return g_object_new (PL_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

void
pl_window_set_animations (PlWindow *self,
                          gboolean  enabled)
{
  g_return_if_fail (PL_IS_WINDOW (self));

  self->animations = !!enabled;
  update_ticking (self);
}

void
pl_window_set_interactive (PlWindow *self,
                           gboolean  interactive)
{
  g_return_if_fail (PL_IS_WINDOW (self));

  self->interactive = !!interactive;
}

void
pl_window_set_presenting (PlWindow *self,
                          gboolean  presenting)
{
  g_return_if_fail (PL_IS_WINDOW (self));

  presenting = !!presenting;
  if (self->presenting == presenting)
    return;
  self->presenting = presenting;
  pl_topology_view_set_presenting (self->topology_view, presenting);
  pl_ladder_view_set_presenting (self->ladder_view, presenting);
  /*
   * On a projector the picture and the transcript matter most: the
   * sequence diagram gives them its room, the transcript its time and
   * session columns (the inspector says both).
   */
  pl_transcript_view_set_compact (self->transcript_view, presenting);
  gtk_widget_set_visible (self->ladder_scroller, !presenting);
  /* The larger picture needs more room; the explanation below keeps enough for a few lines. */
  self->top_share = presenting ? 0.6 : 0.58;
  self->main_share = presenting ? 0.7 : 0.6;
  place_dividers (self);
  if (presenting)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "pl-presenting");
      gtk_window_fullscreen (GTK_WINDOW (self));
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self), "pl-presenting");
      gtk_window_unfullscreen (GTK_WINDOW (self));
    }
}
