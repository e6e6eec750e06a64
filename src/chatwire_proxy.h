/*
 * chatwire_proxy.h - forwards to include/chatwire_proxy.h, for builds that put only src/ on the
 * include path (the Arduino library layout). The public header is
 * include/chatwire_proxy.h.
 */
#include "../include/chatwire_proxy.h"
