/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulator's error domain. */
#define G_LOG_DOMAIN "postlab-sim"

#include "pl-sim-error.h"

G_DEFINE_QUARK (pl-sim-error-quark, pl_sim_error)
