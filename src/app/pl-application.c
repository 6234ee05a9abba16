/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlApplication: the GtkApplication of `postlab` (actions, style, --screenshot). */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-application.h"
#include "pl-screenshot.h"
#include "pl-window.h"

/* Long enough for a loaded CI machine drawing with llvmpipe. */
#define SCREENSHOT_TIMEOUT_SECONDS 60

/* Where the current step's unit is drawn in a screenshot: on its way, a little past the middle. */
#define SCREENSHOT_PROGRESS 0.55

struct _PlApplication
{
  GtkApplication  parent_instance;

  /* --screenshot FILE; NULL for an interactive run. */
  GFile          *screenshot_file;
  gboolean        screenshot_started;
  int             exit_status;
  /* --step N: where the first window starts (and what a screenshot shows). */
  guint           start_step;
  gboolean        start_presenting;

  /* The desktop's light/dark preference, read from the XDG Settings portal. */
  GDBusProxy     *settings_portal;

  /* The GTK theme presentation mode replaced (it uses GTK's high-contrast one). */
  char           *theme_before_presenting;

  /* Cancelled in dispose, so no late D-Bus reply touches a dead application. */
  GCancellable   *cancellable;
};

G_DEFINE_FINAL_TYPE (PlApplication, pl_application, GTK_TYPE_APPLICATION)

static const GOptionEntry pl_application_options[] = {
  { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Render the main window to FILE as PNG, then quit"), N_("FILE") },
  { "step", 0, 0, G_OPTION_ARG_INT, NULL,
    N_("Start at step N of the scenario or capture"), N_("N") },
  { "present", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Start in presentation mode (large text, full screen)"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Print the version and quit"), NULL },
  { NULL }
};

/* The desktop's style -------------------------------------------------- */

#define PORTAL_BUS_NAME         "org.freedesktop.portal.Desktop"
#define PORTAL_OBJECT_PATH      "/org/freedesktop/portal/desktop"
#define PORTAL_SETTINGS_IFACE   "org.freedesktop.portal.Settings"
#define APPEARANCE_NAMESPACE    "org.freedesktop.appearance"
#define APPEARANCE_COLOR_SCHEME "color-scheme"

/*
 * Applies the portal's org.freedesktop.appearance color-scheme value:
 * 0 no preference, 1 prefer dark, 2 prefer light. Without libadwaita, the
 * gtk-application-prefer-dark-theme setting is how a GTK 4 application asks
 * its theme for the dark variant.
 */
static void
pl_application_apply_color_scheme (PlApplication *self,
                                   GVariant      *value)
{
  GVariant *inner = g_variant_ref (value);
  guint32 scheme;

  /* Portals before version 2 wrap the value in one variant too many. */
  while (g_variant_is_of_type (inner, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *child = g_variant_get_variant (inner);

      g_variant_unref (inner);
      inner = child;
    }

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT32))
    {
      g_debug ("Ignoring a color-scheme of type %s", g_variant_get_type_string (inner));
      g_variant_unref (inner);
      return;
    }

  scheme = g_variant_get_uint32 (inner);
  g_variant_unref (inner);

  g_debug ("Desktop color scheme: %u", scheme);
  g_object_set (gtk_settings_get_default (),
                "gtk-application-prefer-dark-theme", scheme == 1,
                NULL);
}

static void
pl_application_on_portal_signal (GDBusProxy *proxy,
                                 const char *sender_name,
                                 const char *signal_name,
                                 GVariant   *parameters,
                                 gpointer    user_data)
{
  PlApplication *self = user_data;
  const char *namespace;
  const char *key;
  g_autoptr(GVariant) value = NULL;

  if (g_strcmp0 (signal_name, "SettingChanged") != 0
      || !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ssv)")))
    return;

  g_variant_get (parameters, "(&s&sv)", &namespace, &key, &value);
  if (g_strcmp0 (namespace, APPEARANCE_NAMESPACE) == 0
      && g_strcmp0 (key, APPEARANCE_COLOR_SCHEME) == 0)
    pl_application_apply_color_scheme (self, value);
}

