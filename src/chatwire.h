/*
 * chatwire.h - forwards to include/chatwire.h, for builds that put only src/ on the
 * include path (the Arduino library layout). The public header is
 * include/chatwire.h.
 */
#include "../include/chatwire.h"
