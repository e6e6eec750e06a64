/*
 * cw_lwip_port.c - compiles ports/lwip/cw_lwip.c in the Arduino library
 * layout (which builds src/ only), on the cores that have lwIP sockets.
 */
#if defined(ARDUINO_ARCH_ESP32)
#include "../../ports/lwip/cw_lwip.c"
#else
typedef int cw_arduino_no_lwip; /* ISO C: no empty translation unit */
#endif
