/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The tracer's error domain: what can go wrong reading a capture. */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-trace-error.h"

G_DEFINE_QUARK (postlab-trace-error-quark, pl_trace_error)