static void
pl_application_on_color_scheme_read (GObject      *source,
                                     GAsyncResult *result,
                                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  PlApplication *self;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    {
      /* No portal, or an old one without the appearance namespace: the
       * theme's own default is a fine answer. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not read the color scheme: %s", error->message);
      return;
    }

  self = user_data;
  g_variant_get (reply, "(v)", &value);
  pl_application_apply_color_scheme (self, value);
}

static void
pl_application_on_portal_ready (GObject      *source,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GDBusProxy *proxy;
  PlApplication *self;

  proxy = g_dbus_proxy_new_for_bus_finish (result, &error);
  if (proxy == NULL)
    {
      /* Cancelled means the application is gone: do not touch it. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No settings portal: %s", error->message);
      return;
    }

  self = user_data;
  self->settings_portal = proxy;
  g_signal_connect_object (proxy, "g-signal",
                           G_CALLBACK (pl_application_on_portal_signal), self, 0);
  g_dbus_proxy_call (proxy, "Read",
                     g_variant_new ("(ss)", APPEARANCE_NAMESPACE, APPEARANCE_COLOR_SCHEME),
                     G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
                     pl_application_on_color_scheme_read, self);
}

/*
 * Follows the desktop's light/dark preference, now and when it changes.
 * The XDG Settings portal is where GNOME, KDE and sandboxes publish it.
 */
static void
pl_application_follow_system_style (PlApplication *self)
{
  g_dbus_proxy_new_for_bus (G_BUS_TYPE_SESSION,
                            G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                            NULL,
                            PORTAL_BUS_NAME, PORTAL_OBJECT_PATH, PORTAL_SETTINGS_IFACE,
                            self->cancellable,
                            pl_application_on_portal_ready, self);
}

/* Actions ----------------------------------------------------------------- */

static void
pl_application_close_windows (PlApplication *self)
{
  GList *windows;

  /* Destroying the last window releases the application, which then
   * leaves its main loop with everything torn down in order. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (GTK_WINDOW (windows->data));
}

static gboolean
pl_application_close_windows_idle (gpointer user_data)
{
  pl_application_close_windows (PL_APPLICATION (user_data));
  return G_SOURCE_REMOVE;
}

static void
pl_application_quit_activated (GSimpleAction *action,
                               GVariant      *parameter,
                               gpointer       user_data)
{
  pl_application_close_windows (PL_APPLICATION (user_data));
}

static void
pl_application_about_activated (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  PlApplication *self = PL_APPLICATION (user_data);

  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (self)),
                         "program-name", _("Postlab"),
                         "version", PACKAGE_VERSION,
                         "comments", _("See how email moves: SMTP pushes mail between servers; "
                                       "POP3, IMAP and webmail pull it to you."),
                         "copyright", _("© 2026 The Postlab developers"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "logo-icon-name", PL_APP_ID,
                         /* Translators: put your names here, one a line. */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
pl_application_shortcuts_activated (GSimpleAction *action,
                                    GVariant      *parameter,
                                    gpointer       user_data)
{
  PlApplication *self = PL_APPLICATION (user_data);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkApplicationWindow *app_window;

  if (!GTK_IS_APPLICATION_WINDOW (window))
    return;

  /* As the window's help overlay, the shortcuts window finds the
   * accelerators of the actions it lists through the window's application,
   * so it never disagrees with what the keys really do. It is built the
   * first time it is asked for. */
  app_window = GTK_APPLICATION_WINDOW (window);
  if (gtk_application_window_get_help_overlay (app_window) == NULL)
    {
      g_autoptr(GtkBuilder) builder = NULL;
      GtkShortcutsWindow *overlay;

      builder = gtk_builder_new_from_resource ("/org/postlab/Postlab/pl-shortcuts-window.ui");
      overlay = GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "shortcuts_window"));
      gtk_application_window_set_help_overlay (app_window, overlay);
    }

  gtk_widget_activate_action (GTK_WIDGET (app_window), "win.show-help-overlay", NULL);
}

/* Presentation mode is the application's: every window takes it on. */
static void
pl_application_present_changed (GSimpleAction *action,
                                GVariant      *state,
                                gpointer       user_data)
{
  PlApplication *self = PL_APPLICATION (user_data);
  gboolean presenting = g_variant_get_boolean (state);

  GtkSettings *settings = gtk_settings_get_default ();

  g_simple_action_set_state (action, state);
  /*
   * High contrast is GTK's own: its Default-hc theme (light or dark as the
   * desktop prefers), with the theme of before put back afterwards.
   */
  if (presenting && self->theme_before_presenting == NULL)
    {
      g_object_get (settings, "gtk-theme-name", &self->theme_before_presenting, NULL);
      if (self->theme_before_presenting == NULL)
        self->theme_before_presenting = g_strdup ("");
      g_object_set (settings, "gtk-theme-name", "Default-hc", NULL);
    }
  else if (!presenting && self->theme_before_presenting != NULL)
    {
      g_object_set (settings, "gtk-theme-name",
                    self->theme_before_presenting[0] != '\0' ? self->theme_before_presenting : NULL, NULL);
      g_clear_pointer (&self->theme_before_presenting, g_free);
    }
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (PL_IS_WINDOW (l->data))
      pl_window_set_presenting (l->data, presenting);
}

static const GActionEntry pl_application_actions[] = {
  { .name = "about",     .activate = pl_application_about_activated },
  { .name = "quit",      .activate = pl_application_quit_activated },
  { .name = "shortcuts", .activate = pl_application_shortcuts_activated },
  { .name = "present",   .state = "false", .change_state = pl_application_present_changed },
};

/* --screenshot ------------------------------------------------------------ */

static void
pl_application_on_screenshot_done (GObject      *source,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(PlApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (pl_screenshot_window_finish (GTK_WINDOW (source), result, &error))
    {
      self->exit_status = 0;
    }
  else
    {
      g_autofree char *name = g_file_get_parse_name (self->screenshot_file);

      /* Translators: the first %s is a file name, the second the reason. */
      g_printerr (_("postlab: could not write the screenshot %s: %s\n"), name, error->message);
      self->exit_status = 1;
    }

  /* Close from an idle: the screenshot still holds the window while it
   * reports to us, and a window should go away with nobody holding it. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, pl_application_close_windows_idle,
                   g_object_ref (self), g_object_unref);
}

static void
pl_application_take_screenshot (PlApplication *self,
                                PlWindow      *window)
{
  PlCursor *cursor = pl_window_get_cursor (window);

  /* The same picture every time: nothing moves, the current unit halfway along its link. */
  pl_cursor_set_position_full (cursor, self->start_step, SCREENSHOT_PROGRESS);
  pl_screenshot_window_async (GTK_WINDOW (window), self->screenshot_file,
                              SCREENSHOT_TIMEOUT_SECONDS, self->cancellable,
                              pl_application_on_screenshot_done,
                              g_object_ref (self));
}

static void
pl_application_on_load_finished (PlWindow   *window,
                                 gboolean    success,
                                 const char *message,
                                 gpointer    user_data)
{
  PlApplication *self = PL_APPLICATION (user_data);

  g_signal_handlers_disconnect_by_func (window, pl_application_on_load_finished, self);
  if (!success)
    {
      /* Translators: %s says why a scenario or capture could not be opened. */
      g_printerr (_("postlab: %s\n"), message != NULL ? message : _("nothing to show"));
      self->exit_status = 1;
      g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, pl_application_close_windows_idle,
                       g_object_ref (self), g_object_unref);
      return;
    }
  if (self->screenshot_file != NULL)
    pl_application_take_screenshot (self, window);
  else if (self->start_step > 0)
    pl_cursor_set_position (pl_window_get_cursor (window), self->start_step);
}

/*
 * Shows the main window with @file, or with the default scenario when
 * @file is NULL and the window shows nothing yet. A screenshot waits until
 * what was asked for is loaded.
 */
static void
pl_application_show (PlApplication *self,
                     GFile         *file)
{
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (self));
  PlWindow *window;
  gboolean fresh = active == NULL || !PL_IS_WINDOW (active);
  GVariant *presenting;

  window = fresh ? pl_window_new (self) : PL_WINDOW (active);
  if (fresh)
    {
      presenting = g_action_group_get_action_state (G_ACTION_GROUP (self), "present");
      pl_window_set_presenting (window, g_variant_get_boolean (presenting));
      /*
       * A picture of presentation mode is as large as the screen, as full
       * screen would make it: with no window manager (Xvfb) nobody else does.
       */
      if (g_variant_get_boolean (presenting) && self->screenshot_file != NULL)
        {
          GListModel *monitors = gdk_display_get_monitors (gdk_display_get_default ());
          g_autoptr(GdkMonitor) monitor = g_list_model_get_item (monitors, 0);
          GdkRectangle geometry;

          if (monitor != NULL)
            {
              gdk_monitor_get_geometry (monitor, &geometry);
              gtk_window_set_default_size (GTK_WINDOW (window), geometry.width, geometry.height);
            }
        }
      g_variant_unref (presenting);
    }

  if (self->screenshot_file != NULL && !self->screenshot_started)
    {
      self->screenshot_started = TRUE;
      pl_window_set_animations (window, FALSE);
      pl_window_set_interactive (window, FALSE);
      g_signal_connect (window, "load-finished", G_CALLBACK (pl_application_on_load_finished), self);
    }
  else if (fresh && self->start_step > 0)
    g_signal_connect (window, "load-finished", G_CALLBACK (pl_application_on_load_finished), self);

  if (file != NULL)
    pl_window_open_file (window, file);
  else if (fresh)
    pl_window_open_builtin (window, "textbook");

  gtk_window_present (GTK_WINDOW (window));
}

