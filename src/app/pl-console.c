/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlConsole: "Try it yourself": type POP3 or SMTP commands to the simulated server, as in telnet. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-console-session.h"
#include "pl-console.h"

struct _PlConsole
{
  GtkWidget          parent_instance;

  /* Template children. */
  GtkDropDown       *protocol_dropdown;
  GtkButton         *connect_button;
  GtkLabel          *hint_label;
  GtkScrolledWindow *scrolled_window;
  GtkTextView       *output_view;
  GtkEntry          *entry;

  PlConsoleSession  *session;   /* made at the first connection */
};

G_DEFINE_FINAL_TYPE (PlConsole, pl_console, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static PlProtocol
chosen_protocol (PlConsole *self)
{
  return gtk_drop_down_get_selected (self->protocol_dropdown) == 1 ? PL_PROTOCOL_SMTP : PL_PROTOCOL_POP3;
}

static void
update_hint (PlConsole *self)
{
  if (chosen_protocol (self) == PL_PROTOCOL_SMTP)
    gtk_label_set_text (self->hint_label,
                        _("Try: HELO you · MAIL FROM:<alice@a.example> · RCPT TO:<bob@b.example> · "
                          "DATA · a few lines · a line with only . · QUIT"));
  else
    gtk_label_set_text (self->hint_label,
                        _("Try: USER bob · PASS hungry · LIST · RETR 1 · DELE 1 · QUIT"));
}

static void
append (PlConsole  *self,
        const char *text,
        gssize      len,
        const char *tag)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->output_view);
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert_with_tags_by_name (buffer, &end, text, len, tag, NULL);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_view_scroll_to_iter (self->output_view, &end, 0, FALSE, 0, 1);
}

static void
update_sensitivity (PlConsole *self)
{
  gboolean connected = self->session != NULL && pl_console_session_is_connected (self->session);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  /* An entry made insensitive while it has the focus never hears it lost it: the button takes it first. */
  if (!connected && root != NULL)
    {
      GtkWidget *focus = gtk_root_get_focus (root);

      if (focus != NULL && (focus == GTK_WIDGET (self->entry) || gtk_widget_is_ancestor (focus, GTK_WIDGET (self->entry))))
        gtk_widget_grab_focus (GTK_WIDGET (self->connect_button));
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->entry), connected);
  gtk_button_set_label (self->connect_button, connected ? _("_Disconnect") : _("_Connect"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->connect_button),
                               connected ? _("Drop the connection without QUIT (POP3 then deletes nothing)")
                                         : _("Open a connection to the simulated server, as telnet would"));
}

