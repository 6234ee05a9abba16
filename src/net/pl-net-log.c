/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlNetLog: where a server's lines for a person go (a caller's function, or GLib's log). */
#define G_LOG_DOMAIN "postlab-net"

#include "pl-net-log.h"

/* Hands @line to the log's function, or to GLib's log when there is none. */
void
pl_net_log_line (const PlNetLog *log,
                 gboolean        warning,
                 const char     *line)
{
  g_return_if_fail (log != NULL);
  g_return_if_fail (line != NULL);

  if (log->func != NULL)
    log->func (warning, line, log->data);
  else if (warning)
    g_warning ("%s", line);
  else
    g_debug ("%s", line);
}

/* Formats one line, "PREFIX: text" (the server's host name first, so that a
 * person reading the log of several servers knows which one spoke). */
void
pl_net_log (const PlNetLog *log,
            gboolean        warning,
            const char     *prefix,
            const char     *format,
            ...)
{
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  va_list args;

  g_return_if_fail (log != NULL);
  g_return_if_fail (format != NULL);

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  line = prefix != NULL ? g_strdup_printf ("%s: %s", prefix, text) : g_steal_pointer (&text);
  pl_net_log_line (log, warning, line);
}