/* GApplication ------------------------------------------------------------ */

static int
pl_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  PlApplication *self = PL_APPLICATION (app);
  const char *screenshot = NULL;
  gint32 step = 0;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("postlab %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (g_variant_dict_lookup (options, "step", "i", &step))
    {
      if (step < 0)
        {
          g_printerr (_("postlab: --step wants a step number, 0 or more\n"));
          return 2;
        }
      self->start_step = (guint) step;
    }

  self->start_presenting = g_variant_dict_contains (options, "present");

  if (g_variant_dict_lookup (options, "screenshot", "^&ay", &screenshot))
    {
      self->screenshot_file = g_file_new_for_commandline_arg (screenshot);
      /* Failed until the file is written. */
      self->exit_status = 1;
      /* A running Postlab in the session must not get this request: this
       * process draws the picture itself and reports how it went. */
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }

  return G_APPLICATION_CLASS (pl_application_parent_class)->handle_local_options (app, options);
}

static void
pl_application_startup (GApplication *app)
{
  PlApplication *self = PL_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *shortcuts_accels[] = { "<Control>question", NULL };
  static const char *present_accels[] = { "F5", NULL };
  g_autoptr(GtkCssProvider) css = NULL;

  G_APPLICATION_CLASS (pl_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   pl_application_actions,
                                   G_N_ELEMENTS (pl_application_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.shortcuts", shortcuts_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.present", present_accels);
  if (self->start_presenting)
    g_action_group_change_action_state (G_ACTION_GROUP (self), "present", g_variant_new_boolean (TRUE));

  /* GtkApplication has put our resource's icons/ on the icon theme's path,
   * so the icon shows even when Postlab runs from its build folder. */
  gtk_window_set_default_icon_name (PL_APP_ID);

  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/postlab/Postlab/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  /* A screenshot must look the same on every machine (README pictures,
   * tests): it keeps the theme's default instead of the desktop's choice.
   * GTK_THEME=Default:dark still gives a dark one. */
  if (self->screenshot_file == NULL)
    pl_application_follow_system_style (self);
}

static void
pl_application_activate (GApplication *app)
{
  pl_application_show (PL_APPLICATION (app), NULL);
}

/* `postlab FILE`: a capture or a scenario; one document a window, so the first file. */
static void
pl_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  if (n_files > 1)
    g_printerr (_("postlab: opening %s only: one capture or scenario at a time\n"),
                g_file_peek_path (files[0]) != NULL ? g_file_peek_path (files[0]) : "");
  pl_application_show (PL_APPLICATION (app), n_files > 0 ? files[0] : NULL);
}

