/*
 * cw_tls_port.c - compiles ports/mbedtls/cw_tls.c in the Arduino library
 * layout (which builds src/ only), on the cores that have mbedTLS.
 */
#if defined(ARDUINO_ARCH_ESP32)
#include "../../ports/mbedtls/cw_tls.c"
#else
typedef int cw_arduino_no_tls; /* ISO C: no empty translation unit */
#endif
