/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSession: one TCP connection of a trace, and PlHost, a box in the picture. */
#pragma once

#include <glib-object.h>

#include "pl-types.h"

G_BEGIN_DECLS

#define PL_TYPE_SESSION (pl_session_get_type ())
#define PL_TYPE_HOST    (pl_host_get_type ())

/*
 * A named box in the topology: a user agent or a mail server. A user may
 * have several devices (Bob's laptop, phone and browser), each its own host
 * with the same @owner.
 */
typedef struct _PlHost {
  /*< private >*/
  gint        ref_count;
  /*< public >*/
  char       *name;      /* "mail.b.example", "bob-laptop" */
  PlHostRole  role;
  char       *owner;     /* the user a user agent belongs to, or NULL */
  char       *address;   /* "127.0.0.1", "192.0.2.10", or NULL */
} PlHost;

GType    pl_host_get_type (void) G_GNUC_CONST;
PlHost  *pl_host_new      (const char *name,
                           PlHostRole  role,
                           const char *owner,
                           const char *address);
PlHost  *pl_host_ref      (PlHost     *host);
void     pl_host_unref    (PlHost     *host);

/*
 * One TCP connection. Endpoints are "address:port" strings ("[::1]:1110" for
 * IPv6). Notes hold what happened to the session as a whole (a gap, STARTTLS,
 * truncation); per-moment notes are also events of kind PL_EVENT_NOTE.
 */
typedef struct _PlSession {
  /*< private >*/
  gint        ref_count;
  /*< public >*/
  guint       id;          /* 1, 2, ... in order of appearance in the trace */
  PlProtocol  protocol;
  PlHop       hop;
  char       *client;      /* endpoint */
  char       *server;      /* endpoint */
  PlHost     *client_host; /* optional */
  PlHost     *server_host; /* optional */
  double      open_time;
  double      close_time;  /* < 0 while open */
  gboolean    encrypted;
  GPtrArray  *notes;       /* of char*, session-wide remarks */
} PlSession;

GType       pl_session_get_type (void) G_GNUC_CONST;
PlSession  *pl_session_new      (PlProtocol  protocol,
                                 const char *client,
                                 const char *server,
                                 double      open_time);
PlSession  *pl_session_ref      (PlSession  *session);
void        pl_session_unref    (PlSession  *session);
void        pl_session_add_note (PlSession  *session,
                                 const char *note);
gboolean    pl_session_is_open  (const PlSession *session);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlHost, pl_host_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSession, pl_session_unref)

G_END_DECLS
