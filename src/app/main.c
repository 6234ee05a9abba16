/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Entry point of `postlab`, the GTK4 application: sets up gettext and runs PlApplication. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include "pl-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PlApplication) app = NULL;
  int status;

  /* Before anything can print a translated string, option help included. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = pl_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);

  /* GApplication reports 0 whenever its main loop ran; a --screenshot run
   * that failed to write its file must still fail. */
  if (status == 0)
    status = pl_application_get_exit_status (app);

  return status;
}
