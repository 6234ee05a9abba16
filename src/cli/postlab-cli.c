/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli: the headless program, one subcommand per job (serve, fetch, ...). */
#define G_LOG_DOMAIN "postlab-cli"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli.h"

static int run_help (int argc, char **argv);

/* Adding a command is adding a row (and its pl-cmd-NAME.c). */
static const PlCliCommand commands[] = {
  { "serve", "[--world FILE] [--data DIR] [--listen ADDR] [--port SERVER:SERVICE=N] [--verbose]",
    "Run the world's mail servers (SMTP push, relay, POP3) on real loopback sockets", pl_cmd_serve },
  { "fetch", "pop3://USER:PASS@HOST[:PORT] [--delete] [--json]",
    "Fetch every message with Postlab's own POP3 client, showing the dialogue", pl_cmd_fetch },
  { "send", "--from ADDR --to ADDR... [--subject S] [--body-file F|-] [--server HOST:PORT] [--auth USER:PASS]",
    "Send a message with Postlab's own SMTP client, showing the dialogue", pl_cmd_send },
  { "simulate", "[SCENARIO] [--json] [--pcap OUT] [--explain]",
    "Run the mail path in virtual time (default: the textbook's), optionally as a pcap", pl_cmd_simulate },
  { "textbook", "[HOST[:PORT]]",
    "Type the textbook's POP3 session (user bob, pass hungry, list, retr 1, ...) against a server", pl_cmd_textbook },
  { "trace", "FILE|- [--json] [-f BPF] [--session N] [--explain]",
    "Show the mail sessions in a pcap or pcapng capture (- reads standard input)", pl_cmd_trace },
  { "capture", "[-i IFACE] [-f BPF] [-w OUT.pcap] [--json] [-c COUNT]",
    "Capture live and show the mail sessions as they happen (needs root or capture rights)", pl_cmd_capture },
  { "interfaces", "",
    "List the interfaces that capture can listen on", pl_cmd_interfaces },
  { "help", "[COMMAND]",
    "Show this overview, or the options of one command", run_help },
};

static const PlCliCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static void
print_overview (FILE *out)
{
  fprintf (out,
           "Usage: postlab-cli [--version] COMMAND [ARGS...]\n"
           "\n"
           "Postlab shows how email moves: SMTP pushes mail between servers,\n"
           "POP3, IMAP and webmail pull it to the user.\n"
           "\n"
           "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n           %s\n", commands[i].name, commands[i].synopsis, commands[i].summary);
  fprintf (out,
           "\n"
           "'postlab-cli help COMMAND' (or 'postlab-cli COMMAND --help') lists a command's options.\n"
           "Exit status: 0 done, 1 the server refused (-ERR), 2 a usage or setup error.\n");
}

static void
set_program_name (const char *command)
{
  g_autofree char *name = g_strdup_printf ("postlab-cli %s", command);

  g_set_prgname (name);
}

static int
run_help (int    argc,
          char **argv)
{
  const PlCliCommand *command;
  char *help_argv[] = { NULL, (char *) "--help", NULL };

  if (argc < 2)
    {
      print_overview (stdout);
      return PL_EXIT_OK;
    }
  if (argc > 2)
    return pl_cli_usage_error ("help", "give one command name, not %d", argc - 1);

  command = find_command (argv[1]);
  if (command == NULL)
    return pl_cli_usage_error ("help", "there is no command '%s'", argv[1]);
  if (command->run == run_help)
    {
      print_overview (stdout);
      return PL_EXIT_OK;
    }
  set_program_name (command->name);
  help_argv[0] = (char *) command->name;
  return command->run (2, help_argv);
}

int
main (int    argc,
      char **argv)
{
  const PlCliCommand *command;

  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      print_overview (stderr);
      return PL_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--version") || g_str_equal (argv[1], "-V"))
    {
      printf ("postlab-cli %s\n", PACKAGE_VERSION);
      return PL_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_overview (stdout);
      return PL_EXIT_OK;
    }
  if (argv[1][0] == '-')
    {
      fprintf (stderr, "postlab-cli: unknown option '%s' (options go after the command)\n"
                       "Try 'postlab-cli help'.\n", argv[1]);
      return PL_EXIT_USAGE;
    }

  command = find_command (argv[1]);
  if (command == NULL)
    {
      fprintf (stderr, "postlab-cli: there is no command '%s'\nTry 'postlab-cli help'.\n", argv[1]);
      return PL_EXIT_USAGE;
    }
  set_program_name (command->name);
  return command->run (argc - 1, argv + 1);
}
