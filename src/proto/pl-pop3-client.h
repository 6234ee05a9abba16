/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlPop3Client: the client side of POP3 (RFC 1939), sans-I/O. */
#pragma once

#include "pl-engine.h"

G_BEGIN_DECLS

typedef struct {
  const char         *user;
  const char         *password;
  /* Mark each message deleted once retrieved (download-and-delete). */
  gboolean            delete_after_retrieve;
  /*
   * When set, instead of the fetch plan, send these command lines (without
   * line ends) one at a time, each after the reply to the one before, as a
   * person at telnet would; "user bob", "list", "retr 1", ... The reply's
   * shape comes from the grammar (pl_pop3_reply_is_multiline()).
   */
  const char *const  *script;
} PlPop3ClientConfig;

typedef enum {
  PL_POP3_CLIENT_GREETING = 0,  /* waiting for the server's greeting */
  PL_POP3_CLIENT_USER,
  PL_POP3_CLIENT_PASS,
  PL_POP3_CLIENT_LIST,
  PL_POP3_CLIENT_RETR,
  PL_POP3_CLIENT_DELE,
  PL_POP3_CLIENT_QUIT,
  PL_POP3_CLIENT_SCRIPT,        /* running a script */
  PL_POP3_CLIENT_DONE,
} PlPop3ClientState;

#define PL_TYPE_POP3_CLIENT (pl_pop3_client_get_type ())
G_DECLARE_FINAL_TYPE (PlPop3Client, pl_pop3_client, PL, POP3_CLIENT, PlEngine)

/*
 * pl_pop3_client_new:
 * A client that logs in, lists the maildrop, retrieves every message (and
 * deletes it, if asked), and quits: USER, PASS, LIST, RETR n [DELE n]...,
 * QUIT. On "-ERR" it quits and finishes as failed. The config is copied.
 *
 * With a script, every line is sent whatever the reply to the one before
 * (an "-ERR" is remembered, see pl_pop3_client_get_error()), and the
 * client finishes, not failed, after the last reply; it fails only when
 * the connection drops before that.
 */
PlEngine *pl_pop3_client_new             (const PlPop3ClientConfig *config);
/* As pl_pop3_client_new (@config), in an engine whose session is over (buffers kept): for the simulator. */
gboolean  pl_pop3_client_reset           (PlPop3Client             *self,
                                          const PlPop3ClientConfig *config);
/* How many RETR were answered "+OK" so far. */
guint     pl_pop3_client_get_n_messages  (PlPop3Client             *self);
/*
 * The n-th retrieved message (0-based), un-dot-stuffed, CRLF line ends as
 * the server sent them. Borrowed (lives as long as the client), or NULL.
 */
GBytes   *pl_pop3_client_get_message     (PlPop3Client             *self,
                                          guint                     index);
/*
 * The status line of the last "-ERR" (or unreadable) reply without its line
 * end, "-ERR [AUTH] invalid user name or password", or why the session broke
 * off; NULL while all goes well.
 */
const char *pl_pop3_client_get_error     (PlPop3Client             *self);

G_END_DECLS
