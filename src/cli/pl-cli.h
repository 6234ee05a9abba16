/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What postlab-cli's subcommands share: exit codes, the command table entry, option helpers. */
#pragma once

#include <stdio.h>

#include <glib.h>

#include "pl-trace.h"

G_BEGIN_DECLS

/* Exit codes of every subcommand. */
typedef enum {
  PL_EXIT_OK      = 0,
  PL_EXIT_REFUSED = 1,  /* the peer said no (POP3 -ERR) */
  PL_EXIT_USAGE   = 2,  /* bad arguments, or the setup failed (port in use, unreadable data folder) */
} PlExitCode;

typedef struct {
  const char *name;
  const char *synopsis;   /* arguments, for the overview */
  const char *summary;    /* one line */
  /* argv[0] is the command's name; returns a PlExitCode. */
  int       (*run)      (int    argc,
                         char **argv);
} PlCliCommand;

int  pl_cmd_serve (int    argc,
                   char **argv);
int  pl_cmd_fetch (int    argc,
                   char **argv);
int  pl_cmd_textbook (int    argc,
                      char **argv);
int  pl_cmd_trace (int    argc,
                   char **argv);
int  pl_cmd_capture (int    argc,
                     char **argv);
int  pl_cmd_interfaces (int    argc,
                        char **argv);
int  pl_cmd_send (int    argc,
                  char **argv);
int  pl_cmd_simulate (int    argc,
                      char **argv);

/*
 * Parses a subcommand's options with GOptionContext. "--help" (and "-h")
 * prints the command's help and sets *@help_shown; a bad option prints what
 * was wrong and where to look. Returns FALSE when the command should stop,
 * with *@exit_code set (PL_EXIT_OK after help, PL_EXIT_USAGE after an error).
 */
gboolean pl_cli_parse_options (const char          *command,
                               const char          *parameter,
                               const char          *summary,
                               const GOptionEntry  *entries,
                               int                 *argc,
                               char              ***argv,
                               int                 *exit_code);

/* Prints "postlab-cli COMMAND: MESSAGE" and a hint to stderr; returns PL_EXIT_USAGE. */
int      pl_cli_usage_error   (const char          *command,
                               const char          *format,
                               ...) G_GNUC_PRINTF (2, 3);
/* Prints "postlab-cli COMMAND: MESSAGE" to stderr. */
void     pl_cli_error         (const char          *command,
                               const char          *format,
                               ...) G_GNUC_PRINTF (2, 3);

/* Where pl_cli_print_dialogue() prints, and the host name it says it connected to. */
typedef struct {
  FILE       *out;
  const char *host;
} PlCliDialoguePrinter;

gulong   pl_cli_print_dialogue (PlTrace              *trace,
                                PlCliDialoguePrinter *printer);

G_END_DECLS
