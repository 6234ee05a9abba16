/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The error domain of src/net: what can go wrong putting an engine on a real socket. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_NET_ERROR (pl_net_error_quark ())

typedef enum {
  PL_NET_ERROR_ADDRESS,      /* not an IP address we can listen on or connect to */
  PL_NET_ERROR_IN_USE,       /* the port is taken by another program */
  PL_NET_ERROR_UNAVAILABLE,  /* the address is not on this machine (e.g. IPv6 switched off) */
  PL_NET_ERROR_CONNECT,      /* the connection could not be made (refused, no route, unknown host) */
  PL_NET_ERROR_TIMEOUT,      /* connecting, or waiting for the peer, took too long */
  PL_NET_ERROR_CLOSED,       /* the peer closed the connection before the dialogue was over */
  PL_NET_ERROR_IO,           /* the socket failed (reset, broken pipe, ...) */
} PlNetError;

GQuark pl_net_error_quark (void);

G_END_DECLS
