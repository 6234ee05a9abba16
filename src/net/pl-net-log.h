/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlNetLog: where a server's lines for a person go (a caller's function, or GLib's log). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One line for a person: what a server did with a message; @warning for trouble to act on. */
typedef void (*PlNetLogFunc) (gboolean    warning,
                              const char *line,
                              gpointer    user_data);

/*
 * A server's log: @func (with @data) when set, otherwise g_debug() for
 * ordinary lines and g_warning() for trouble, so that a server embedded
 * without a log function still says what went wrong.
 */
typedef struct {
  PlNetLogFunc func;
  gpointer     data;
} PlNetLog;

void pl_net_log_line (const PlNetLog *log,
                      gboolean        warning,
                      const char     *line);
void pl_net_log      (const PlNetLog *log,
                      gboolean        warning,
                      const char     *prefix,
                      const char     *format,
                      ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS
