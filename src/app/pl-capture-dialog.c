/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlCaptureDialog: asks which interface to capture on, and with which filter. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-capture-dialog.h"
#include "pl-pcap-source.h"

struct _PlCaptureDialog
{
  GtkWindow    parent_instance;

  /* Template children. */
  GtkButton   *start_button;
  GtkDropDown *interface_dropdown;
  GtkEntry    *filter_entry;
  GtkLabel    *error_label;

  GPtrArray   *names;   /* of char*: the interfaces, in the dropdown's order */
};

G_DEFINE_FINAL_TYPE (PlCaptureDialog, pl_capture_dialog, GTK_TYPE_WINDOW)

enum {
  SIGNAL_START,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static int
loopback_first (gconstpointer a,
                gconstpointer b)
{
  const PlCaptureInterface *x = *(const PlCaptureInterface **) a;
  const PlCaptureInterface *y = *(const PlCaptureInterface **) b;

  if (x->loopback != y->loopback)
    return y->loopback - x->loopback;
  return y->up - x->up;
}

static void
fill_interfaces (PlCaptureDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) interfaces = pl_capture_list_interfaces (&error);
  GtkStringList *labels = gtk_string_list_new (NULL);

  if (interfaces == NULL)
    {
      /* Without the right to capture, some systems list nothing: "any" still lets the start say why. */
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      g_ptr_array_add (self->names, g_strdup ("any"));
      gtk_string_list_append (labels, "any");
    }
  else
    {
      g_ptr_array_sort (interfaces, loopback_first);
      for (guint i = 0; i < interfaces->len; i++)
        {
          const PlCaptureInterface *interface = g_ptr_array_index (interfaces, i);
          g_autofree char *label = NULL;

          if (interface->addresses != NULL && interface->addresses[0] != '\0')
            label = g_strdup_printf ("%s (%s)", interface->name, interface->addresses);
          else if (interface->description != NULL)
            label = g_strdup_printf ("%s (%s)", interface->name, interface->description);
          else
            label = g_strdup (interface->name);
          g_ptr_array_add (self->names, g_strdup (interface->name));
          gtk_string_list_append (labels, label);
        }
    }
  gtk_drop_down_set_model (self->interface_dropdown, G_LIST_MODEL (labels));
  g_object_unref (labels);
  gtk_widget_set_sensitive (GTK_WIDGET (self->start_button), self->names->len > 0);
}

static void
on_start_clicked (GtkButton *button,
                  gpointer   user_data)
{
  PlCaptureDialog *self = user_data;
  guint selected = gtk_drop_down_get_selected (self->interface_dropdown);
  g_autofree char *filter = NULL;
  g_autofree char *interface = NULL;

  if (selected >= self->names->len)
    return;
  interface = g_strdup (g_ptr_array_index (self->names, selected));
  filter = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->filter_entry)));
  /* Gone before the capture starts, so that a dialog it shows is not under this one. */
  g_object_ref (self);
  gtk_window_destroy (GTK_WINDOW (self));
  g_signal_emit (self, signals[SIGNAL_START], 0, interface, filter);
  g_object_unref (self);
}

static void
pl_capture_dialog_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_CAPTURE_DIALOG);

  G_OBJECT_CLASS (pl_capture_dialog_parent_class)->dispose (object);
}

static void
pl_capture_dialog_finalize (GObject *object)
{
  g_ptr_array_unref (PL_CAPTURE_DIALOG (object)->names);

  G_OBJECT_CLASS (pl_capture_dialog_parent_class)->finalize (object);
}

static void
pl_capture_dialog_class_init (PlCaptureDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_capture_dialog_dispose;
  object_class->finalize = pl_capture_dialog_finalize;

  /*
   * PlCaptureDialog::start:
   * @interface: where to capture
   * @filter: the BPF filter, maybe empty
   */
  signals[SIGNAL_START] =
    g_signal_new ("start", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-capture-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, PlCaptureDialog, start_button);
  gtk_widget_class_bind_template_child (widget_class, PlCaptureDialog, interface_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PlCaptureDialog, filter_entry);
  gtk_widget_class_bind_template_child (widget_class, PlCaptureDialog, error_label);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
pl_capture_dialog_init (PlCaptureDialog *self)
{
  self->names = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_editable_set_text (GTK_EDITABLE (self->filter_entry), PL_CAPTURE_DEFAULT_FILTER);
  g_signal_connect (self->start_button, "clicked", G_CALLBACK (on_start_clicked), self);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->start_button));
  fill_interfaces (self);
}

PlCaptureDialog *
pl_capture_dialog_new (GtkWindow *parent)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);

  return g_object_new (PL_TYPE_CAPTURE_DIALOG,
                       "transient-for", parent,
                       NULL);
}
