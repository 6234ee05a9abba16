/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What postlab-cli's subcommands share: option parsing and error messages. */
#define G_LOG_DOMAIN "postlab-cli"

#include "pl-cli.h"

#include <stdio.h>
#include <string.h>

void
pl_cli_error (const char *command,
              const char *format,
              ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "postlab-cli %s: %s\n", command, message);
  fflush (stderr);
}

int
pl_cli_usage_error (const char *command,
                    const char *format,
                    ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "postlab-cli %s: %s\nTry 'postlab-cli help %s'.\n", command, message, command);
  fflush (stderr);
  return PL_EXIT_USAGE;
}

gboolean
pl_cli_parse_options (const char          *command,
                      const char          *parameter,
                      const char          *summary,
                      const GOptionEntry  *entries,
                      int                 *argc,
                      char              ***argv,
                      int                 *exit_code)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gboolean help = FALSE;
  /*
   * GOption's own --help calls exit(); ours prints the same text and
   * returns, so the command can clean up like after any other outcome.
   */
  const GOptionEntry help_entries[] = {
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL }
  };

  context = g_option_context_new (parameter);
  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, help_entries, NULL);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *exit_code = pl_cli_usage_error (command, "%s", error->message);
      return FALSE;
    }
  if (help)
    {
      /* The usage line names g_get_prgname(), which main() set to "postlab-cli COMMAND". */
      g_autofree char *text = g_option_context_get_help (context, TRUE, NULL);

      fputs (text, stdout);
      *exit_code = PL_EXIT_OK;
      return FALSE;
    }
  return TRUE;
}

/* The curl -v look: "*" for what happens around the dialogue, "C:"/"S:" for each line of it. */
static void
print_prefixed (FILE       *out,
                const char *prefix,
                const char *text)
{
  const char *p = text;

  for (;;)
    {
      const char *nl = strchr (p, '\n');

      fputs (prefix, out);
      if (nl == NULL)
        {
          fputs (p, out);
          fputc ('\n', out);
          break;
        }
      fwrite (p, 1, (gsize) (nl - p), out);
      fputc ('\n', out);
      p = nl + 1;
    }
}

static void
on_text_session_opened (PlSession *session,
                        gpointer   user_data)
{
  PlCliDialoguePrinter *printer = user_data;

  fprintf (printer->out, "* Connected to %s (%s) from %s\n", printer->host, session->server, session->client);
  fflush (printer->out);
}

static void
on_text_event_added (PlSession *session,
                     PlEvent   *event,
                     gpointer   user_data)
{
  PlCliDialoguePrinter *printer = user_data;
  const char *prefix;

  switch (event->dir)
    {
    case PL_DIR_CLIENT: prefix = "C: "; break;
    case PL_DIR_SERVER: prefix = "S: "; break;
    case PL_DIR_NONE:
    default:            prefix = "* "; break;
    }
  print_prefixed (printer->out, prefix, event->text);
  fflush (printer->out);
}

static void
on_text_session_closed (PlSession *session,
                        gpointer   user_data)
{
  PlCliDialoguePrinter *printer = user_data;

  fprintf (printer->out, "* Connection closed\n");
  fflush (printer->out);
}

static const PlTraceListener text_listener = {
  on_text_session_opened,
  on_text_event_added,
  on_text_session_closed,
};

/*
 * Prints each event of @trace to @printer->out as it happens, the way curl -v
 * shows a dialogue: "C: " and "S: " before each line, "* " before what
 * happens around it. Returns the listener id, for pl_trace_remove_listener().
 */
gulong
pl_cli_print_dialogue (PlTrace              *trace,
                       PlCliDialoguePrinter *printer)
{
  return pl_trace_add_listener (trace, &text_listener, printer);
}