static void
on_output (PlConsoleSession *session,
           GBytes           *octets,
           gpointer          user_data)
{
  PlConsole *self = user_data;
  gsize len;
  const char *data = g_bytes_get_data (octets, &len);
  g_autoptr(GString) text = g_string_sized_new (len);

  /* As a terminal shows it: CR LF is one line end. Octets that are not UTF-8 are shown escaped. */
  for (gsize i = 0; i < len; i++)
    if (data[i] != '\r')
      g_string_append_c (text, data[i]);
  if (!g_utf8_validate (text->str, (gssize) text->len, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (text->str, (gssize) text->len);

      g_string_assign (text, valid);
    }
  append (self, text->str, (gssize) text->len, "server");
}

static void
on_closed (PlConsoleSession *session,
           gpointer          user_data)
{
  PlConsole *self = user_data;

  append (self, _("— Connection closed by the server —\n"), -1, "note");
  update_sensitivity (self);
}

static void
ensure_session (PlConsole *self)
{
  if (self->session != NULL)
    return;
  self->session = pl_console_session_new ();
  g_signal_connect (self->session, "output", G_CALLBACK (on_output), self);
  g_signal_connect (self->session, "closed", G_CALLBACK (on_closed), self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

void
pl_console_connect (PlConsole  *self,
                    PlProtocol  protocol)
{
  g_autofree char *banner = NULL;

  g_return_if_fail (PL_IS_CONSOLE (self));

  ensure_session (self);
  gtk_drop_down_set_selected (self->protocol_dropdown, protocol == PL_PROTOCOL_SMTP ? 1 : 0);
  /* Translators: as telnet says it: "Trying mail.b.example port 110...". */
  banner = g_strdup_printf (_("— Connecting to %s port %u —\n"), PL_CONSOLE_SERVER_NAME,
                            protocol == PL_PROTOCOL_SMTP ? 25u : 110u);
  append (self, banner, -1, "note");
  g_signal_handlers_block_by_func (self->session, on_closed, self);
  pl_console_session_connect (self->session, protocol);
  g_signal_handlers_unblock_by_func (self->session, on_closed, self);
  update_sensitivity (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
  g_signal_emit (self, signals[SIGNAL_CONNECTED], 0);
}

gboolean
pl_console_type_line (PlConsole  *self,
                      const char *line)
{
  g_autofree char *echo = NULL;

  g_return_val_if_fail (PL_IS_CONSOLE (self), FALSE);

  if (self->session == NULL || pl_console_session_is_waiting (self->session)
      || !pl_console_session_is_connected (self->session))
    return FALSE;
  echo = g_strconcat (line, "\n", NULL);
  append (self, echo, -1, "client");
  pl_console_session_send_line (self->session, line);
  update_sensitivity (self);
  return TRUE;
}

static void
on_connect_clicked (GtkButton *button,
                    gpointer   user_data)
{
  PlConsole *self = user_data;

  if (self->session != NULL && pl_console_session_is_connected (self->session))
    {
      g_signal_handlers_block_by_func (self->session, on_closed, self);
      pl_console_session_disconnect (self->session);
      g_signal_handlers_unblock_by_func (self->session, on_closed, self);
      append (self, _("— You closed the connection —\n"), -1, "note");
      update_sensitivity (self);
      return;
    }
  pl_console_connect (self, chosen_protocol (self));
}

static void
on_activate (GtkEntry *entry,
             gpointer  user_data)
{
  PlConsole *self = user_data;
  g_autofree char *line = g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry)));

  if (pl_console_type_line (self, line))
    gtk_editable_set_text (GTK_EDITABLE (entry), "");
}

static void
pl_console_dispose (GObject *object)
{
  PlConsole *self = PL_CONSOLE (object);
  GtkWidget *child;

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_CONSOLE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (pl_console_parent_class)->dispose (object);
}

static void
pl_console_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, pl_console_get_document (PL_CONSOLE (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_console_class_init (PlConsoleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_console_dispose;
  object_class->get_property = pl_console_get_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, PL_TYPE_DOCUMENT,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* PlConsole::connected: a connection opened; "document" is where its lines go. */
  signals[SIGNAL_CONNECTED] =
    g_signal_new ("connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/postlab/Postlab/pl-console.ui");
  gtk_widget_class_bind_template_child (widget_class, PlConsole, protocol_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PlConsole, connect_button);
  gtk_widget_class_bind_template_child (widget_class, PlConsole, hint_label);
  gtk_widget_class_bind_template_child (widget_class, PlConsole, scrolled_window);
  gtk_widget_class_bind_template_child (widget_class, PlConsole, output_view);
  gtk_widget_class_bind_template_child (widget_class, PlConsole, entry);
  gtk_widget_class_set_css_name (widget_class, "plconsole");
}

static void
pl_console_init (PlConsole *self)
{
  GtkTextBuffer *buffer;

  gtk_widget_init_template (GTK_WIDGET (self));

  buffer = gtk_text_view_get_buffer (self->output_view);
  gtk_text_buffer_create_tag (buffer, "server", "foreground", "#1e7a3c", NULL);
  gtk_text_buffer_create_tag (buffer, "client", "weight", PANGO_WEIGHT_BOLD, NULL);
  gtk_text_buffer_create_tag (buffer, "note", "style", PANGO_STYLE_ITALIC, "foreground", "#77767b", NULL);
  gtk_text_buffer_set_text (buffer, _("Choose POP3 or SMTP and Connect: you play the user agent, typing what "
                                      "it would send. Every line also shows in the transcript and the picture.\n"),
                            -1);

  g_signal_connect (self->connect_button, "clicked", G_CALLBACK (on_connect_clicked), self);
  g_signal_connect (self->entry, "activate", G_CALLBACK (on_activate), self);
  g_signal_connect_swapped (self->protocol_dropdown, "notify::selected", G_CALLBACK (update_hint), self);
  update_hint (self);
}

PlDocument *
pl_console_get_document (PlConsole *self)
{
  g_return_val_if_fail (PL_IS_CONSOLE (self), NULL);

  return self->session != NULL ? pl_console_session_get_document (self->session) : NULL;
}

void
pl_console_focus (PlConsole *self)
{
  g_return_if_fail (PL_IS_CONSOLE (self));

  if (self->session != NULL && pl_console_session_is_connected (self->session))
    gtk_widget_grab_focus (GTK_WIDGET (self->entry));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->connect_button));
}

char *
pl_console_dup_text (PlConsole *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start;
  GtkTextIter end;

  g_return_val_if_fail (PL_IS_CONSOLE (self), NULL);

  buffer = gtk_text_view_get_buffer (self->output_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}
