/*
 * cw_jsmn.h - jsmn (libjsmn-dev, header-only) as chatwire uses it.
 *
 * jsmn is compiled once, in cw_jsmn.c, so that it is one object of its own
 * (a dependency, measured apart from chatwire's code) and so that every
 * file sees the same configuration. Its two functions are renamed: an
 * application that uses jsmn itself, with other options, links without a
 * clash.
 *
 * JSMN_STRICT: primitives must be true, false, null or numbers, and an
 * object's keys must be strings. jsmn still lets a few broken texts through;
 * cw_json.c checks the bytes between the tokens for those.
 */
#ifndef CW_JSMN_H
#define CW_JSMN_H

#define JSMN_STRICT
#define jsmn_init cw_jsmn_init
#define jsmn_parse cw_jsmn_parse
#ifndef CW_JSMN_IMPLEMENTATION
#define JSMN_HEADER
#endif
#include <jsmn.h>
#ifndef JSMN_API
#error "chatwire needs jsmn 1.1.0's header-only jsmn.h (it defines JSMN_API); this jsmn.h only declares the functions (an older jsmn, or ESP-IDF's espressif/jsmn)"
#endif

#endif /* CW_JSMN_H */
