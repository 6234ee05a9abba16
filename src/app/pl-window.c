/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlWindow: the main window of `postlab`, built from pl-window.ui. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-window.h"

struct _PlWindow
{
  GtkApplicationWindow  parent_instance;

  /* Template children. */
  GtkMenuButton        *primary_menu_button;
  GtkWidget            *welcome_page;
};

G_DEFINE_FINAL_TYPE (PlWindow, pl_window, GTK_TYPE_APPLICATION_WINDOW)

static void
pl_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_WINDOW);

  G_OBJECT_CLASS (pl_window_parent_class)->dispose (object);
}

static void
pl_window_class_init (PlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PlWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, welcome_page);
}

static void
pl_window_init (PlWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PlWindow *
pl_window_new (PlApplication *application)
{
  g_return_val_if_fail (PL_IS_APPLICATION (application), NULL);

  return g_object_new (PL_TYPE_WINDOW,
                       "application", application,
                       NULL);
}