static void
pl_application_dispose (GObject *object)
{
  PlApplication *self = PL_APPLICATION (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->settings_portal);

  G_OBJECT_CLASS (pl_application_parent_class)->dispose (object);
}

static void
pl_application_finalize (GObject *object)
{
  PlApplication *self = PL_APPLICATION (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->screenshot_file);
  g_free (self->theme_before_presenting);

  G_OBJECT_CLASS (pl_application_parent_class)->finalize (object);
}

static void
pl_application_class_init (PlApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = pl_application_dispose;
  object_class->finalize = pl_application_finalize;

  app_class->handle_local_options = pl_application_handle_local_options;
  app_class->startup = pl_application_startup;
  app_class->activate = pl_application_activate;
  app_class->open = pl_application_open;
}

static void
pl_application_init (PlApplication *self)
{
  self->cancellable = g_cancellable_new ();
  g_application_add_main_option_entries (G_APPLICATION (self), pl_application_options);
}

PlApplication *
pl_application_new (void)
{
  return g_object_new (PL_TYPE_APPLICATION,
                       "application-id", PL_APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/org/postlab/Postlab",
                       NULL);
}

int
pl_application_get_exit_status (PlApplication *self)
{
  g_return_val_if_fail (PL_IS_APPLICATION (self), 1);

  return self->exit_status;
}
