/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A test assertion shared by the layers' tests: two events are the same unit, field by field. */
#pragma once

#include <glib.h>

#include "pl-event.h"

/* @a and @b have the same kind, direction, octets and strings (not the same session or time). */
static inline void
pl_test_assert_same_event (const PlEvent *a,
                           const PlEvent *b)
{
  g_assert_cmpint (a->kind, ==, b->kind);
  g_assert_cmpint (a->dir, ==, b->dir);
  g_assert_cmpint (a->octets == NULL, ==, b->octets == NULL);
  if (a->octets != NULL)
    g_assert_true (g_bytes_equal (a->octets, b->octets));
  g_assert_cmpstr (a->text, ==, b->text);
  g_assert_cmpstr (a->verb, ==, b->verb);
  g_assert_cmpstr (a->args, ==, b->args);
  g_assert_cmpstr (a->status, ==, b->status);
  g_assert_cmpstr (a->tag, ==, b->tag);
}
