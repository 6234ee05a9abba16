/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlConsole: "Try it yourself": type POP3 or SMTP commands to the simulated server, as in telnet. */
#pragma once

#include <gtk/gtk.h>

#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_CONSOLE (pl_console_get_type ())
G_DECLARE_FINAL_TYPE (PlConsole, pl_console, PL, CONSOLE, GtkWidget)

/*
 * The student connects to mail.b.example (POP3 or SMTP), types lines and
 * reads the replies as telnet would show them. Every line also goes into
 * "document" (made at the first connection), which the window shows: the
 * transcript, the picture and the sequence diagram follow what is typed.
 * "connected" is emitted at each connection.
 */
PlDocument *pl_console_get_document (PlConsole *self);
/* Gives the keyboard to the line entry (or the Connect button when not connected). */
void        pl_console_focus        (PlConsole *self);
/* For tests: connect with @protocol, and type @line. */
void        pl_console_connect      (PlConsole  *self,
                                     PlProtocol  protocol);
gboolean    pl_console_type_line    (PlConsole  *self,
                                     const char *line);
/* Everything the console window shows, as text. */
char       *pl_console_dup_text     (PlConsole *self);

G_END_DECLS
