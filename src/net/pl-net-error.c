/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The error domain of src/net: what can go wrong putting an engine on a real socket. */
#define G_LOG_DOMAIN "postlab-net"

#include "pl-net-error.h"

G_DEFINE_QUARK (pl-net-error-quark, pl_net_error)
