/*
 * cw_jsmn.c - the one copy of jsmn's code in chatwire (see cw_jsmn.h).
 */
#define CW_JSMN_IMPLEMENTATION
#include "cw_jsmn.h"
