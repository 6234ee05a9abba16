/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What postlab-cli's subcommands share: option parsing and error messages. */
#define G_LOG_DOMAIN "postlab-cli"

#include "pl-cli.h"

#include <stdio.h>

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
