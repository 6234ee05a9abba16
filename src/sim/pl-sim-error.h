/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulator's error domain. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_SIM_ERROR (pl_sim_error_quark ())

typedef enum {
  PL_SIM_ERROR_SCENARIO,  /* a scenario that cannot be run: the message names the file and line */
  PL_SIM_ERROR_WORLD,     /* the world file named by a scenario is missing or wrong */
  PL_SIM_ERROR_IO,        /* writing an output (the pcap) failed */
} PlSimError;

GQuark pl_sim_error_quark (void);

G_END_DECLS
