/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What each command and reply means, with the RFC section that says so. */
#pragma once

#include "pl-event.h"

G_BEGIN_DECLS

typedef struct {
  PlProtocol   protocol;
  PlDirection  dir;        /* C for a command verb, S for a reply status */
  const char  *key;        /* verb ("RETR") or status ("+OK", "250", "2"); upper case */
  const char  *summary;    /* one sentence a student can read */
  const char  *reference;  /* "RFC 1939 section 7" */
} PlExplanation;

const PlExplanation *pl_explain          (PlProtocol     protocol,
                                          PlDirection    dir,
                                          const char    *key);
const PlExplanation *pl_explain_event    (PlProtocol     protocol,
                                          const PlEvent *event);

G_END_DECLS
