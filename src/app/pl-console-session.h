/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlConsoleSession: the student at a telnet prompt, talking to the simulated mail.b.example with the real engines. */
#pragma once

#include <glib-object.h>

#include "pl-document.h"

G_BEGIN_DECLS

/* The simulated world of the console: the textbook's receiving server and its mailbox. */
#define PL_CONSOLE_SERVER_NAME    "mail.b.example"
#define PL_CONSOLE_SERVER_ADDRESS "198.51.100.25"
#define PL_CONSOLE_CLIENT_NAME    "you"
#define PL_CONSOLE_CLIENT_ADDRESS "198.51.100.99"

#define PL_TYPE_CONSOLE_SESSION (pl_console_session_get_type ())
G_DECLARE_FINAL_TYPE (PlConsoleSession, pl_console_session, PL, CONSOLE_SESSION, GObject)

/*
 * A store with the textbook's mailbox (bob, password hungry, two messages)
 * and a document (kind PL_DOCUMENT_CONSOLE) whose trace every connection
 * adds to. The server side is the project's own PlPop3Server and
 * PlSmtpServer, driven here as the simulator drives them: bytes in, bytes
 * and events out, events stamped with the time since the console opened.
 */
PlConsoleSession *pl_console_session_new          (void);
PlDocument       *pl_console_session_get_document (PlConsoleSession *self);

/*
 * Opens a connection to mail.b.example for @protocol (POP3 on port 110 or
 * SMTP on port 25), closing the one before. The server's greeting comes
 * out through the "output" signal (the octets as they would appear in a
 * telnet window) and into the trace.
 */
void              pl_console_session_connect      (PlConsoleSession *self,
                                                   PlProtocol        protocol);
/* Sends what the student typed, with CRLF added. FALSE when not connected. */
gboolean          pl_console_session_send_line    (PlConsoleSession *self,
                                                   const char       *line);
/* The student leaves without QUIT: a dropped connection (POP3 then deletes nothing). */
void              pl_console_session_disconnect   (PlConsoleSession *self);
gboolean          pl_console_session_is_connected (PlConsoleSession *self);
/* The server holds back its answer (a failed login is answered after a delay). */
gboolean          pl_console_session_is_waiting   (PlConsoleSession *self);

G_END_DECLS
