/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Whether this build runs under AddressSanitizer: memory Postlab would reuse is then freed, so misuse is caught. */
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define PL_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PL_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef PL_ADDRESS_SANITIZER
#define PL_ADDRESS_SANITIZER 0
#endif
