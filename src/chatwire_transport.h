/*
 * chatwire_transport.h - forwards to include/chatwire_transport.h, for builds that put only src/ on the
 * include path (the Arduino library layout). The public header is
 * include/chatwire_transport.h.
 */
#include "../include/chatwire_transport.h"
