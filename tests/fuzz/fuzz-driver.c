/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A main() for fuzz targets built without a fuzzer: every file named (or in a folder named) is run once. */
#define G_LOG_DOMAIN "postlab-fuzz"

#include <stdint.h>
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerInitialize   (int            *argc,
                            char         ***argv);
int LLVMFuzzerTestOneInput (const uint8_t  *data,
                            size_t          size);

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* @path, or the files of folder @path in name order (a corpus), to @files. */
static gboolean
collect (const char  *path,
         GPtrArray   *files,
         GError     **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return TRUE;
    }
  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return FALSE;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    if (!g_file_test (g_ptr_array_index (names, i), G_FILE_TEST_IS_DIR))
      g_ptr_array_add (files, g_strdup (g_ptr_array_index (names, i)));
  return TRUE;
}

/*
 * GLib's fuzzing/driver.c, for a build without libFuzzer: the target runs
 * on each input of its corpus as an ordinary test, so what the fuzzer once
 * found stays fixed. Exits 0 when every input ran; a crash is the failure.
 */
int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE-OR-CORPUS-FOLDER...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!collect (argv[i], files, &error))
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
    }
  if (files->len == 0)
    {
      printf ("no inputs in %s: nothing to run\n", argv[1]);
      return 77;
    }
  LLVMFuzzerInitialize (&argc, &argv);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autoptr(GError) error = NULL;
      g_autofree char *data = NULL;
      gsize len;

      if (!g_file_get_contents (path, &data, &len, &error))
        {
          fprintf (stderr, "%s: %s\n", argv[0], error->message);
          return 1;
        }
      LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
      printf ("ran %s (%" G_GSIZE_FORMAT " octets)\n", path, len);
    }
  printf ("%u inputs ran\n", files->len);
  return 0;
}
